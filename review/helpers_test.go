package review

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/audittest"
	"github.com/steward-oss/steward/internal/fakeclock"
	"github.com/steward-oss/steward/internal/testgraph"
)

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// notices records what reviewers were told.
type notices struct {
	mu  sync.Mutex
	all []Notice
}

func (n *notices) Notify(_ context.Context, x Notice) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.all = append(n.all, x)
}

// items returns, per reviewer, the item ids of notices of kind.
func (n *notices) items(kind string) map[string][]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string][]string{}
	for _, x := range n.all {
		if x.Kind != kind {
			continue
		}
		for _, it := range x.Items {
			out[x.Reviewer] = append(out[x.Reviewer], it.Snapshot.Name)
		}
	}
	return out
}

type fixture struct {
	svc      *Service
	approval *approval.Service
	clock    *fakeclock.Clock
	notices  *notices
	auditLog string
	ix       *graph.Index
}

func loadOrg(t *testing.T) *graph.Index {
	t.Helper()
	return testgraph.Load(t, "testdata/org.jsonl")
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	fx := &fixture{clock: fakeclock.New(t0), notices: &notices{}, auditLog: filepath.Join(dir, "audit.log"), ix: loadOrg(t)}
	log, err := audit.Open(fx.auditLog, audit.WithClock(fx.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	ast, err := approval.OpenBolt(filepath.Join(dir, "approvals.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ast.Close() })
	rst, err := OpenBolt(filepath.Join(dir, "reviews.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rst.Close() })
	c := campaign(t)
	groups := Groups{Campaigns: []*Campaign{c}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if fx.approval, err = approval.NewService(approval.Options{Store: ast, Audit: log, Groups: groups, Clock: fx.clock, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if fx.svc, err = NewService(Options{Store: rst, Audit: log, Approvals: fx.approval, Graph: testgraph.NewSource(fx.ix), Groups: groups,
		Notifier: fx.notices, Clock: fx.clock, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	return fx
}

func campaign(t *testing.T) *Campaign {
	t.Helper()
	b, err := os.ReadFile("testdata/campaigns/admins.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCampaign("admins.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func records(t *testing.T, path string) []audit.Record { return audittest.Records(t, path) }

func itemByName(t *testing.T, in *Instance, name string) *Item {
	t.Helper()
	for _, it := range in.Items {
		if it.Snapshot.Name == name {
			return it
		}
	}
	t.Fatalf("no item %s", name)
	return nil
}
