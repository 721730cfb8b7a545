package approval

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors"
)

// State is where a proposal is in its life; see README.md for the diagram.
type State string

// Proposal states.
const (
	StateProposed         State = "proposed"
	StateEscalated        State = "escalated" // expired once; now waits on the escalation group
	StateApproved         State = "approved"
	StateExecuting        State = "executing"
	StateDone             State = "done"
	StateFailed           State = "failed"
	StateRolledBack       State = "rolled_back"
	StateRejected         State = "rejected"
	StateChangesRequested State = "changes_requested"
	StateExpired          State = "expired"
	StateCancelled        State = "cancelled"
)

// Open reports whether the proposal still waits for a decision or is being
// carried out. At most one open proposal may carry a given Key.
func (s State) Open() bool {
	switch s {
	case StateProposed, StateEscalated, StateApproved, StateExecuting:
		return true
	}
	return false
}

// awaitingDecision reports whether approvers may still decide.
func (s State) awaitingDecision() bool { return s == StateProposed || s == StateEscalated }

// OnExpiry says what happens to a proposal nobody decided before its
// deadline.
type OnExpiry string

// Expiry policies.
const (
	// ExpiryEscalate hands the proposal to the rule's escalation group with
	// a new deadline; if that passes too, the proposal expires.
	ExpiryEscalate OnExpiry = "escalate"
	// ExpiryCancel cancels the proposal at the deadline.
	ExpiryCancel OnExpiry = "cancel"
)

// Rule says who may approve and how many must.
type Rule struct {
	// Required is N of N-of-M: how many distinct eligible approvers must
	// approve. 0 is allowed only when every action is notify_owner.
	Required int `json:"required"`
	// Owners are the owners of the targets (e-mail addresses); each may
	// approve.
	Owners []string `json:"owners,omitempty"`
	// Group is a configured approver group whose members may approve.
	Group string `json:"group,omitempty"`
	// EscalateTo is the group that takes over on expiry when OnExpiry is
	// escalate; empty means Group.
	EscalateTo string `json:"escalate_to,omitempty"`
	// EscalationTTL is the new deadline's distance after an escalation.
	EscalationTTL time.Duration `json:"escalation_ttl,omitempty"`
}

// Actor is who acts and through which surface.
type Actor struct {
	ID    string `json:"id"`    // e-mail for people, "policy:<name>" for the scheduler
	Where string `json:"where"` // audit.WhereCLI, WhereHTTP, WhereSlack, WhereScheduler, WhereSystem
}

// DecisionKind is what an approver said.
type DecisionKind string

// Decision kinds.
const (
	DecisionApprove        DecisionKind = "approve"
	DecisionReject         DecisionKind = "reject"
	DecisionRequestChanges DecisionKind = "request_changes"
	DecisionCancel         DecisionKind = "cancel"
)

// Decision is one person's answer, bound to the digest of what they saw.
type Decision struct {
	Actor  Actor        `json:"actor"`
	Kind   DecisionKind `json:"kind"`
	Reason string       `json:"reason"`
	At     time.Time    `json:"at"`
	Digest string       `json:"digest"`
}

// Phase is one journal mark of an action's execution or undo.
type Phase string

// Journal phases. An action is done when its last mark is PhaseDone (or
// PhaseResolvedDone); a PhaseStarted with nothing after it is an unknown
// outcome that must never be retried blindly.
const (
	PhaseStarted       Phase = "started"
	PhaseDone          Phase = "done"
	PhaseFailed        Phase = "failed"
	PhaseCheckedAbsent Phase = "checked_absent" // a Checker found it had not happened
	PhaseResolvedDone  Phase = "resolved_done"  // an operator confirmed it happened
	PhaseResolvedNot   Phase = "resolved_absent"
	PhaseUndoStarted   Phase = "undo_started"
	PhaseUndoDone      Phase = "undo_done"
	PhaseUndoFailed    Phase = "undo_failed"
)

// JournalEntry is one durable mark, written before and after each call to
// an executor.
type JournalEntry struct {
	Action int              `json:"action"` // index into Proposal.Actions
	Phase  Phase            `json:"phase"`
	Step   *connectors.Step `json:"step,omitempty"`
	Error  string           `json:"error,omitempty"`
	At     time.Time        `json:"at"`
}

// Proposal is the durable record the state machine moves. The content
// (Actions, Rule, Document, Requester) is fixed at creation; Digest covers
// it, and every decision records the digest it approved.
type Proposal struct {
	ID string `json:"id"`
	// Key deduplicates: at most one open proposal per non-empty Key (the
	// remediation package uses policy, stage and target).
	Key string `json:"key,omitempty"`
	// Policy and Stage name the saved policy that opened the proposal
	// (empty for one an analyst opened).
	Policy        string              `json:"policy,omitempty"`
	Stage         int                 `json:"stage"`
	Requester     string              `json:"requester"`
	Justification string              `json:"justification"`
	Actions       []connectors.Action `json:"actions"`
	Rule          Rule                `json:"rule"`
	OnExpiry      OnExpiry            `json:"on_expiry"`
	// Document is the full proposal the approvers see (query plan, target
	// snapshot, evidence), opaque to this package.
	Document json.RawMessage `json:"document,omitempty"`
	Digest   string          `json:"digest"`

	State     State          `json:"state"`
	Reason    string         `json:"reason,omitempty"` // why the last transition happened
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	ExpiresAt time.Time      `json:"expires_at"`
	Decisions []Decision     `json:"decisions,omitempty"`
	Journal   []JournalEntry `json:"journal,omitempty"`
}

// Targets returns the distinct action targets in order.
func (p *Proposal) Targets() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range p.Actions {
		if !seen[a.Target] {
			seen[a.Target] = true
			out = append(out, a.Target)
		}
	}
	return out
}

// Approvals returns the distinct approvers who approved.
func (p *Proposal) Approvals() []string {
	var out []string
	for _, d := range p.Decisions {
		if d.Kind == DecisionApprove {
			out = append(out, d.Actor.ID)
		}
	}
	return out
}

// ActionPhase returns the last journal phase of action i, "" if none.
func (p *Proposal) ActionPhase(i int) Phase {
	var ph Phase
	for _, e := range p.Journal {
		if e.Action == i {
			ph = e.Phase
		}
	}
	return ph
}

// doneStep returns the Step recorded when action i was done.
func (p *Proposal) doneStep(i int) (connectors.Step, bool) {
	for j := len(p.Journal) - 1; j >= 0; j-- {
		e := p.Journal[j]
		if e.Action == i && (e.Phase == PhaseDone || e.Phase == PhaseResolvedDone) {
			if e.Step != nil {
				return *e.Step, true
			}
			return connectors.Step{}, true
		}
	}
	return connectors.Step{}, false
}

// clone returns a deep copy, so a store's callback can mutate freely.
func (p *Proposal) clone() *Proposal {
	b, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("approval: clone proposal %s: %v", p.ID, err))
	}
	var c Proposal
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("approval: clone proposal %s: %v", p.ID, err))
	}
	return &c
}

// digest hashes the fixed content of p.
func digest(p *Proposal) (string, error) {
	b, err := json.Marshal(struct {
		Requester     string              `json:"requester"`
		Justification string              `json:"justification"`
		Actions       []connectors.Action `json:"actions"`
		Rule          Rule                `json:"rule"`
		OnExpiry      OnExpiry            `json:"on_expiry"`
		Document      json.RawMessage     `json:"document,omitempty"`
	}{p.Requester, p.Justification, p.Actions, p.Rule, p.OnExpiry, p.Document})
	if err != nil {
		return "", fmt.Errorf("approval: digest proposal: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// normID makes identity comparison insensitive to case and spaces, since
// the same person arrives as "Alice@Example.com" from Slack and
// "alice@example.com" from the HR roster.
func normID(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
