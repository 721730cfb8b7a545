package review

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
)

// Sentinel errors; callers branch on them with errors.Is. Every one of
// them leaves the campaign unchanged.
var (
	ErrNotFound              = errors.New("campaign or item not found")
	ErrClosed                = errors.New("the campaign is closed")
	ErrNotReviewer           = errors.New("not the reviewer of this item")
	ErrSelfReview            = errors.New("the identity's owner may not review it")
	ErrAlreadyDecided        = errors.New("item already decided")
	ErrJustificationRequired = errors.New("a justification is required to keep privileged or idle access")
	ErrBadDecision           = errors.New("invalid decision")
	ErrExists                = errors.New("campaign id already exists")
)

// State of a launched campaign.
type State string

// Campaign states.
const (
	StateOpen   State = "open"
	StateClosed State = "closed"
)

// DecisionKind is what a reviewer said about an item.
type DecisionKind string

// Decision kinds.
const (
	DecisionKeep     DecisionKind = "keep"
	DecisionRevoke   DecisionKind = "revoke"
	DecisionModify   DecisionKind = "modify"
	DecisionReassign DecisionKind = "reassign"
)

// Outcome is where an item ended up.
type Outcome string

// Outcomes. An item is pending until decided; a Revoke or Modify is
// proposed until its proposal finishes.
const (
	OutcomePending     Outcome = "pending"
	OutcomeKept        Outcome = "kept"
	OutcomeProposed    Outcome = "proposed" // waiting on approval or execution
	OutcomeExecuted    Outcome = "executed"
	OutcomeFailed      Outcome = "failed"
	OutcomeRolledBack  Outcome = "rolled_back"
	OutcomeNotApproved Outcome = "not_approved" // rejected, cancelled or expired in approval
	OutcomeNoDecision  Outcome = "no_decision"  // deadline passed, default none
)

// Snapshot is what the reviewer reviews, frozen at launch.
type Snapshot struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Kind       graph.Kind `json:"kind"`
	Source     string     `json:"source"`
	Privilege  string     `json:"privilege,omitempty"`
	Owner      string     `json:"owner,omitempty"`
	OwnerState string     `json:"owner_status,omitempty"` // present, departed, absent
	// Owners are every owner e-mail with whether they left.
	Owners []OwnerRef `json:"owners,omitempty"`
	Grants []Grant    `json:"grants,omitempty"`
	// Evidence is why the scope selected the identity (lines).
	Evidence []string  `json:"evidence,omitempty"`
	LastUsed time.Time `json:"last_used,omitzero"`
	IdleDays int       `json:"idle_days"`
	// CredentialAgeDays is the age of the identity's oldest active
	// credential (or of the credential itself), -1 when none.
	CredentialAgeDays int      `json:"credential_age_days"`
	Leaks             []string `json:"leaks,omitempty"`
	// Unused are the granted actions not used in the window; Used the
	// ones used; UnusedKnown says usage could be computed.
	Unused      []string `json:"unused,omitempty"`
	Used        []string `json:"used,omitempty"`
	UnusedKnown bool     `json:"unused_known"`
	// Expect is the state the actuator must still find.
	Expect map[string]string `json:"expect,omitempty"`
	// Fingerprint hashes the identity's reviewed facts; a later graph
	// whose fingerprint differs marks the item changed.
	Fingerprint string `json:"fingerprint"`
}

// OwnerRef is one owner of a snapshot.
type OwnerRef struct {
	Email    string `json:"email"`
	Departed bool   `json:"departed,omitempty"`
}

// Grant is one grant of a snapshot.
type Grant struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Action    string `json:"action"`
	Resource  string `json:"resource,omitempty"`
	Privilege string `json:"privilege,omitempty"`
}

// Privileged reports whether the snapshot holds admin or write privilege.
func (s *Snapshot) Privileged() bool { return s.Privilege == "admin" || s.Privilege == "write" }

// Step is one resolved link of an item's reviewer chain.
type Step struct {
	Rule string `json:"rule"` // owner, manager, group
	// Reviewer is an e-mail, or "group:<name>" for a group rule.
	Reviewer string   `json:"reviewer"`
	Members  []string `json:"members,omitempty"`
}

// Decision is one reviewer's answer (or the default at the deadline).
type Decision struct {
	Kind          DecisionKind `json:"kind"`
	By            string       `json:"by"`
	Where         string       `json:"where"`
	Justification string       `json:"justification,omitempty"`
	// Until is how long a Keep lasts.
	Until time.Time `json:"until,omitzero"`
	// To is the new reviewer of a Reassign.
	To string    `json:"to,omitempty"`
	At time.Time `json:"at"`
	// Default marks the campaign's default decision at the deadline.
	Default bool `json:"default,omitempty"`
}

// Event is one thing that happened to an item besides the decision:
// assignment, a skipped rule, an escalation, a reassignment, a refusal, a
// proposal state change.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	By     string    `json:"by,omitempty"`
	Detail string    `json:"detail"`
}

// Item is one identity under review.
type Item struct {
	ID       string   `json:"id"` // "i1", "i2"… within the campaign
	Snapshot Snapshot `json:"snapshot"`
	Chain    []Step   `json:"chain"`
	// Level indexes Chain: the current rule.
	Level int `json:"level"`
	// Reviewer is who decides now: Chain[Level]'s, or a reassignee.
	Reviewer   string    `json:"reviewer"`
	Members    []string  `json:"members,omitempty"`
	AssignedAt time.Time `json:"assigned_at"`
	// Skipped lists the rules that yielded nobody, and why.
	Skipped    []string  `json:"skipped,omitempty"`
	Decision   *Decision `json:"decision,omitempty"`
	Outcome    Outcome   `json:"outcome"`
	ProposalID string    `json:"proposal_id,omitempty"`
	// ProposalState is the approval state last seen.
	ProposalState string  `json:"proposal_state,omitempty"`
	Changed       bool    `json:"changed,omitempty"` // the identity changed since launch
	ChangedHow    string  `json:"changed_how,omitempty"`
	Events        []Event `json:"events,omitempty"`
}

// mayDecide reports whether who is the item's current reviewer.
func (it *Item) mayDecide(who string) bool {
	who = norm(who)
	if norm(it.Reviewer) == who {
		return true
	}
	for _, m := range it.Members {
		if norm(m) == who {
			return true
		}
	}
	return false
}

// ownedBy reports whether who is one of the identity's owners.
func (it *Item) ownedBy(who string) bool {
	who = norm(who)
	for _, o := range it.Snapshot.Owners {
		if norm(o.Email) == who {
			return true
		}
	}
	return false
}

// Reviewers returns who may decide the item now.
func (it *Item) Reviewers() []string {
	if len(it.Members) > 0 {
		return it.Members
	}
	return []string{it.Reviewer}
}

// Reminder is one reminder sent.
type Reminder struct {
	At       time.Time `json:"at"`
	Before   string    `json:"before"` // the remind_before entry
	Reviewer string    `json:"reviewer"`
	Items    []string  `json:"items"`
}

// Instance is one launch of a campaign.
type Instance struct {
	ID         string    `json:"id"`
	Campaign   Campaign  `json:"campaign"`
	LaunchedBy string    `json:"launched_by"`
	LaunchedAt time.Time `json:"launched_at"`
	Due        time.Time `json:"due"`
	// Plan is the query plan the scope ran (the question's, planned at
	// launch).
	Plan      json.RawMessage `json:"plan"`
	State     State           `json:"state"`
	ClosedAt  time.Time       `json:"closed_at,omitzero"`
	Items     []*Item         `json:"items"`
	Reminders []Reminder      `json:"reminders,omitempty"`
	// RemindersSent records which remind_before entries fired.
	RemindersSent []string  `json:"reminders_sent,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Item returns the item with id.
func (in *Instance) Item(id string) (*Item, error) {
	for _, it := range in.Items {
		if it.ID == id || it.Snapshot.ID == id {
			return it, nil
		}
	}
	return nil, fmt.Errorf("%w: item %s of %s", ErrNotFound, id, in.ID)
}

// ItemsFor returns the open items reviewer may decide now.
func (in *Instance) ItemsFor(reviewer string) []*Item {
	var out []*Item
	for _, it := range in.Items {
		if it.Decision == nil && it.mayDecide(reviewer) {
			out = append(out, it)
		}
	}
	return out
}

// PendingReviewers returns every reviewer with an undecided item, in
// first-seen order (group rules expand to their members).
func (in *Instance) PendingReviewers() []string {
	var out []string
	seen := map[string]bool{}
	for _, it := range in.Items {
		if it.Decision != nil {
			continue
		}
		for _, r := range it.Reviewers() {
			if !seen[norm(r)] {
				seen[norm(r)] = true
				out = append(out, norm(r))
			}
		}
	}
	return out
}

func (in *Instance) clone() *Instance {
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("review: clone %s: %v", in.ID, err))
	}
	var c Instance
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("review: clone %s: %v", in.ID, err))
	}
	return &c
}

func norm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
