package approval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/remediation/action"
)

// Auditor receives one record per transition; *audit.Log implements it.
type Auditor interface {
	Append(ctx context.Context, r audit.Record) (audit.Record, error)
}

// Clock tells the time; tests pass a fake one so expiry is testable.
type Clock interface{ Now() time.Time }

// Groups resolves a configured approver group to its members' ids.
type Groups interface{ Members(group string) []string }

// StaticGroups is a Groups from configuration: group name to member
// e-mail addresses.
type StaticGroups map[string][]string

// Members returns the members of group.
func (g StaticGroups) Members(group string) []string { return g[group] }

var _ Groups = StaticGroups(nil)

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SystemActor is the actor of transitions nobody asked for (expiry).
var SystemActor = Actor{ID: "steward", Where: audit.WhereScheduler}

// Options configure a Service.
type Options struct {
	Store  Store
	Audit  Auditor
	Groups Groups
	Clock  Clock        // default: the system clock
	Logger *slog.Logger // default: slog.Default()
}

// Service is the approval state machine over a Store. Every transition is
// one Store.Update and writes its audit record inside that update, before
// the commit, so the log never misses a change that happened (a failed
// commit afterwards is logged as such).
type Service struct {
	store  Store
	audit  Auditor
	groups Groups
	clock  Clock
	log    *slog.Logger
}

// NewService checks o and returns a Service.
func NewService(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("approval: new service: store is nil")
	}
	if o.Audit == nil {
		return nil, errors.New("approval: new service: audit is nil (every transition must be audited)")
	}
	if o.Groups == nil {
		o.Groups = StaticGroups{}
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{store: o.Store, audit: o.Audit, groups: o.Groups, clock: o.Clock, log: o.Logger.With("component", "approval")}, nil
}

// Get returns a proposal.
func (s *Service) Get(ctx context.Context, id string) (*Proposal, error) { return s.store.Get(ctx, id) }

// List returns the proposals matching f.
func (s *Service) List(ctx context.Context, f Filter) ([]*Proposal, error) {
	return s.store.List(ctx, f)
}

// Eligible returns who may approve p now: its owners, the members of its
// group and, once escalated, of its escalation group, minus the requester.
func (s *Service) Eligible(p *Proposal) []string {
	set := s.eligible(p)
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (s *Service) eligible(p *Proposal) map[string]bool {
	set := map[string]bool{}
	for _, o := range p.Rule.Owners {
		set[normID(o)] = true
	}
	if p.Rule.Group != "" {
		for _, m := range s.groups.Members(p.Rule.Group) {
			set[normID(m)] = true
		}
	}
	if p.State == StateEscalated {
		for _, m := range s.groups.Members(escalationGroup(p)) {
			set[normID(m)] = true
		}
	}
	delete(set, normID(p.Requester))
	delete(set, "")
	return set
}

func escalationGroup(p *Proposal) string {
	if p.Rule.EscalateTo != "" {
		return p.Rule.EscalateTo
	}
	return p.Rule.Group
}

// Propose validates p and stores it as proposed, with by as requester. A
// proposal whose rule requires no approval (notify_owner only) is stored
// approved at once.
func (s *Service) Propose(ctx context.Context, p *Proposal, by Actor) (*Proposal, error) {
	now := s.clock.Now().UTC()
	if len(p.Document) > 0 && !json.Valid(p.Document) {
		return nil, fmt.Errorf("approval: propose: %w: document is not valid JSON", ErrInvalidProposal)
	}
	p = p.clone()
	p.Requester = by.ID
	if err := s.validateNew(p, now); err != nil {
		return nil, err
	}
	if p.ID == "" {
		p.ID = newID()
	}
	if len(p.Document) > 0 {
		// Marshal compacts the document the way every later round trip
		// will, so the digest stays stable.
		doc, err := json.Marshal(p.Document)
		if err != nil {
			return nil, fmt.Errorf("approval: propose: %w: document: %w", ErrInvalidProposal, err)
		}
		p.Document = doc
	}
	d, err := digest(p)
	if err != nil {
		return nil, err
	}
	p.Digest = d
	p.State, p.Reason = StateProposed, ""
	p.Decisions, p.Journal = nil, nil
	p.CreatedAt, p.UpdatedAt = now, now
	outcome := "proposed"
	if p.Rule.Required == 0 {
		p.State, p.Reason = StateApproved, "no approval required: the actions only notify"
		outcome = "approved without approval (notify only)"
	}
	audited := false
	err = s.store.Create(ctx, p, func(p *Proposal) error {
		if err := s.record(ctx, by, audit.ActionProposal, p, outcome, map[string]string{"justification": p.Justification}); err != nil {
			return err
		}
		audited = true
		return nil
	})
	if err != nil && audited {
		s.recordNotCommitted(ctx, by, p, err)
	}
	if err != nil {
		return nil, fmt.Errorf("approval: propose %s: %w", p.ID, err)
	}
	return p, nil
}

func (s *Service) validateNew(p *Proposal, now time.Time) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("approval: propose: %w: %s", ErrInvalidProposal, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(p.Requester) == "" {
		return bad("requester is empty")
	}
	if strings.TrimSpace(p.Justification) == "" {
		return bad("justification is empty")
	}
	if len(p.Actions) == 0 {
		return bad("no actions")
	}
	notifyOnly := true
	for i, a := range p.Actions {
		if a.Type == "" || a.Target == "" {
			return bad("actions[%d]: type and target are required", i)
		}
		// notify_owner changes nothing in a source, so it alone may run
		// without approval (Rule.Required 0).
		if a.Type != action.NotifyOwner {
			notifyOnly = false
		}
	}
	switch {
	case p.Rule.Required < 0:
		return bad("rule.required is negative")
	case p.Rule.Required == 0 && !notifyOnly:
		return bad("rule.required is 0 but the actions change the source; only notify_owner may skip approval")
	}
	if p.Rule.Required == 0 {
		return nil
	}
	if !p.ExpiresAt.After(now) {
		return bad("expires_at %s is not in the future", p.ExpiresAt.Format(time.RFC3339))
	}
	switch p.OnExpiry {
	case ExpiryCancel:
	case ExpiryEscalate:
		if escalationGroup(p) == "" {
			return bad("on_expiry escalate needs rule.escalate_to or rule.group")
		}
		if p.Rule.EscalationTTL <= 0 {
			return bad("on_expiry escalate needs a positive rule.escalation_ttl")
		}
	default:
		return bad("on_expiry %q is not escalate or cancel", p.OnExpiry)
	}
	if n := len(s.eligible(p)); n < p.Rule.Required {
		return bad("rule needs %d approvers but only %d eligible people besides the requester", p.Rule.Required, n)
	}
	return nil
}

func newID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("approval: crypto/rand failed: " + err.Error())
	}
	return "p-" + hex.EncodeToString(b[:])
}

// MayDecide reports, changing nothing, whether by may approve or reject p
// now: the one decision rule, which Approve, Reject and RequestChanges
// check again when they record the decision. A client (Slack's reject
// dialog) asks it before collecting a reason, so a refused decider is told
// at once and in the same words as when the decision itself is refused.
func (s *Service) MayDecide(p *Proposal, by Actor) error {
	return s.decide(p, by, s.clock.Now().UTC())
}

// MayRollback reports, changing nothing, whether by may ask for p to be
// undone: an approver eligible now or one who approved it. Rollback, the
// state machine's step, does not check it; the client that acts for a
// person (Slack's rollback command) asks first.
func (s *Service) MayRollback(p *Proposal, by Actor) error {
	if s.eligible(p)[normID(by.ID)] {
		return nil
	}
	for _, a := range p.Approvals() {
		if normID(a) == normID(by.ID) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrNotApprover, by.ID)
}

// decide checks the rules every decision shares; it changes nothing.
func (s *Service) decide(p *Proposal, by Actor, now time.Time) error {
	if !p.State.awaitingDecision() {
		return fmt.Errorf("%w (state %s)", ErrAlreadyDecided, p.State)
	}
	if !now.Before(p.ExpiresAt) {
		return fmt.Errorf("%w at %s", ErrExpired, p.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if normID(by.ID) == normID(p.Requester) {
		return ErrSelfApproval
	}
	if !s.eligible(p)[normID(by.ID)] {
		return fmt.Errorf("%w: %s", ErrNotApprover, by.ID)
	}
	return nil
}

// Approve records by's approval. When the rule's N distinct approvals are
// reached the proposal becomes approved.
func (s *Service) Approve(ctx context.Context, id string, by Actor, reason string) (*Proposal, error) {
	if reasonEmpty(reason) {
		return nil, fmt.Errorf("approval: approve %s: %w", id, ErrReasonRequired)
	}
	p, err := s.update(ctx, id, by, func(p *Proposal) error {
		now := s.clock.Now().UTC()
		if err := s.decide(p, by, now); err != nil {
			return err
		}
		for _, a := range p.Approvals() {
			if normID(a) == normID(by.ID) {
				return fmt.Errorf("%w: %s", ErrDuplicateApprover, by.ID)
			}
		}
		p.Decisions = append(p.Decisions, Decision{Actor: by, Kind: DecisionApprove, Reason: reason, At: now, Digest: p.Digest})
		p.UpdatedAt = now
		n := len(p.Approvals())
		outcome := fmt.Sprintf("approval %d of %d recorded", n, p.Rule.Required)
		if n >= p.Rule.Required {
			p.State = StateApproved
			p.Reason = "approved by " + strings.Join(p.Approvals(), ", ")
			outcome = "approved"
		}
		return s.record(ctx, by, audit.ActionApproval, p, outcome, map[string]string{"reason": reason, "approvals": strconv.Itoa(n)})
	})
	if err != nil {
		return nil, fmt.Errorf("approval: approve %s: %w", id, err)
	}
	return p, nil
}

// Reject closes the proposal as rejected.
func (s *Service) Reject(ctx context.Context, id string, by Actor, reason string) (*Proposal, error) {
	return s.close(ctx, id, by, reason, DecisionReject, StateRejected, audit.ActionRejection)
}

// RequestChanges closes the proposal asking the requester for a new one.
func (s *Service) RequestChanges(ctx context.Context, id string, by Actor, reason string) (*Proposal, error) {
	return s.close(ctx, id, by, reason, DecisionRequestChanges, StateChangesRequested, audit.ActionRequestChanges)
}

func (s *Service) close(ctx context.Context, id string, by Actor, reason string, kind DecisionKind, to State, action string) (*Proposal, error) {
	if reasonEmpty(reason) {
		return nil, fmt.Errorf("approval: %s %s: %w", kind, id, ErrReasonRequired)
	}
	p, err := s.update(ctx, id, by, func(p *Proposal) error {
		now := s.clock.Now().UTC()
		if err := s.decide(p, by, now); err != nil {
			return err
		}
		p.Decisions = append(p.Decisions, Decision{Actor: by, Kind: kind, Reason: reason, At: now, Digest: p.Digest})
		p.State, p.Reason, p.UpdatedAt = to, reason, now
		return s.record(ctx, by, action, p, string(to), map[string]string{"reason": reason})
	})
	if err != nil {
		return nil, fmt.Errorf("approval: %s %s: %w", kind, id, err)
	}
	return p, nil
}

// Cancel withdraws a proposal that has not started executing. The
// requester or any eligible approver may cancel.
func (s *Service) Cancel(ctx context.Context, id string, by Actor, reason string) (*Proposal, error) {
	if reasonEmpty(reason) {
		return nil, fmt.Errorf("approval: cancel %s: %w", id, ErrReasonRequired)
	}
	p, err := s.update(ctx, id, by, func(p *Proposal) error {
		now := s.clock.Now().UTC()
		switch p.State {
		case StateProposed, StateEscalated, StateApproved:
		default:
			return fmt.Errorf("%w: cannot cancel in state %s", ErrWrongState, p.State)
		}
		if normID(by.ID) != normID(p.Requester) && !s.eligible(p)[normID(by.ID)] {
			return fmt.Errorf("%w: %s", ErrNotApprover, by.ID)
		}
		p.Decisions = append(p.Decisions, Decision{Actor: by, Kind: DecisionCancel, Reason: reason, At: now, Digest: p.Digest})
		p.State, p.Reason, p.UpdatedAt = StateCancelled, reason, now
		return s.record(ctx, by, audit.ActionCancel, p, string(StateCancelled), map[string]string{"reason": reason})
	})
	if err != nil {
		return nil, fmt.Errorf("approval: cancel %s: %w", id, err)
	}
	return p, nil
}

// Expire moves every undecided proposal past its deadline on: a proposed
// one escalates (new deadline, escalation group may now approve) or is
// cancelled, as its OnExpiry says; an escalated one expires. It returns
// the ids it changed. The scheduler calls it periodically.
func (s *Service) Expire(ctx context.Context) ([]string, error) {
	ps, err := s.store.List(ctx, Filter{States: []State{StateProposed, StateEscalated}})
	if err != nil {
		return nil, fmt.Errorf("approval: expire: %w", err)
	}
	var changed []string
	for _, cand := range ps {
		if s.clock.Now().Before(cand.ExpiresAt) {
			continue
		}
		_, err := s.update(ctx, cand.ID, SystemActor, func(p *Proposal) error {
			now := s.clock.Now().UTC()
			if !p.State.awaitingDecision() || now.Before(p.ExpiresAt) {
				return errUnchanged // decided or extended meanwhile
			}
			old := p.ExpiresAt
			switch {
			case p.State == StateProposed && p.OnExpiry == ExpiryEscalate:
				p.State = StateEscalated
				p.ExpiresAt = now.Add(p.Rule.EscalationTTL)
				p.Reason = fmt.Sprintf("unanswered by %s; escalated to group %s", old.Format(time.RFC3339), escalationGroup(p))
				p.UpdatedAt = now
				return s.record(ctx, SystemActor, audit.ActionEscalation, p, string(StateEscalated),
					map[string]string{"group": escalationGroup(p), "new_deadline": p.ExpiresAt.Format(time.RFC3339)})
			case p.State == StateProposed:
				p.State = StateCancelled
			default:
				p.State = StateExpired
			}
			p.Reason = fmt.Sprintf("unanswered by %s", old.Format(time.RFC3339))
			p.UpdatedAt = now
			return s.record(ctx, SystemActor, audit.ActionExpiry, p, string(p.State), nil)
		})
		if errors.Is(err, errUnchanged) {
			continue
		}
		if err != nil {
			return changed, fmt.Errorf("approval: expire %s: %w", cand.ID, err)
		}
		changed = append(changed, cand.ID)
	}
	return changed, nil
}

// errUnchanged aborts an Update that found nothing to do.
var errUnchanged = errors.New("unchanged")

// record writes the audit record of a transition of p.
func (s *Service) record(ctx context.Context, by Actor, action string, p *Proposal, outcome string, extra map[string]string) error {
	d := map[string]string{
		"proposal": p.ID,
		"state":    string(p.State),
		"digest":   p.Digest,
	}
	if p.Policy != "" {
		d["policy"] = p.Policy
		d["stage"] = strconv.Itoa(p.Stage)
	}
	for k, v := range extra {
		d[k] = v
	}
	where := by.Where
	if where == "" {
		where = audit.WhereSystem
	}
	_, err := s.audit.Append(ctx, audit.Record{
		Actor: by.ID, Action: action, Target: strings.Join(p.Targets(), ","), Where: where, Outcome: outcome, Details: d,
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// update runs fn in a store transaction. fn writes its audit record last;
// if the commit fails after that, a second record says the change did not
// happen, so the log stays truthful.
func (s *Service) update(ctx context.Context, id string, by Actor, fn func(p *Proposal) error) (*Proposal, error) {
	var audited *Proposal
	p, err := s.store.Update(ctx, id, func(p *Proposal) error {
		if err := fn(p); err != nil {
			return err
		}
		audited = p
		return nil
	})
	if err != nil && audited != nil {
		s.recordNotCommitted(ctx, by, audited, err)
	}
	return p, err
}

func (s *Service) recordNotCommitted(ctx context.Context, by Actor, p *Proposal, cause error) {
	where := by.Where
	if where == "" {
		where = audit.WhereSystem
	}
	_, err := s.audit.Append(context.WithoutCancel(ctx), audit.Record{
		Actor: by.ID, Action: audit.ActionCommitFailed, Target: strings.Join(p.Targets(), ","), Where: where,
		Outcome: "previous record for this proposal did not take effect",
		Details: map[string]string{"proposal": p.ID, "error": cause.Error()},
	})
	if err != nil {
		s.log.Error("audit of failed commit", "proposal", p.ID, "err", err, "cause", cause)
	}
}

func reasonEmpty(r string) bool { return strings.TrimSpace(r) == "" }
