package actuatortest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
)

const secret = "toy-secret-value-42"

// toy is an actuator over a map of enabled accounts, with switches that
// break one promise each, so the runner is shown to catch it.
type toy struct {
	enabled               map[string]bool
	requests              []string
	leak, twice, noUndo   bool
	planCalls, acceptsAll bool
}

func (a *toy) Plan(_ context.Context, act connectors.Action) ([]connectors.Step, error) {
	if act.Type != "deactivate_identity" && !a.acceptsAll {
		return nil, fmt.Errorf("toy: %q: %w", act.Type, connectors.ErrUnsupported)
	}
	if a.planCalls {
		a.requests = append(a.requests, "GET "+act.Target)
	}
	call := "disable " + act.Target
	if a.leak {
		call += " with " + secret
	}
	return []connectors.Step{{Call: call}}, nil
}

func (a *toy) Execute(ctx context.Context, act connectors.Action) (connectors.Step, error) {
	plan, err := a.Plan(ctx, act)
	if err != nil {
		return connectors.Step{}, err
	}
	a.requests = append(a.requests, "GET "+act.Target)
	if !a.enabled[act.Target] && !a.twice {
		return connectors.Step{}, fmt.Errorf("toy: %s is disabled: %w", act.Target, connectors.ErrTargetChanged)
	}
	a.requests = append(a.requests, "PUT "+act.Target)
	a.enabled[act.Target] = false
	return connectors.Step{Call: plan[0].Call, Undo: map[string]string{"account": act.Target}}, nil
}

func (a *toy) Rollback(ctx context.Context, act connectors.Action, done connectors.Step) error {
	if _, err := a.Plan(ctx, act); err != nil {
		return err
	}
	a.requests = append(a.requests, "GET "+act.Target)
	if a.enabled[act.Target] || a.noUndo {
		return nil
	}
	a.requests = append(a.requests, "PUT "+act.Target)
	a.enabled[act.Target] = true
	return nil
}

func isPut(req string) bool { return strings.HasPrefix(req, "PUT ") }

// recorder is a testing.TB that notes failures instead of failing.
type recorder struct {
	testing.TB // nil: only the methods below are called
	msgs       []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.msgs = append(r.msgs, fmt.Sprintf(f, a...)) }
func (r *recorder) Error(a ...any)            { r.msgs = append(r.msgs, fmt.Sprint(a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); runtime.Goexit() }
func (r *recorder) Fatal(a ...any)            { r.Error(a...); runtime.Goexit() }

// failures runs f against a recorder, as a test body would run.
func failures(f func(t testing.TB)) []string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msgs
}

func TestLifecycleCatches(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(a *toy)
		fails   bool
	}{
		{"a conforming actuator passes", func(*toy) {}, false},
		{"a secret in the step", func(a *toy) { a.leak = true }, true},
		{"a repeated execute that acts twice", func(a *toy) { a.twice = true }, true},
		{"a rollback that restores nothing", func(a *toy) { a.noUndo = true }, true},
		{"a plan that contacts the system", func(a *toy) { a.planCalls = true }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &toy{enabled: map[string]bool{"toy:svc": true}}
			tt.breakIt(a)
			s := Suite{Actuator: a, Secrets: []string{secret},
				Requests: func() []string { r := a.requests; a.requests = nil; return r }, IsWrite: isPut}
			msgs := failures(func(t testing.TB) {
				Lifecycle(t, s, Case{Action: connectors.Action{Type: "deactivate_identity", Target: "toy:svc"},
					Applied:        func(testing.TB) bool { return !a.enabled["toy:svc"] },
					ExecuteWrites:  []string{"PUT toy:svc"},
					RollbackWrites: []string{"PUT toy:svc"}})
			})
			if (len(msgs) > 0) != tt.fails {
				t.Fatalf("failures %q, want failing %t", msgs, tt.fails)
			}
		})
	}
}

// A conforming actuator passes Rejects; one that accepts every action
// type is caught by Lifecycle's own Plan (above) and by Rejects in the
// connectors' tests.
func TestRejects(t *testing.T) {
	Rejects(t, Suite{Actuator: &toy{enabled: map[string]bool{}}}, []Reject{
		{Name: "rotate", Action: connectors.Action{Type: "rotate_credential", Target: "toy:svc"}, Unsupported: true, Err: "rotate_credential"}})
}

func TestRefusesCatches(t *testing.T) {
	for _, twice := range []bool{false, true} {
		a := &toy{enabled: map[string]bool{"toy:svc": true}, twice: twice}
		s := Suite{Actuator: a, Requests: func() []string { r := a.requests; a.requests = nil; return r }, IsWrite: isPut}
		msgs := failures(func(t testing.TB) {
			Refuses(t, s, Drift{Action: connectors.Action{Type: "deactivate_identity", Target: "toy:svc"},
				Change: func(testing.TB) { a.enabled["toy:svc"] = false }, Err: "disabled"})
		})
		if (len(msgs) > 0) != twice {
			t.Errorf("twice=%t: failures %q", twice, msgs)
		}
	}
}
