package approval

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/steward-oss/steward/connectors"
)

// goexitAt ends the calling goroutine when it reaches target, before
// anything is journalled as done: an in-process stand-in for a crash that
// works the same against every store.
type goexitAt struct {
	recorder
	target string
}

func (g *goexitAt) Execute(ctx context.Context, a connectors.Action) (connectors.Step, error) {
	if a.Target == g.target {
		runtime.Goexit()
	}
	return g.recorder.Execute(ctx, a)
}

// checkingRecorder reports actions as applied when applied says so.
type checkingRecorder struct {
	*recorder
	applied map[string]bool
	err     error
}

func (c checkingRecorder) Check(_ context.Context, a connectors.Action) (bool, connectors.Step, error) {
	return c.applied[a.Target], connectors.Step{Call: "observed", Undo: map[string]string{"target": a.Target}}, c.err
}

func TestResume(t *testing.T) {
	tests := []struct {
		name      string
		checker   func(r *recorder, p *Proposal) Executor
		wantState State
		wantErr   error
		wantCalls []int
	}{
		{"no checker: unknown outcome", func(r *recorder, _ *Proposal) Executor { return r }, StateFailed, ErrUnknownOutcome, nil},
		{"checker says applied", func(r *recorder, p *Proposal) Executor {
			return checkingRecorder{recorder: r, applied: map[string]bool{p.Actions[1].Target: true}}
		}, StateDone, nil, []int{2}},
		{"checker says not applied", func(r *recorder, _ *Proposal) Executor {
			return checkingRecorder{recorder: r, applied: map[string]bool{}}
		}, StateDone, nil, []int{1, 2}},
		{"checker fails", func(r *recorder, _ *Proposal) Executor {
			return checkingRecorder{recorder: r, err: errors.New("api unreachable")}
		}, StateFailed, ErrUnknownOutcome, nil},
	}
	forEachStore(t, func(t *testing.T, mk func(*testing.T) Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, mk(t))
				ctx := context.Background()
				p := e.approved(t)
				crash := &goexitAt{target: p.Actions[1].Target}
				done := make(chan struct{})
				go func() {
					defer close(done)
					e.svc.Execute(ctx, p.ID, crash, sam)
				}()
				<-done
				got, _ := e.store.Get(ctx, p.ID)
				if got.State != StateExecuting || got.ActionPhase(0) != PhaseDone || got.ActionPhase(1) != PhaseStarted {
					t.Fatalf("after crash: state %s phases %s/%s", got.State, got.ActionPhase(0), got.ActionPhase(1))
				}
				rec := &recorder{}
				_, err := e.svc.Resume(ctx, tt.checker(rec, p), sam)
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
					t.Fatalf("Resume = %v, want %v", err, tt.wantErr)
				}
				got, _ = e.store.Get(ctx, p.ID)
				if got.State != tt.wantState {
					t.Fatalf("state %s (%s), want %s", got.State, got.Reason, tt.wantState)
				}
				var want []string
				for _, i := range tt.wantCalls {
					want = append(want, p.Actions[i].Target)
				}
				if !slices.Equal(rec.calls, want) {
					t.Errorf("calls after resume %v, want %v", rec.calls, want)
				}
			})
		}
	})
}

func TestCancelledContextStopsBetweenActions(t *testing.T) {
	e := newEnv(t, storeMakers()["bolt"](t))
	p := e.approved(t)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &cancelAfterFirst{cancel: cancel}
	got, err := e.svc.Execute(ctx, p.ID, rec, sam)
	if !errors.Is(err, context.Canceled) || got.State != StateExecuting {
		t.Fatalf("Execute = %v, state %s; want canceled, executing", err, got.State)
	}
	r := &recorder{}
	resumed, err := e.svc.Resume(context.Background(), r, sam)
	if err != nil || len(resumed) != 1 || resumed[0].State != StateDone {
		t.Fatalf("Resume = %v, %v", resumed, err)
	}
	if !slices.Equal(r.calls, []string{p.Actions[1].Target, p.Actions[2].Target}) {
		t.Errorf("resume calls %v", r.calls)
	}
}

type cancelAfterFirst struct {
	recorder
	cancel func()
}

func (c *cancelAfterFirst) Execute(ctx context.Context, a connectors.Action) (connectors.Step, error) {
	c.cancel()
	return c.recorder.Execute(ctx, a)
}

func TestResolveUnknownRules(t *testing.T) {
	e := newEnv(t, storeMakers()["bolt"](t))
	ctx := context.Background()
	p := e.approved(t)
	if _, err := e.svc.ResolveUnknown(ctx, p.ID, 0, true, connectors.Step{}, sam, "checked"); !errors.Is(err, ErrWrongState) {
		t.Errorf("resolve on approved = %v, want ErrWrongState", err)
	}
	rec := &recorder{failAt: map[string]error{p.Actions[1].Target: errors.New("denied")}}
	if _, err := e.svc.Execute(ctx, p.ID, rec, sam); err == nil {
		t.Fatal("want failure")
	}
	tests := []struct {
		name   string
		i      int
		reason string
		want   error
	}{
		{"empty reason", 1, "", ErrReasonRequired},
		{"action that failed cleanly", 1, "checked", ErrWrongState},
		{"action that is done", 0, "checked", ErrWrongState},
		{"no such action", 7, "checked", ErrInvalidProposal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.svc.ResolveUnknown(ctx, p.ID, tt.i, true, connectors.Step{}, sam, tt.reason); !errors.Is(err, tt.want) {
				t.Errorf("ResolveUnknown = %v, want %v", err, tt.want)
			}
		})
	}
}

// goexitUndo dies in the middle of undoing target.
type goexitUndo struct {
	recorder
	target string
}

func (g *goexitUndo) Rollback(ctx context.Context, a connectors.Action, done connectors.Step) error {
	if a.Target == g.target {
		runtime.Goexit()
	}
	return g.recorder.Rollback(ctx, a, done)
}

func TestCrashDuringRollback(t *testing.T) {
	for _, applied := range []bool{true, false} {
		name := map[bool]string{true: "undo had happened", false: "undo had not happened"}[applied]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, storeMakers()["bolt"](t))
			ctx := context.Background()
			p := e.approved(t)
			if _, err := e.svc.Execute(ctx, p.ID, &recorder{}, sam); err != nil {
				t.Fatal(err)
			}
			crash := &goexitUndo{target: p.Actions[1].Target}
			done := make(chan struct{})
			go func() {
				defer close(done)
				e.svc.Rollback(ctx, p.ID, crash, sam)
			}()
			<-done
			if !slices.Equal(crash.undos, []string{p.Actions[2].Target}) {
				t.Fatalf("undos before crash %v", crash.undos)
			}
			rec := &recorder{}
			if _, err := e.svc.Rollback(ctx, p.ID, rec, sam); !errors.Is(err, ErrUnknownOutcome) {
				t.Fatalf("Rollback after crash = %v, want ErrUnknownOutcome", err)
			}
			if _, err := e.svc.ResolveUnknown(ctx, p.ID, 1, applied, connectors.Step{}, sam, "looked at the console"); err != nil {
				t.Fatal(err)
			}
			got, err := e.svc.Rollback(ctx, p.ID, rec, sam)
			if err != nil || got.State != StateRolledBack {
				t.Fatalf("Rollback after resolving = %v, %v", got, err)
			}
			want := []string{p.Actions[0].Target}
			if !applied {
				want = []string{p.Actions[1].Target, p.Actions[0].Target}
			}
			if !slices.Equal(rec.undos, want) {
				t.Errorf("undos after resolving %v, want %v (action 2 never undone twice)", rec.undos, want)
			}
		})
	}
}
