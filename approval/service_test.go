package approval

import (
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/internal/fakeclock"
)

func auditActions(t *testing.T, l *audit.Log) []string {
	t.Helper()
	f, err := os.Open(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	var buf strings.Builder
	if _, err := audit.Export(&buf, f); err != nil {
		t.Fatalf("audit log does not verify: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		i := strings.Index(line, `"action":"`)
		rest := line[i+len(`"action":"`):]
		out = append(out, rest[:strings.Index(rest, `"`)])
	}
	return out
}

func TestApproveExecuteFlow(t *testing.T) {
	forEachStore(t, func(t *testing.T, mk func(*testing.T) Store) {
		e := newEnv(t, mk(t))
		ctx := context.Background()
		p := e.propose(t, sampleProposal())
		if p.State != StateProposed || p.Digest == "" || p.Requester != requester.ID {
			t.Fatalf("proposed = %+v", p)
		}
		p, err := e.svc.Approve(ctx, p.ID, sam, "evidence checked")
		if err != nil {
			t.Fatal(err)
		}
		if p.State != StateProposed || len(p.Approvals()) != 1 {
			t.Fatalf("after one of two approvals: state %s approvals %v", p.State, p.Approvals())
		}
		p, err = e.svc.Approve(ctx, p.ID, sue, "agreed")
		if err != nil {
			t.Fatal(err)
		}
		if p.State != StateApproved {
			t.Fatalf("after two approvals: %s", p.State)
		}
		for _, d := range p.Decisions {
			if d.Digest != p.Digest {
				t.Errorf("decision by %s bound to digest %s, want %s", d.Actor.ID, d.Digest, p.Digest)
			}
		}
		rec := &recorder{}
		p, err = e.svc.Execute(ctx, p.ID, rec, sam)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != StateDone {
			t.Fatalf("after execute: %s (%s)", p.State, p.Reason)
		}
		want := []string{p.Actions[0].Target, p.Actions[1].Target, p.Actions[2].Target}
		if !slices.Equal(rec.calls, want) {
			t.Errorf("calls = %v, want %v", rec.calls, want)
		}
		var phases []string
		for _, j := range p.Journal {
			phases = append(phases, string(j.Phase))
		}
		if got := strings.Join(phases, ","); got != "started,done,started,done,started,done" {
			t.Errorf("journal = %s", got)
		}
		stored, err := e.store.Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(stored, p) {
			t.Errorf("stored proposal differs from returned one")
		}
		got := auditActions(t, e.log)
		wantAudit := []string{"proposal", "approval", "approval", "execution",
			"execution", "execution", "execution", "execution", "execution", "execution", "execution"}
		if !slices.Equal(got, wantAudit) {
			t.Errorf("audit actions = %v\nwant %v", got, wantAudit)
		}
	})
}

// Every refused decision leaves the stored proposal and the audit log as
// they were.
func TestRefusedDecisionsChangeNothing(t *testing.T) {
	type op func(ctx context.Context, s *Service, id string) error
	approve := func(a Actor, reason string) op {
		return func(ctx context.Context, s *Service, id string) error {
			_, err := s.Approve(ctx, id, a, reason)
			return err
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env, id string)
		do    op
		want  error
	}{
		{"non-approver", nil, approve(mallory, "looks fine"), ErrNotApprover},
		{"escalation group before escalation", nil, approve(lee, "looks fine"), ErrNotApprover},
		{"requester approves own (though in group)", nil, approve(requester, "mine, fine"), ErrSelfApproval},
		{"requester in other case", nil, approve(Actor{ID: " REQ@Example.COM", Where: audit.WhereSlack}, "mine"), ErrSelfApproval},
		{"expired", func(t *testing.T, e *env, _ string) { e.clock.Advance(72 * time.Hour) }, approve(sam, "late"), ErrExpired},
		{"same approver twice", func(t *testing.T, e *env, id string) {
			if _, err := e.svc.Approve(context.Background(), id, sam, "first"); err != nil {
				t.Fatal(err)
			}
		}, approve(Actor{ID: "SAM@example.com", Where: audit.WhereHTTP}, "again"), ErrDuplicateApprover},
		{"approve with blank reason", nil, approve(sam, "  "), ErrReasonRequired},
		{"reject with empty reason", nil, func(ctx context.Context, s *Service, id string) error {
			_, err := s.Reject(ctx, id, sam, "")
			return err
		}, ErrReasonRequired},
		{"request changes with empty reason", nil, func(ctx context.Context, s *Service, id string) error {
			_, err := s.RequestChanges(ctx, id, sam, "")
			return err
		}, ErrReasonRequired},
		{"reject by non-approver", nil, func(ctx context.Context, s *Service, id string) error {
			_, err := s.Reject(ctx, id, mallory, "no")
			return err
		}, ErrNotApprover},
		{"approve after rejection", func(t *testing.T, e *env, id string) {
			if _, err := e.svc.Reject(context.Background(), id, sue, "still used by billing"); err != nil {
				t.Fatal(err)
			}
		}, approve(sam, "fine"), ErrAlreadyDecided},
		{"unknown proposal", nil, func(ctx context.Context, s *Service, _ string) error {
			_, err := s.Approve(ctx, "p-missing", sam, "fine")
			return err
		}, ErrNotFound},
		{"execute before approval", nil, func(ctx context.Context, s *Service, id string) error {
			_, err := s.Execute(ctx, id, &recorder{}, sam)
			return err
		}, ErrWrongState},
		{"rollback before execution", nil, func(ctx context.Context, s *Service, id string) error {
			_, err := s.Rollback(ctx, id, &recorder{}, sam)
			return err
		}, ErrWrongState},
		{"cancel by stranger", nil, func(ctx context.Context, s *Service, id string) error {
			_, err := s.Cancel(ctx, id, mallory, "nope")
			return err
		}, ErrNotApprover},
	}
	forEachStore(t, func(t *testing.T, mk func(*testing.T) Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, mk(t))
				ctx := context.Background()
				p := e.propose(t, sampleProposal())
				if tt.setup != nil {
					tt.setup(t, e, p.ID)
				}
				before, err := e.store.Get(ctx, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				head := e.log.Head()
				err = tt.do(ctx, e.svc, p.ID)
				if !errors.Is(err, tt.want) {
					t.Fatalf("error = %v, want %v", err, tt.want)
				}
				after, err := e.store.Get(ctx, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(before, after) {
					t.Errorf("proposal changed:\nbefore %+v\nafter  %+v", before, after)
				}
				if e.log.Head() != head {
					t.Errorf("audit log grew on a refused decision")
				}
			})
		}
	})
}

func TestRejectAndRequestChanges(t *testing.T) {
	tests := []struct {
		name string
		do   func(ctx context.Context, s *Service, id string) (*Proposal, error)
		want State
	}{
		{"reject", func(ctx context.Context, s *Service, id string) (*Proposal, error) {
			return s.Reject(ctx, id, owner, "billing still uses this key")
		}, StateRejected},
		{"request changes", func(ctx context.Context, s *Service, id string) (*Proposal, error) {
			return s.RequestChanges(ctx, id, sam, "rotate instead of disable")
		}, StateChangesRequested},
		{"cancel by requester", func(ctx context.Context, s *Service, id string) (*Proposal, error) {
			return s.Cancel(ctx, id, requester, "opened by mistake")
		}, StateCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storeMakers()["bolt"](t))
			p := e.propose(t, sampleProposal())
			p, err := tt.do(context.Background(), e.svc, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.State != tt.want || p.Reason == "" {
				t.Errorf("state %s reason %q, want %s with reason", p.State, p.Reason, tt.want)
			}
			if _, err := e.svc.Execute(context.Background(), p.ID, &recorder{}, sam); !errors.Is(err, ErrWrongState) {
				t.Errorf("execute after %s = %v, want ErrWrongState", tt.want, err)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	tests := []struct {
		name     string
		onExpiry OnExpiry
		advance  []time.Duration // Expire runs after each
		want     State
		changed  int
	}{
		{"not yet due", ExpiryEscalate, []time.Duration{71 * time.Hour}, StateProposed, 0},
		{"escalates", ExpiryEscalate, []time.Duration{72 * time.Hour}, StateEscalated, 1},
		{"escalated then expires", ExpiryEscalate, []time.Duration{72 * time.Hour, 48 * time.Hour}, StateExpired, 2},
		{"escalated, new deadline not reached", ExpiryEscalate, []time.Duration{72 * time.Hour, 47 * time.Hour}, StateEscalated, 1},
		{"cancelled", ExpiryCancel, []time.Duration{80 * time.Hour}, StateCancelled, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storeMakers()["bolt"](t))
			sp := sampleProposal()
			sp.OnExpiry = tt.onExpiry
			p := e.propose(t, sp)
			changed := 0
			for _, d := range tt.advance {
				e.clock.Advance(d)
				ids, err := e.svc.Expire(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				changed += len(ids)
			}
			got, _ := e.store.Get(context.Background(), p.ID)
			if got.State != tt.want || changed != tt.changed {
				t.Fatalf("state %s after %d changes; want %s after %d", got.State, changed, tt.want, tt.changed)
			}
		})
	}

	t.Run("escalation group may approve with new deadline", func(t *testing.T) {
		e := newEnv(t, storeMakers()["bolt"](t))
		ctx := context.Background()
		p := e.propose(t, sampleProposal())
		if _, err := e.svc.Approve(ctx, p.ID, sam, "ok"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(73 * time.Hour)
		if _, err := e.svc.Expire(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := e.store.Get(ctx, p.ID)
		if want := e.clock.Now().Add(48 * time.Hour); !got.ExpiresAt.Equal(want) {
			t.Errorf("new deadline %s, want %s", got.ExpiresAt, want)
		}
		got, err := e.svc.Approve(ctx, p.ID, lee, "lead sign-off")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != StateApproved || !slices.Equal(got.Approvals(), []string{sam.ID, lee.ID}) {
			t.Errorf("state %s approvals %v", got.State, got.Approvals())
		}
	})
}

func TestProposeValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *Proposal)
		says   string
	}{
		{"no justification", func(p *Proposal) { p.Justification = " " }, "justification"},
		{"no actions", func(p *Proposal) { p.Actions = nil }, "no actions"},
		{"action without target", func(p *Proposal) { p.Actions[1].Target = "" }, "actions[1]"},
		{"zero approvers for a change", func(p *Proposal) { p.Rule.Required = 0 }, "only notify_owner"},
		{"negative approvers", func(p *Proposal) { p.Rule.Required = -1 }, "negative"},
		{"deadline in the past", func(p *Proposal) { p.ExpiresAt = t0 }, "expires_at"},
		{"unknown on_expiry", func(p *Proposal) { p.OnExpiry = "ignore" }, "on_expiry"},
		{"escalate without ttl", func(p *Proposal) { p.Rule.EscalationTTL = 0 }, "escalation_ttl"},
		{"escalate without group", func(p *Proposal) { p.Rule.Group, p.Rule.EscalateTo = "", ""; p.Rule.Required = 1 }, "escalate_to"},
		{"more approvers than eligible", func(p *Proposal) { p.Rule.Required = 4 }, "only 3 eligible"},
		{"document not JSON", func(p *Proposal) { p.Document = []byte(`{"plan":`) }, "document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storeMakers()["bolt"](t))
			p := sampleProposal()
			tt.mutate(p)
			_, err := e.svc.Propose(context.Background(), p, requester)
			if !errors.Is(err, ErrInvalidProposal) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Propose = %v; want ErrInvalidProposal mentioning %q", err, tt.says)
			}
			all, _ := e.store.List(context.Background(), Filter{})
			if len(all) != 0 || e.log.Head().Seq != 0 {
				t.Errorf("invalid proposal was stored or audited")
			}
		})
	}

	t.Run("notify only needs no approval", func(t *testing.T) {
		e := newEnv(t, storeMakers()["bolt"](t))
		p := sampleProposal()
		p.Actions = p.Actions[:1]
		p.Actions[0].Type = "notify_owner"
		p.Rule = Rule{}
		got, err := e.svc.Propose(context.Background(), p, requester)
		if err != nil || got.State != StateApproved {
			t.Fatalf("Propose = %v, %v; want approved", got, err)
		}
	})
}

func TestDuplicateKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, mk func(*testing.T) Store) {
		e := newEnv(t, mk(t))
		ctx := context.Background()
		first := e.propose(t, sampleProposal())
		if _, err := e.svc.Propose(ctx, sampleProposal(), requester); !errors.Is(err, ErrDuplicateKey) {
			t.Fatalf("second open proposal with same key = %v, want ErrDuplicateKey", err)
		}
		if _, err := e.svc.Reject(ctx, first.ID, sam, "not now"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Propose(ctx, sampleProposal(), requester); err != nil {
			t.Fatalf("proposal after the first closed = %v", err)
		}
		dup := sampleProposal()
		dup.Key = "other"
		dup.ID = first.ID
		if _, err := e.svc.Propose(ctx, dup, requester); !errors.Is(err, ErrExists) {
			t.Fatalf("reused id = %v, want ErrExists", err)
		}
	})
}

func TestAuditFailureChangesNothing(t *testing.T) {
	e := newEnv(t, storeMakers()["bolt"](t))
	ctx := context.Background()
	p := e.propose(t, sampleProposal())
	broken, err := NewService(Options{Store: e.store, Audit: failingAudit{}, Groups: testGroups, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := broken.Approve(ctx, p.ID, sam, "fine"); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Approve with failing audit = %v", err)
	}
	got, _ := e.store.Get(ctx, p.ID)
	if !reflect.DeepEqual(got, p) {
		t.Errorf("proposal changed although its audit record failed")
	}
	if _, err := broken.Propose(ctx, func() *Proposal { q := sampleProposal(); q.Key = "k2"; return q }(), requester); err == nil {
		t.Fatal("Propose with failing audit succeeded")
	}
	all, _ := e.store.List(ctx, Filter{})
	if len(all) != 1 {
		t.Errorf("%d proposals stored, want 1", len(all))
	}
}

func TestExecuteFailureAndRollback(t *testing.T) {
	tests := []struct {
		name      string
		failAt    map[string]error
		wantState State
		wantCalls int
		wantUndos []int // action indexes undone, in order
	}{
		{"all done, undo in reverse", nil, StateDone, 3, []int{2, 1, 0}},
		{"second fails, undo the first", map[string]error{"aws:123456789012:user/etl": errors.New("AccessDenied")}, StateFailed, 2, []int{0}},
		{"first fails, nothing to undo", map[string]error{"aws:123456789012:access_key/AKIA…WXYZ": errors.New("throttled")}, StateFailed, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storeMakers()["bolt"](t))
			ctx := context.Background()
			p := e.approved(t)
			rec := &recorder{failAt: tt.failAt}
			got, err := e.svc.Execute(ctx, p.ID, rec, sam)
			if (err != nil) != (tt.wantState == StateFailed) {
				t.Fatalf("Execute error = %v", err)
			}
			if got.State != tt.wantState || len(rec.calls) != tt.wantCalls {
				t.Fatalf("state %s calls %d; want %s %d", got.State, len(rec.calls), tt.wantState, tt.wantCalls)
			}
			got, err = e.svc.Rollback(ctx, p.ID, rec, sam)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, i := range tt.wantUndos {
				want = append(want, p.Actions[i].Target)
			}
			if got.State != StateRolledBack || !slices.Equal(rec.undos, want) {
				t.Errorf("state %s undos %v; want rolled_back %v", got.State, rec.undos, want)
			}
			if _, err := e.svc.Rollback(ctx, p.ID, rec, sam); !errors.Is(err, ErrWrongState) {
				t.Errorf("second rollback = %v, want ErrWrongState", err)
			}
		})
	}

	t.Run("failed undo can be retried", func(t *testing.T) {
		e := newEnv(t, storeMakers()["bolt"](t))
		ctx := context.Background()
		p := e.approved(t)
		rec := &recorder{failAt: map[string]error{"undo aws:123456789012:user/etl": errors.New("throttled")}}
		if _, err := e.svc.Execute(ctx, p.ID, rec, sam); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Rollback(ctx, p.ID, rec, sam)
		if err == nil || got.State != StateFailed {
			t.Fatalf("rollback with failing undo = %v, state %s", err, got.State)
		}
		rec.failAt = nil
		got, err = e.svc.Rollback(ctx, p.ID, rec, sam)
		if err != nil || got.State != StateRolledBack {
			t.Fatalf("retried rollback = %v, state %s", err, got.State)
		}
		want := []string{p.Actions[2].Target, p.Actions[1].Target, p.Actions[1].Target, p.Actions[0].Target}
		if !slices.Equal(rec.undos, want) {
			t.Errorf("undos %v, want %v (action 2 undone once)", rec.undos, want)
		}
	})
}

// Two replicas on one PostgreSQL database approving at once lose no
// approval, and only one of two racing creators of a key wins.
func TestPostgresReplicas(t *testing.T) {
	srv := pgtestStart(t)
	dsn := srv.CreateDB(t, "replicas")
	ctx := context.Background()
	var svcs []*Service
	clock := fakeclock.New(t0)
	l, err := audit.Open(t.TempDir() + "/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	group := StaticGroups{"secops": nil}
	for i := range 8 {
		group["secops"] = append(group["secops"], "approver"+string(rune('a'+i))+"@example.com")
	}
	for range 2 {
		s, err := OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		svc, err := NewService(Options{Store: s, Audit: l, Groups: group, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	p := sampleProposal()
	p.Rule = Rule{Required: 8, Group: "secops"}
	p.OnExpiry = ExpiryCancel
	p, err = svcs[0].Propose(ctx, p, requester)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, m := range group["secops"] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := svcs[i%2].Approve(ctx, p.ID, Actor{ID: m, Where: audit.WhereSlack}, "ok"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := svcs[1].Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateApproved || len(got.Approvals()) != 8 {
		t.Fatalf("state %s with %d approvals; want approved with 8", got.State, len(got.Approvals()))
	}

	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := sampleProposal()
			q.Key = "race"
			_, errs[i] = svcs[i].Propose(ctx, q, requester)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("racing creators: %v / %v; want exactly one ErrDuplicateKey", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, ErrDuplicateKey) {
			t.Errorf("loser error = %v", err)
		}
	}
}

// commitFailingStore runs the callback and then fails as a commit would.
type commitFailingStore struct{ Store }

func (s commitFailingStore) Update(ctx context.Context, id string, fn func(p *Proposal) error) (*Proposal, error) {
	p, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := fn(p); err != nil {
		return nil, err
	}
	return nil, errors.New("commit: disk I/O error")
}

func TestCommitFailureIsAudited(t *testing.T) {
	e := newEnv(t, storeMakers()["bolt"](t))
	p := e.propose(t, sampleProposal())
	svc, err := NewService(Options{Store: commitFailingStore{e.store}, Audit: e.log, Groups: testGroups, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approve(context.Background(), p.ID, sam, "fine"); err == nil {
		t.Fatal("Approve succeeded although the commit failed")
	}
	got := auditActions(t, e.log)
	if want := []string{"proposal", "approval", "commit_failed"}; !slices.Equal(got, want) {
		t.Errorf("audit actions %v, want %v", got, want)
	}
}

func TestOpenStore(t *testing.T) {
	s, err := OpenStore(context.Background(), t.TempDir()+"/a.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*BoltStore); !ok {
		t.Errorf("path opened %T, want *BoltStore", s)
	}
	srv := pgtestStart(t)
	s2, err := OpenStore(context.Background(), srv.CreateDB(t, "openstore"))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, ok := s2.(*PGStore); !ok {
		t.Errorf("postgres URL opened %T, want *PGStore", s2)
	}
}

// TestMayDecide: the check clients ask before collecting a reason (Slack's
// reject dialog) is the rule Reject applies, and it changes nothing;
// MayRollback admits the eligible and those who approved.
func TestMayDecide(t *testing.T) {
	tests := []struct {
		name         string
		setup        func(t *testing.T, e *env, id string)
		by           Actor
		want         error // nil: may decide
		wantRollback error
	}{
		{name: "group member", by: sam},
		{name: "owner", by: owner},
		{name: "requester", by: requester, want: ErrSelfApproval, wantRollback: ErrNotApprover},
		{name: "requester in other case", by: Actor{ID: " REQ@Example.COM", Where: audit.WhereSlack}, want: ErrSelfApproval, wantRollback: ErrNotApprover},
		{name: "stranger", by: mallory, want: ErrNotApprover, wantRollback: ErrNotApprover},
		{name: "escalation group before escalation", by: lee, want: ErrNotApprover, wantRollback: ErrNotApprover},
		{name: "expired", setup: func(t *testing.T, e *env, _ string) { e.clock.Advance(72 * time.Hour) }, by: sam, want: ErrExpired},
		{name: "after rejection", setup: func(t *testing.T, e *env, id string) {
			if _, err := e.svc.Reject(context.Background(), id, sue, "still used by billing"); err != nil {
				t.Fatal(err)
			}
		}, by: sam, want: ErrAlreadyDecided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storeMakers()["bolt"](t))
			ctx := context.Background()
			p := e.propose(t, sampleProposal())
			if tt.setup != nil {
				tt.setup(t, e, p.ID)
			}
			p, err := e.svc.Get(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			head := e.log.Head()
			got := e.svc.MayDecide(p, tt.by)
			if e.log.Head() != head {
				t.Fatal("MayDecide wrote an audit record")
			}
			if (tt.want == nil) != (got == nil) || (tt.want != nil && !errors.Is(got, tt.want)) {
				t.Fatalf("MayDecide = %v, want %v", got, tt.want)
			}
			if rb := e.svc.MayRollback(p, tt.by); (tt.wantRollback == nil) != (rb == nil) || (rb != nil && !errors.Is(rb, tt.wantRollback)) {
				t.Fatalf("MayRollback = %v, want %v", rb, tt.wantRollback)
			}
			_, rerr := e.svc.Reject(ctx, p.ID, tt.by, "not needed")
			if (tt.want == nil) != (rerr == nil) || (tt.want != nil && !errors.Is(rerr, tt.want)) {
				t.Fatalf("Reject = %v, but MayDecide said %v", rerr, got)
			}
		})
	}
}
