package workflow

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/audittest"
	"github.com/steward-oss/steward/internal/fakeclock"
	"github.com/steward-oss/steward/internal/testgraph"
)

// t0 is the fixture's reference time.
var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func loadIndex(t *testing.T) *graph.Index {
	t.Helper()
	return testgraph.Load(t, "testdata/graph.jsonl")
}

var groups = approval.StaticGroups{"secops": {"sam@example.com", "sue@example.com"}}

// env is one approval service over a bbolt store and an audit log, both
// in a temporary directory, with a fake clock.
type env struct {
	svc      *approval.Service
	clock    *fakeclock.Clock
	log      *audit.Log
	auditLog string
	graph    testgraph.Source
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	store, err := approval.OpenStore(context.Background(), filepath.Join(dir, "approvals.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	path := filepath.Join(dir, "audit.log")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	clock := fakeclock.New(t0)
	svc, err := approval.NewService(approval.Options{Store: store, Audit: l, Groups: groups, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, clock: clock, log: l, auditLog: path, graph: testgraph.NewSource(loadIndex(t))}
}

func (e *env) proposer(t *testing.T, group string) *Proposer {
	t.Helper()
	p, err := NewProposer(ProposerOptions{Approvals: e.svc, Graph: e.graph, Clock: e.clock, Group: group, Expiry: 3 * day})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// records returns the audit log's records, after checking its chain.
func (e *env) records(t *testing.T) []audit.Record {
	t.Helper()
	if _, err := audit.VerifyFile(e.auditLog); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	return audittest.Records(t, e.auditLog)
}
