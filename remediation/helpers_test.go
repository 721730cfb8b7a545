package remediation

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/fakeclock"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

var groups = approval.StaticGroups{
	"secops":         {"sam@example.com", "sue@example.com"},
	"security-leads": {"lee@example.com"},
}

type env struct {
	svc   *approval.Service
	clock *fakeclock.Clock
	log   *audit.Log
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := approval.OpenBolt(filepath.Join(t.TempDir(), "approval.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	l, err := audit.Open(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	clock := fakeclock.New(t0)
	svc, err := approval.NewService(approval.Options{Store: store, Audit: l, Groups: groups, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, clock: clock, log: l}
}

// key1 is an idle admin access key, shaped like what the graph query
// returns for it.
func key1() Target {
	return Target{
		ID: "aws:123456789012:access_key/AKIA…WXYZ", Name: "AKIA…WXYZ", Kind: graph.KindCredential, Source: "aws:123456789012",
		OwnerEmail: "Owner@Example.com",
		Why:        []string{"admin via group Admins (AdministratorAccess)", "last used 2025-08-01, 115 days idle"},
		Expect:     map[string]string{"status": "active"},
	}
}

func key2() Target {
	t := key1()
	t.ID, t.Name, t.OwnerEmail = "aws:123456789012:access_key/AKIA…ABCD", "AKIA…ABCD", "dev@example.com"
	return t
}

// orphan has no owner.
func orphan() Target {
	t := key1()
	t.ID, t.Name, t.OwnerEmail = "aws:123456789012:access_key/AKIA…0000", "AKIA…0000", ""
	return t
}

// notifier stands in for the Slack notifier that executes notify_owner.
type notifier struct{ sent []string }

func (n *notifier) Execute(_ context.Context, a connectors.Action) (connectors.Step, error) {
	n.sent = append(n.sent, a.Target)
	return connectors.Step{Call: "slack DM to owner of " + a.Target}, nil
}

// finder returns the current matches for each plan.
type finder struct {
	matches map[string][]Target // by plan JSON
	err     map[string]error
	calls   int
}

func (f *finder) Find(_ context.Context, plan json.RawMessage, _ time.Time) ([]Target, error) {
	f.calls++
	if err := f.err[string(plan)]; err != nil {
		return nil, err
	}
	return f.matches[string(plan)], nil
}
