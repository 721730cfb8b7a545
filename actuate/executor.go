package actuate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/remediation"
)

// Sentinel errors.
var (
	// ErrUnknownSource is returned for a target no configured actuator
	// covers.
	ErrUnknownSource = errors.New("no actuator configured for the target's source")
	// ErrCannotCheck is returned by Check when the target's actuator
	// cannot re-read whether an action took effect; approval then reports
	// the action's outcome as unknown instead of retrying it.
	ErrCannotCheck = errors.New("the actuator cannot check live state")
)

// Route binds a source to the actuator that acts on it. Source is a full
// source name ("postgres:prod-orders", "ldap:corp.example.com") or a
// source type ("postgres"); a target is routed to the route whose source
// is the longest prefix of its node id followed by ":".
type Route struct {
	Source   string
	Type     string // the actuator type, for messages ("postgres", "webhook")
	Actuator connectors.Actuator
}

// Executor dispatches actions to the actuator of each target's source.
// It is safe for concurrent use; it keeps no state between calls.
type Executor struct {
	routes []Route // longest source first
}

var (
	_ approval.Executor   = (*Executor)(nil)
	_ approval.Undoer     = (*Executor)(nil)
	_ approval.Checker    = (*Executor)(nil)
	_ remediation.Planner = (*Executor)(nil)
	_ connectors.Actuator = (*Executor)(nil)
)

// NewExecutor returns an executor over routes. Two routes for the same
// source are a configuration mistake and an error.
func NewExecutor(routes ...Route) (*Executor, error) {
	seen := map[string]bool{}
	out := make([]Route, 0, len(routes))
	for i, r := range routes {
		src := strings.TrimSuffix(strings.TrimSpace(r.Source), ":")
		switch {
		case src == "":
			return nil, fmt.Errorf("actuate: route %d: source is empty", i)
		case r.Actuator == nil:
			return nil, fmt.Errorf("actuate: route %d (%s): actuator is nil", i, src)
		case seen[src]:
			return nil, fmt.Errorf("actuate: two actuators for source %q", src)
		}
		seen[src] = true
		r.Source = src
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Source) > len(out[j].Source) })
	return &Executor{routes: out}, nil
}

// Sources lists the configured sources, longest first.
func (e *Executor) Sources() []string {
	out := make([]string, len(e.routes))
	for i, r := range e.routes {
		out[i] = r.Source
	}
	return out
}

// route finds the actuator for target.
func (e *Executor) route(target string) (Route, error) {
	for _, r := range e.routes {
		if strings.HasPrefix(target, r.Source+":") {
			return r, nil
		}
	}
	return Route{}, fmt.Errorf("actuate: target %q: %w (configured: %s)", target, ErrUnknownSource, strings.Join(e.Sources(), ", "))
}

// Covers reports whether some actuator would take target.
func (e *Executor) Covers(target string) bool {
	_, err := e.route(target)
	return err == nil
}

// Plan is the dry run: the calls Execute would make, without contacting
// the source.
func (e *Executor) Plan(ctx context.Context, a connectors.Action) ([]connectors.Step, error) {
	r, err := e.route(a.Target)
	if err != nil {
		return nil, err
	}
	steps, err := r.Actuator.Plan(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("actuate: plan %s on %s: %w", a.Type, a.Target, err)
	}
	return steps, nil
}

// Execute performs a through the target's actuator.
func (e *Executor) Execute(ctx context.Context, a connectors.Action) (connectors.Step, error) {
	r, err := e.route(a.Target)
	if err != nil {
		return connectors.Step{}, err
	}
	step, err := r.Actuator.Execute(ctx, a)
	if err != nil {
		return connectors.Step{}, fmt.Errorf("actuate: %s %s on %s: %w", r.Type, a.Type, a.Target, err)
	}
	return step, nil
}

// Rollback undoes a step Execute returned.
func (e *Executor) Rollback(ctx context.Context, a connectors.Action, done connectors.Step) error {
	r, err := e.route(a.Target)
	if err != nil {
		return err
	}
	if err := r.Actuator.Rollback(ctx, a, done); err != nil {
		return fmt.Errorf("actuate: %s rollback %s on %s: %w", r.Type, a.Type, a.Target, err)
	}
	return nil
}

// Check asks the target's actuator whether a took effect, when it can
// tell (it implements approval.Checker); otherwise it returns
// ErrCannotCheck, and approval leaves the action for a person to check.
func (e *Executor) Check(ctx context.Context, a connectors.Action) (bool, connectors.Step, error) {
	r, err := e.route(a.Target)
	if err != nil {
		return false, connectors.Step{}, err
	}
	c, ok := r.Actuator.(approval.Checker)
	if !ok {
		return false, connectors.Step{}, fmt.Errorf("actuate: %s on %s: %w", r.Type, a.Target, ErrCannotCheck)
	}
	applied, step, err := c.Check(ctx, a)
	if err != nil {
		return false, connectors.Step{}, fmt.Errorf("actuate: %s check %s on %s: %w", r.Type, a.Type, a.Target, err)
	}
	return applied, step, nil
}
