package remediation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/remediation/action"
)

// Action types a proposal may carry, under the names remediation has
// always given them; each is its action.Kind (package action declares
// them once, with the rules).
const (
	ActionDisableCredential  = action.DisableCredential
	ActionDeactivateIdentity = action.DeactivateIdentity
	ActionRevokeGrant        = action.RevokeGrant
	ActionRemoveMembership   = action.RemoveMembership
	ActionRotateCredential   = action.RotateCredential
	ActionNotifyOwner        = action.NotifyOwner
	ActionDelete             = action.Delete
)

// ActionTypes lists every action type, for validation and help text.
var ActionTypes = action.Names()

// ErrInvalid is wrapped by every validation error of a proposal or policy.
var ErrInvalid = errors.New("invalid")

// Target is a snapshot of one selected node, taken when the proposal was
// made, so approvers see what the query saw and actuators can detect that
// the live state moved on since.
type Target struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Kind       graph.Kind `json:"kind"`
	Source     string     `json:"source"`
	OwnerEmail string     `json:"owner_email,omitempty"`
	// Why are short evidence strings: why the plan selected this target
	// ("admin via group Admins", "last used 2025-01-02, 326 days idle").
	Why []string `json:"why,omitempty"`
	// Expect is the state the actuator must still find before acting
	// (e.g. {"status": "active", "userAccountControl": "512"}); it is
	// copied into each action's Params.
	Expect map[string]string `json:"expect,omitempty"`
}

// Approvers says who must approve. Owner includes the targets' owners
// among the eligible approvers (they may approve or reject); Group adds a
// configured approver group; Required is N.
type Approvers struct {
	Required   int    `json:"required" yaml:"required"`
	Group      string `json:"group,omitempty" yaml:"group"`
	Owner      *bool  `json:"owner,omitempty" yaml:"owner"` // default true
	EscalateTo string `json:"escalate_to,omitempty" yaml:"escalate_to"`
}

func (a Approvers) owner() bool { return a.Owner == nil || *a.Owner }

// Proposal is a remediation as approvers see it: the query plan that
// selected the targets, the target snapshot, one or more actions per
// target, the justification and the approval rule.
type Proposal struct {
	Policy        string              `json:"policy,omitempty"`
	Stage         int                 `json:"stage"`
	Plan          json.RawMessage     `json:"plan"`
	Targets       []Target            `json:"targets"`
	Actions       []connectors.Action `json:"actions"`
	Justification string              `json:"justification"`
	Requester     string              `json:"requester"`
	Approvers     Approvers           `json:"approvers"`
	ExpiresAt     time.Time           `json:"expires_at"`
	OnExpiry      approval.OnExpiry   `json:"on_expiry"`
	// EscalationTTL is the new deadline's distance after an escalation.
	EscalationTTL time.Duration `json:"escalation_ttl,omitempty"`
}

// Validate checks p; errors name the field ("targets[1].id: empty").
func (p *Proposal) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("remediation: proposal %w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
	}
	if len(p.Plan) == 0 || !json.Valid(p.Plan) {
		return bad("plan", "not valid JSON")
	}
	if strings.TrimSpace(p.Justification) == "" {
		return bad("justification", "empty")
	}
	if len(p.Targets) == 0 {
		return bad("targets", "empty")
	}
	targets := map[string]*Target{}
	for i := range p.Targets {
		t := &p.Targets[i]
		f := fmt.Sprintf("targets[%d]", i)
		switch {
		case t.ID == "":
			return bad(f+".id", "empty")
		case !t.Kind.Valid():
			return bad(f+".kind", "unknown kind %q", t.Kind)
		case targets[t.ID] != nil:
			return bad(f+".id", "duplicate target %q", t.ID)
		}
		targets[t.ID] = t
	}
	if len(p.Actions) == 0 {
		return bad("actions", "empty")
	}
	for i, a := range p.Actions {
		f := fmt.Sprintf("actions[%d]", i)
		if !a.Type.Known() {
			return bad(f+".type", "unknown action %q (known: %s)", a.Type, strings.Join(ActionTypes, ", "))
		}
		t := targets[a.Target]
		if t == nil {
			return bad(f+".target", "%q is not among the targets", a.Target)
		}
		for k, v := range t.Expect {
			if pv, ok := a.Params[k]; ok && pv != v {
				return bad(f+".params."+k, "%q contradicts the target's expected %q", pv, v)
			}
		}
	}
	if p.Approvers.Required < 0 {
		return bad("approvers.required", "negative")
	}
	return nil
}

// Owners returns the distinct owner e-mails of the targets.
func (p *Proposal) Owners() []string {
	var out []string
	for _, t := range p.Targets {
		if t.OwnerEmail != "" && !slices.Contains(out, strings.ToLower(t.OwnerEmail)) {
			out = append(out, strings.ToLower(t.OwnerEmail))
		}
	}
	return out
}

// key is the dedupe key: one open proposal per policy, stage and target.
func key(policy string, stage int, target string) string {
	return fmt.Sprintf("%s/%d/%s", policy, stage, target)
}

// ToApproval turns p into the record the approval state machine keeps.
// Each action's Params gain the target's Expect entries, which is how the
// actuator learns the state it must still find. The whole proposal is the
// document approvers see and the digest covers.
func (p *Proposal) ToApproval() (*approval.Proposal, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	targets := map[string]Target{}
	for _, t := range p.Targets {
		targets[t.ID] = t
	}
	q := *p
	q.Actions = make([]connectors.Action, len(p.Actions))
	for i, a := range p.Actions {
		params := map[string]string{}
		for k, v := range a.Params {
			params[k] = v
		}
		for k, v := range targets[a.Target].Expect {
			params[k] = v
		}
		if len(params) == 0 {
			params = nil
		}
		q.Actions[i] = connectors.Action{Type: a.Type, Target: a.Target, Params: params}
	}
	doc, err := json.Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("remediation: encode proposal: %w", err)
	}
	rule := approval.Rule{
		Required:      p.Approvers.Required,
		Group:         p.Approvers.Group,
		EscalateTo:    p.Approvers.EscalateTo,
		EscalationTTL: p.EscalationTTL,
	}
	if p.Approvers.owner() {
		rule.Owners = p.Owners()
	}
	ap := &approval.Proposal{
		Policy:        p.Policy,
		Stage:         p.Stage,
		Justification: p.Justification,
		Actions:       q.Actions,
		Rule:          rule,
		OnExpiry:      p.OnExpiry,
		ExpiresAt:     p.ExpiresAt,
		Document:      doc,
	}
	if p.Policy != "" && len(p.Targets) == 1 {
		ap.Key = key(p.Policy, p.Stage, p.Targets[0].ID)
	}
	return ap, nil
}

// Proposer opens proposals and lists them; *approval.Service is one.
type Proposer interface {
	Propose(ctx context.Context, p *approval.Proposal, by approval.Actor) (*approval.Proposal, error)
	List(ctx context.Context, f approval.Filter) ([]*approval.Proposal, error)
}

var _ Proposer = (*approval.Service)(nil)

// Submit validates p and opens it as an approval proposal requested by by.
func Submit(ctx context.Context, svc Proposer, p *Proposal, by approval.Actor) (*approval.Proposal, error) {
	p.Requester = by.ID
	ap, err := p.ToApproval()
	if err != nil {
		return nil, err
	}
	out, err := svc.Propose(ctx, ap, by)
	if err != nil {
		return nil, fmt.Errorf("remediation: submit: %w", err)
	}
	return out, nil
}

// FromApproval decodes the remediation document of an approval proposal
// (for Slack and the CLI to render what approvers saw).
func FromApproval(ap *approval.Proposal) (*Proposal, error) {
	var p Proposal
	if err := json.Unmarshal(ap.Document, &p); err != nil {
		return nil, fmt.Errorf("remediation: decode document of proposal %s: %w", ap.ID, err)
	}
	return &p, nil
}

// Planner is the dry-run half of an actuator (connectors.Actuator.Plan),
// routed to the right source by the caller.
type Planner interface {
	Plan(ctx context.Context, a connectors.Action) ([]connectors.Step, error)
}

// PreviewItem is what one action would do.
type PreviewItem struct {
	Action connectors.Action `json:"action"`
	Target Target            `json:"target"`
	Steps  []connectors.Step `json:"steps,omitempty"`
	Error  string            `json:"error,omitempty"`
}

// Preview is the dry run: for each action (with the target's expected
// state merged into its params, exactly as it would execute), the calls
// the actuator would make. Every action is planned; if any cannot be, the
// items still come back, each failure in its Error, and the error names
// them all.
func Preview(ctx context.Context, p *Proposal, planner Planner) ([]PreviewItem, error) {
	ap, err := p.ToApproval()
	if err != nil {
		return nil, err
	}
	targets := map[string]Target{}
	for _, t := range p.Targets {
		targets[t.ID] = t
	}
	items := make([]PreviewItem, 0, len(ap.Actions))
	var errs []error
	for i, a := range ap.Actions {
		it := PreviewItem{Action: a, Target: targets[a.Target]}
		steps, err := planner.Plan(ctx, a)
		if err != nil {
			it.Error = err.Error()
			errs = append(errs, fmt.Errorf("actions[%d] %s on %s: %w", i, a.Type, a.Target, err))
		} else {
			it.Steps = steps
		}
		items = append(items, it)
	}
	if len(errs) > 0 {
		return items, fmt.Errorf("remediation: preview: %w", errors.Join(errs...))
	}
	return items, nil
}
