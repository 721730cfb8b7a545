// Package actuatortest is the conformance suite every actuator runs: an
// action goes Plan → Execute → Check → Rollback, a repeated Execute and a
// target changed since approval are refused without a write, a second
// Rollback is a no-op, a rejected action fails alike in Plan, Execute and
// Rollback, and no secret reaches a step or an error.
//
// The runner sees the system acted on (a fake server or a live one)
// through the Suite's hooks only, so it serves fakes that log requests
// and live servers that do not alike.
package actuatortest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
)

// Suite is an actuator and what the runner may observe of its system.
type Suite struct {
	Actuator connectors.Actuator
	// Secrets are values no plan, step or error may contain: tokens,
	// passwords, full key ids.
	Secrets []string
	// Requests, when set, returns and forgets the requests the system
	// received since it was last called, reads and writes alike.
	Requests func() []string
	// IsWrite tells a write from a read among Requests; nil counts every
	// request as a write.
	IsWrite func(req string) bool
	// IdempotentRepeat says a repeated Execute or Rollback is sent again
	// and the system deduplicates it (a receiver keyed by idempotency
	// key): the repeat succeeds and Applied, not the writes, shows it did
	// nothing twice. Otherwise a repeated Execute is ErrTargetChanged and
	// a second Rollback writes nothing.
	IdempotentRepeat bool
}

// checker is the optional method the approval service uses to resolve an
// action whose outcome was lost.
type checker interface {
	Check(ctx context.Context, a connectors.Action) (applied bool, step connectors.Step, err error)
}

// Case is one action carried through its whole life.
type Case struct {
	Name   string
	Action connectors.Action
	// Applied reports whether the action's effect is in the system now
	// (the key is inactive, the grant gone); nil when it cannot be seen.
	Applied func(t testing.TB) bool
	// ExecuteWrites and RollbackWrites are the writes Execute and the
	// first Rollback send, checked when the Suite has Requests and these
	// are non-nil.
	ExecuteWrites, RollbackWrites []string
	// Irreversible says Rollback must refuse with ErrUnsupported.
	Irreversible bool
	// Planned, Executed and RolledBack run the connector's own checks
	// after each stage; requests are those of that stage. RolledBack runs
	// after each of the two rollbacks, with the step they were given.
	Planned    func(t testing.TB, plan []connectors.Step)
	Executed   func(t testing.TB, step connectors.Step, requests []string)
	RolledBack func(t testing.TB, done connectors.Step, requests []string)
}

// Result is what a Lifecycle saw.
type Result struct {
	Plan []connectors.Step
	Step connectors.Step
}

// Lifecycle plans, checks, executes, checks again, repeats, rolls back
// twice, and fails t on the first broken promise.
func Lifecycle(t testing.TB, s Suite, c Case) Result {
	t.Helper()
	ctx := context.Background()
	drain(s)
	if c.Applied != nil && c.Applied(t) {
		t.Fatalf("fixture: %s %s is applied before Execute", c.Action.Type, c.Action.Target)
	}
	plan, err := s.Actuator.Plan(ctx, c.Action)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if len(plan) == 0 {
		t.Fatal("plan has no step")
	}
	NoSecret(t, s.Secrets, "plan", plan)
	if reqs := drain(s); len(reqs) != 0 {
		t.Errorf("plan sent requests %q; a dry run must not contact the system", reqs)
	}
	if c.Planned != nil {
		c.Planned(t, plan)
	}
	chk, canCheck := s.Actuator.(checker)
	if canCheck {
		if applied, _, err := chk.Check(ctx, c.Action); err != nil || applied {
			t.Fatalf("check before execute = %t, %v; want false, nil", applied, err)
		}
		drain(s)
	}

	step, err := s.Actuator.Execute(ctx, c.Action)
	if err != nil {
		NoSecret(t, s.Secrets, "error", err)
		t.Fatalf("execute: %v", err)
	}
	NoSecret(t, s.Secrets, "step", step)
	reqs := drain(s)
	if s.Requests != nil && c.ExecuteWrites != nil {
		if got := writes(s, reqs); !slices.Equal(got, c.ExecuteWrites) {
			t.Errorf("execute writes = %q, want %q (all requests %q)", got, c.ExecuteWrites, reqs)
		}
	}
	if c.Applied != nil && !c.Applied(t) {
		t.Fatal("execute did not change the system")
	}
	if c.Executed != nil {
		c.Executed(t, step, reqs)
	}
	if canCheck {
		if applied, _, err := chk.Check(ctx, c.Action); err != nil || !applied {
			t.Errorf("check after execute = %t, %v; want true, nil", applied, err)
		}
		drain(s)
	}

	_, err = s.Actuator.Execute(ctx, c.Action)
	switch {
	case s.IdempotentRepeat && err != nil:
		t.Errorf("repeated execute = %v, want the same success", err)
	case !s.IdempotentRepeat && !errors.Is(err, connectors.ErrTargetChanged):
		t.Errorf("repeated execute = %v, want ErrTargetChanged (a retried action must not act twice)", err)
	case !s.IdempotentRepeat:
		NoSecret(t, s.Secrets, "error", err)
		if w := writes(s, drain(s)); len(w) != 0 {
			t.Errorf("the refused repeat wrote %q", w)
		}
	}
	drain(s)

	// Rollback gets the step back as the approval store keeps it: JSON.
	var done connectors.Step
	if b, err := json.Marshal(step); err != nil || json.Unmarshal(b, &done) != nil {
		t.Fatalf("step %+v does not survive JSON: %v", step, err)
	}
	err = s.Actuator.Rollback(ctx, c.Action, done)
	if c.Irreversible {
		if !errors.Is(err, connectors.ErrUnsupported) {
			t.Errorf("rollback of an irreversible action = %v, want ErrUnsupported", err)
		}
		if w := writes(s, drain(s)); len(w) != 0 {
			t.Errorf("the refused rollback wrote %q", w)
		}
		return Result{Plan: plan, Step: step}
	}
	if err != nil {
		NoSecret(t, s.Secrets, "error", err)
		t.Fatalf("rollback: %v", err)
	}
	reqs = drain(s)
	if s.Requests != nil && c.RollbackWrites != nil {
		if got := writes(s, reqs); !slices.Equal(got, c.RollbackWrites) {
			t.Errorf("rollback writes = %q, want %q (all requests %q)", got, c.RollbackWrites, reqs)
		}
	}
	if c.Applied != nil && c.Applied(t) {
		t.Fatal("rollback did not restore the system")
	}
	if c.RolledBack != nil {
		c.RolledBack(t, done, reqs)
	}
	if err := s.Actuator.Rollback(ctx, c.Action, done); err != nil {
		t.Fatalf("second rollback should be a no-op: %v", err)
	}
	reqs = drain(s)
	if w := writes(s, reqs); len(w) != 0 && !s.IdempotentRepeat {
		t.Errorf("second rollback wrote %q, want nothing", w)
	}
	if c.Applied != nil && c.Applied(t) {
		t.Fatal("second rollback changed the system")
	}
	if c.RolledBack != nil {
		c.RolledBack(t, done, reqs)
	}
	return Result{Plan: plan, Step: step}
}

// Drift is an approved action whose target changed before Execute.
type Drift struct {
	Name   string
	Action connectors.Action
	// Change edits the system after approval; nil when the action's
	// params already disagree with it.
	Change func(t testing.TB)
	// Err is a substring the error must hold.
	Err string
	// Refused runs the connector's own checks on the refusal.
	Refused func(t testing.TB, err error)
}

// Refuses checks that the action is refused with ErrTargetChanged,
// after a live re-read and without a write.
func Refuses(t testing.TB, s Suite, c Drift) {
	t.Helper()
	if c.Change != nil {
		c.Change(t)
	}
	drain(s)
	_, err := s.Actuator.Execute(context.Background(), c.Action)
	if !errors.Is(err, connectors.ErrTargetChanged) || !strings.Contains(err.Error(), c.Err) {
		t.Fatalf("execute = %v, want ErrTargetChanged naming %q", err, c.Err)
	}
	NoSecret(t, s.Secrets, "error", err)
	if s.Requests != nil {
		reqs := drain(s)
		if len(reqs) == 0 {
			t.Error("no live re-read before the refusal")
		}
		if w := writes(s, reqs); len(w) != 0 {
			t.Errorf("writes %q despite the change", w)
		}
	}
	if c.Refused != nil {
		c.Refused(t, err)
	}
}

// Reject is an action the actuator must refuse before contacting the
// system: a kind it does not support, a target of another source, a
// missing or malformed param.
type Reject struct {
	Name   string
	Action connectors.Action
	// Unsupported says the error wraps ErrUnsupported; otherwise it
	// must not.
	Unsupported bool
	// Err is a substring every error must hold.
	Err string
}

// Rejects checks that Plan, Execute and Rollback each refuse every case
// with the same kind of error, send no request and leak no secret.
func Rejects(t *testing.T, s Suite, cases []Reject) {
	t.Helper()
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			drain(s)
			_, perr := s.Actuator.Plan(ctx, c.Action)
			_, eerr := s.Actuator.Execute(ctx, c.Action)
			rerr := s.Actuator.Rollback(ctx, c.Action, connectors.Step{})
			for i, err := range []error{perr, eerr, rerr} {
				op := [...]string{"plan", "execute", "rollback"}[i]
				if err == nil {
					t.Errorf("%s accepted the action", op)
					continue
				}
				if errors.Is(err, connectors.ErrUnsupported) != c.Unsupported {
					t.Errorf("%s err = %v; ErrUnsupported = %t, want %t", op, err, !c.Unsupported, c.Unsupported)
				}
				if !strings.Contains(err.Error(), c.Err) {
					t.Errorf("%s err = %v, want it to mention %q", op, err, c.Err)
				}
				NoSecret(t, s.Secrets, op+" error", err)
			}
			if reqs := drain(s); len(reqs) != 0 {
				t.Errorf("requests %q for a rejected action", reqs)
			}
		})
	}
}

// PlanCase is one dry run and the single step, or the error, it gives.
type PlanCase struct {
	Name   string
	Action connectors.Action
	// Call and Undo are the one step wanted; Undo is compared whole.
	Call string
	Undo map[string]string
	// Err, when set, is a substring of the error wanted instead, and Is
	// a sentinel it must wrap.
	Err string
	Is  error
}

// Plans runs each dry run against a, which needs no live system.
func Plans(t *testing.T, s Suite, cases []PlanCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			steps, err := s.Actuator.Plan(context.Background(), c.Action)
			if c.Err != "" {
				if err == nil || !strings.Contains(err.Error(), c.Err) {
					t.Fatalf("err = %v, want %q", err, c.Err)
				}
				if c.Is != nil && !errors.Is(err, c.Is) {
					t.Fatalf("err = %v, want errors.Is %v", err, c.Is)
				}
				NoSecret(t, s.Secrets, "error", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) != 1 || steps[0].Call != c.Call {
				t.Fatalf("plan = %q\nwant call %q", steps, c.Call)
			}
			if !maps.Equal(steps[0].Undo, c.Undo) {
				t.Fatalf("undo = %v, want %v", steps[0].Undo, c.Undo)
			}
			NoSecret(t, s.Secrets, "plan", steps)
		})
	}
}

// NoSecret fails t if any of secrets appears in v, printed or as JSON. It
// names the secret by its length only.
func NoSecret(t testing.TB, secrets []string, what string, v any) {
	t.Helper()
	text := fmt.Sprint(v)
	if err, ok := v.(error); ok {
		text = err.Error()
	} else if b, err := json.Marshal(v); err == nil {
		text += string(b)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s holds a secret (%d chars)", what, len(s))
		}
	}
}

func drain(s Suite) []string {
	if s.Requests == nil {
		return nil
	}
	return s.Requests()
}

func writes(s Suite, reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if s.IsWrite == nil || s.IsWrite(r) {
			out = append(out, r)
		}
	}
	return out
}
