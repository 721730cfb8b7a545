package approval

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/internal/fakeclock"
	"github.com/steward-oss/steward/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

var testGroups = StaticGroups{
	"secops":         {"sam@example.com", "sue@example.com", "req@example.com"},
	"security-leads": {"lee@example.com"},
}

var (
	requester = Actor{ID: "req@example.com", Where: audit.WhereCLI}
	sam       = Actor{ID: "sam@example.com", Where: audit.WhereSlack}
	sue       = Actor{ID: "Sue@Example.com", Where: audit.WhereSlack}
	owner     = Actor{ID: "owner@example.com", Where: audit.WhereSlack}
	lee       = Actor{ID: "lee@example.com", Where: audit.WhereSlack}
	mallory   = Actor{ID: "mallory@example.com", Where: audit.WhereHTTP}
)

// env is one Service over a store, with a real audit log and a fake clock.
type env struct {
	svc   *Service
	store Store
	clock *fakeclock.Clock
	log   *audit.Log
}

// storeMakers returns constructors for every Store implementation; the
// postgres one skips (or fails under CI=true) without a server.
func storeMakers() map[string]func(t *testing.T) Store {
	return map[string]func(t *testing.T) Store{
		"bolt": func(t *testing.T) Store {
			s, err := OpenBolt(filepath.Join(t.TempDir(), "approval.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) Store {
			srv := pgtest.Start(t)
			dsn := srv.CreateDB(t, t.Name())
			s, err := OpenPostgres(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// forEachStore runs f once per Store implementation.
func forEachStore(t *testing.T, f func(t *testing.T, mk func(t *testing.T) Store)) {
	for _, name := range []string{"bolt", "postgres"} {
		mk := storeMakers()[name]
		t.Run(name, func(t *testing.T) { f(t, mk) })
	}
}

func newEnv(t *testing.T, store Store) *env {
	t.Helper()
	l, err := audit.Open(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	clock := fakeclock.New(t0)
	svc, err := NewService(Options{Store: store, Audit: l, Groups: testGroups, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, store: store, clock: clock, log: l}
}

// sampleProposal needs two approvals from the owner and secops and
// escalates to security-leads after three days.
func sampleProposal() *Proposal {
	return &Proposal{
		Key:           "idle-admin-keys/1/aws:123456789012:user/etl",
		Policy:        "idle-admin-keys",
		Stage:         1,
		Justification: "admin key idle for 400 days",
		Actions: []connectors.Action{
			{Type: "disable_credential", Target: "aws:123456789012:access_key/AKIA…WXYZ"},
			{Type: "deactivate_identity", Target: "aws:123456789012:user/etl"},
			{Type: "revoke_grant", Target: "aws:123456789012:policy/AdministratorAccess", Params: map[string]string{"principal": "aws:123456789012:user/etl"}},
		},
		Rule: Rule{
			Required: 2, Owners: []string{"owner@example.com"}, Group: "secops",
			EscalateTo: "security-leads", EscalationTTL: 48 * time.Hour,
		},
		OnExpiry:  ExpiryEscalate,
		ExpiresAt: t0.Add(72 * time.Hour),
		Document:  json.RawMessage(`{"plan": {"find": "credential", "where": {"idle_days": 90}},  "targets": ["aws:123456789012:user/etl"]}`),
	}
}

func (e *env) propose(t *testing.T, p *Proposal) *Proposal {
	t.Helper()
	got, err := e.svc.Propose(context.Background(), p, requester)
	if err != nil {
		t.Fatalf("Propose: %v", err)
	}
	return got
}

func (e *env) approved(t *testing.T) *Proposal {
	t.Helper()
	p := e.propose(t, sampleProposal())
	ctx := context.Background()
	if _, err := e.svc.Approve(ctx, p.ID, sam, "checked the evidence"); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Approve(ctx, p.ID, owner, "not needed any more")
	if err != nil {
		t.Fatal(err)
	}
	if p.State != StateApproved {
		t.Fatalf("state after two approvals = %s", p.State)
	}
	return p
}

// recorder is an Executor and Undoer that records calls; failAt makes one
// action index fail.
type recorder struct {
	mu     sync.Mutex
	calls  []string
	undos  []string
	failAt map[string]error
}

func (r *recorder) Execute(_ context.Context, a connectors.Action) (connectors.Step, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, a.Target)
	if err := r.failAt[a.Target]; err != nil {
		return connectors.Step{}, err
	}
	return connectors.Step{Call: string(a.Type) + " " + a.Target, Undo: map[string]string{"target": a.Target}}, nil
}

func (r *recorder) Rollback(_ context.Context, a connectors.Action, done connectors.Step) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if done.Undo["target"] != a.Target {
		return errors.New("undo data lost")
	}
	r.undos = append(r.undos, a.Target)
	return r.failAt["undo "+a.Target]
}

// failingAudit fails every append.
type failingAudit struct{}

func (failingAudit) Append(context.Context, audit.Record) (audit.Record, error) {
	return audit.Record{}, errors.New("disk full")
}

func pgtestStart(t *testing.T) *pgtest.Server { return pgtest.Start(t) }
