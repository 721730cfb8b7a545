package review

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/remediation"
	"github.com/steward-oss/steward/workflow"
)

// Audit actions of reviews.
const (
	ActionLaunch     = "review_launch"
	ActionAssign     = "review_assignment"
	ActionDecision   = "review_decision"
	ActionReassign   = "review_reassignment"
	ActionReminder   = "review_reminder"
	ActionEscalation = "review_escalation"
	ActionDefault    = "review_default"
	ActionOutcome    = "review_outcome"
	ActionClose      = "review_close"
)

// Auditor receives one record per event; *audit.Log implements it.
type Auditor interface {
	Append(ctx context.Context, r audit.Record) (audit.Record, error)
}

// Approvals opens the proposals of Revoke and Modify decisions and tells
// how they went; *approval.Service is one.
type Approvals interface {
	remediation.Proposer
	Get(ctx context.Context, id string) (*approval.Proposal, error)
}

var _ Approvals = (*approval.Service)(nil)

// Notice tells a reviewer about their items.
type Notice struct {
	Kind     string // assigned, reminder, escalated, reassigned
	Instance *Instance
	Reviewer string
	Items    []*Item
}

// Notifier delivers notices (the Slack app). Delivery failures are the
// notifier's to log: a review never waits on a chat system.
type Notifier interface {
	Notify(ctx context.Context, n Notice)
}

// Clock tells the time; tests pass a fake one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Actor is who acts and where from; the approval package's type.
type Actor = approval.Actor

// systemActor is the actor of what the schedule does (reminders,
// escalations, defaults).
var systemActor = Actor{ID: "steward", Where: audit.WhereScheduler}

// Options configure a Service.
type Options struct {
	Store     Store
	Audit     Auditor
	Approvals Approvals
	Graph     Graph
	// Finder runs scopes (default: workflow.Finder over Graph).
	Finder Finder
	// Groups resolves group rules without inline members (configured
	// approver groups).
	Groups   approval.Groups
	Notifier Notifier
	Clock    Clock
	Logger   *slog.Logger
	// ApprovalWindow is how long a decision's proposal waits for
	// approvers (default 7 days).
	ApprovalWindow time.Duration
}

// Service runs campaigns.
type Service struct {
	o   Options
	log *slog.Logger
}

// NewService checks o and returns a Service.
func NewService(o Options) (*Service, error) {
	switch {
	case o.Store == nil:
		return nil, errors.New("review: new service: store is nil")
	case o.Audit == nil:
		return nil, errors.New("review: new service: audit is nil (every review event must be audited)")
	case o.Approvals == nil:
		return nil, errors.New("review: new service: approvals is nil (revocations go through approval)")
	}
	if o.Finder == nil && o.Graph != nil {
		o.Finder = &workflow.Finder{Graph: o.Graph}
	}
	if o.Groups == nil {
		o.Groups = approval.StaticGroups{}
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ApprovalWindow <= 0 {
		o.ApprovalWindow = 7 * 24 * time.Hour
	}
	return &Service{o: o, log: o.Logger.With("component", "review")}, nil
}

// Get returns a launched campaign.
func (s *Service) Get(ctx context.Context, id string) (*Instance, error) {
	return s.o.Store.Get(ctx, id)
}

// List returns every launched campaign, newest first.
func (s *Service) List(ctx context.Context) ([]*Instance, error) { return s.o.Store.List(ctx) }

func (s *Service) now() time.Time { return s.o.Clock.Now().UTC() }

// Launch runs the campaign's scope over the current graph, snapshots
// every match into an item with its reviewer chain and stores the
// launched campaign; each reviewer is then notified of their items.
func (s *Service) Launch(ctx context.Context, c *Campaign, by Actor) (*Instance, error) {
	return s.launch(ctx, c, by, "")
}

func (s *Service) launch(ctx context.Context, c *Campaign, by Actor, id string) (*Instance, error) {
	if s.o.Graph == nil || s.o.Finder == nil {
		return nil, errors.New("review: launch: no graph")
	}
	cc := *c
	c = &cc
	if err := c.Validate(); err != nil {
		return nil, err
	}
	now := s.now()
	plan := c.Plan
	if c.Question != "" {
		p, err := planner.Plan(c.Question, nil)
		if err != nil {
			return nil, fmt.Errorf("review: launch %s: scope question %q: %w", c.Name, c.Question, err)
		}
		if plan, err = json.Marshal(p); err != nil {
			return nil, fmt.Errorf("review: launch %s: encode plan: %w", c.Name, err)
		}
	}
	if err := workflow.ValidatePlan(plan); err != nil {
		return nil, fmt.Errorf("review: launch %s: scope: %w", c.Name, err)
	}
	ix := s.o.Graph.Index()
	if ix == nil {
		return nil, errors.New("review: launch: no graph is loaded")
	}
	targets, err := s.o.Finder.Find(ctx, plan, now)
	if err != nil {
		return nil, fmt.Errorf("review: launch %s: %w", c.Name, err)
	}
	var sgs []*graph.Subgraph
	if a, ok := s.o.Graph.(Subgraphs); ok {
		sgs = a.All()
	}
	due := c.Due
	if due.IsZero() {
		due = now.Add(c.Duration)
	}
	if !due.After(now) {
		return nil, fmt.Errorf("review: launch %s: due: %w: %s is not in the future", c.Name, ErrInvalid, due.Format(time.RFC3339))
	}
	if id == "" {
		id = c.Name + "-" + now.Format("20060102") + "-" + randHex(3)
	}
	in := &Instance{ID: id, Campaign: *c, LaunchedBy: by.ID,
		LaunchedAt: now, Due: due, Plan: plan, State: StateOpen, UpdatedAt: now}
	for k, t := range targets {
		snap, err := snapshot(ix, sgs, t, c.IdleDays, now)
		if err != nil {
			return nil, err
		}
		it := &Item{ID: "i" + strconv.Itoa(k+1), Snapshot: snap, Outcome: OutcomePending, AssignedAt: now}
		it.Chain, it.Skipped = resolveChain(ix, c, &snap, s.o.Groups)
		it.assign(0)
		detail := "assigned to " + it.Reviewer
		if it.Reviewer == "" {
			detail = "no rule yields a reviewer"
		}
		it.Events = append(it.Events, Event{At: now, Kind: "assigned", Detail: detail})
		in.Items = append(in.Items, it)
	}
	err = s.o.Store.Create(ctx, in, func(in *Instance) error {
		if err := s.record(ctx, by, ActionLaunch, in.ID, fmt.Sprintf("launched (%d items, %d reviewers)", len(in.Items), len(in.PendingReviewers())),
			map[string]string{"campaign": c.Name, "plan": clip(string(plan), 2000), "due": due.Format(time.RFC3339), "items": strconv.Itoa(len(in.Items))}); err != nil {
			return err
		}
		for _, it := range in.Items {
			d := map[string]string{"campaign": in.ID, "item": it.ID, "reviewer": it.Reviewer}
			if len(it.Skipped) > 0 {
				d["skipped"] = strings.Join(it.Skipped, "; ")
			}
			out := "assigned"
			if it.Reviewer == "" {
				out = "unassigned: no rule yields a reviewer"
			}
			if err := s.record(ctx, by, ActionAssign, it.Snapshot.ID, out, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("review: launch %s: %w", c.Name, err)
	}
	for _, r := range in.PendingReviewers() {
		s.notify(ctx, Notice{Kind: "assigned", Instance: in, Reviewer: r, Items: in.ItemsFor(r)})
	}
	return in, nil
}

// RunSchedule launches every campaign that is due: one never launched,
// or a recurring one whose period has passed since its latest launch.
// A scheduled launch's id is the campaign name and the day, so two
// replicas running the schedule the same day launch it once (the second
// gets ErrExists and skips). It returns what it launched; a campaign that
// fails does not stop the others.
func (s *Service) RunSchedule(ctx context.Context, cs []*Campaign) ([]*Instance, error) {
	ins, err := s.o.Store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("review: schedule: %w", err)
	}
	latest := map[string]time.Time{}
	for _, in := range ins {
		if t, ok := latest[in.Campaign.Name]; !ok || in.LaunchedAt.After(t) {
			latest[in.Campaign.Name] = in.LaunchedAt
		}
	}
	now := s.now()
	var out []*Instance
	var errs []error
	for _, c := range cs {
		last, launched := latest[c.Name]
		switch {
		case !launched:
		case c.Schedule == ScheduleOnce || c.Every <= 0:
			continue
		case now.Before(last.Add(c.Every)):
			continue
		}
		in, err := s.launch(ctx, c, systemActor, c.Name+"-"+now.Format("20060102"))
		switch {
		case errors.Is(err, ErrExists):
			continue
		case err != nil:
			errs = append(errs, err)
			continue
		}
		out = append(out, in)
	}
	return out, errors.Join(errs...)
}

// Input is a reviewer's decision on one item.
type Input struct {
	Kind          DecisionKind `json:"decision"`
	Justification string       `json:"justification,omitempty"`
	// Until is how long a Keep lasts (default: the campaign's keep_for).
	Until time.Time `json:"until,omitzero"`
	// To is the new reviewer of a Reassign (an e-mail).
	To string `json:"to,omitempty"`
}

// Decide records by's decision on item itemID of campaign id. A refusal
// (closed campaign, not the reviewer, self-review, missing justification)
// changes nothing and is audited. Revoke and Modify open a remediation
// proposal requested by the reviewer.
func (s *Service) Decide(ctx context.Context, id, itemID string, d Input, by Actor) (*Instance, *Item, error) {
	var notice *Notice
	var decided *Item
	in, err := s.o.Store.Update(ctx, id, func(in *Instance) error {
		now := s.now()
		it, err := in.Item(itemID)
		if err != nil {
			return err
		}
		if err := s.check(in, it, by, now); err != nil {
			return err
		}
		c := &in.Campaign
		dec := &Decision{Kind: d.Kind, By: norm(by.ID), Where: by.Where, Justification: strings.TrimSpace(d.Justification), At: now}
		switch d.Kind {
		case DecisionKeep:
			if dec.Justification == "" && justificationRequired(c, &it.Snapshot) {
				return ErrJustificationRequired
			}
			dec.Until = d.Until.UTC()
			if dec.Until.IsZero() {
				dec.Until = now.Add(c.KeepFor)
			}
			if !dec.Until.After(now) {
				return fmt.Errorf("%w: keep until %s is not in the future", ErrBadDecision, dec.Until.Format(time.DateOnly))
			}
			it.Decision, it.Outcome = dec, OutcomeKept
		case DecisionRevoke, DecisionModify:
			p, err := s.propose(ctx, in, it, dec, by)
			if err != nil {
				return err
			}
			it.Decision, it.Outcome, it.ProposalID, it.ProposalState = dec, OutcomeProposed, p.ID, string(p.State)
			it.Events = append(it.Events, Event{At: now, Kind: "proposal", Detail: "proposal " + p.ID + " " + string(p.State)})
		case DecisionReassign:
			to := norm(d.To)
			switch {
			case !strings.Contains(to, "@"):
				return fmt.Errorf("%w: reassign needs the new reviewer's e-mail", ErrBadDecision)
			case to == norm(by.ID):
				return fmt.Errorf("%w: the item is already yours", ErrBadDecision)
			case !c.OwnerMayReview && it.ownedBy(to):
				return fmt.Errorf("%w: %s owns the identity", ErrSelfReview, to)
			case dec.Justification == "":
				return fmt.Errorf("%w: reassign needs a note", ErrBadDecision)
			}
			if ix := s.index(); ix != nil {
				if known, gone, _ := person(ix, to); known && gone {
					return fmt.Errorf("%w: %s has left", ErrBadDecision, to)
				}
			}
			from := it.Reviewer
			it.Reviewer, it.Members, it.AssignedAt = to, nil, now
			it.Events = append(it.Events, Event{At: now, Kind: "reassigned", By: norm(by.ID), Detail: fmt.Sprintf("from %s to %s: %s", from, to, dec.Justification)})
			decided = it
			notice = &Notice{Kind: "reassigned", Instance: in, Reviewer: to, Items: []*Item{it}}
			in.UpdatedAt = now
			return s.record(ctx, by, ActionReassign, it.Snapshot.ID, "reassigned to "+to,
				map[string]string{"campaign": in.ID, "item": it.ID, "from": from, "to": to, "note": clip(dec.Justification, 500)})
		default:
			return fmt.Errorf("%w: %q is not keep, revoke, modify or reassign", ErrBadDecision, d.Kind)
		}
		decided = it
		in.UpdatedAt = now
		details := map[string]string{"campaign": in.ID, "item": it.ID, "decision": string(d.Kind), "justification": clip(dec.Justification, 1000)}
		if !dec.Until.IsZero() {
			details["until"] = dec.Until.Format(time.RFC3339)
		}
		if it.ProposalID != "" {
			details["proposal"] = it.ProposalID
		}
		if it.Changed {
			details["changed_since_launch"] = it.ChangedHow
		}
		return s.record(ctx, by, ActionDecision, it.Snapshot.ID, string(d.Kind), details)
	})
	if err != nil {
		s.refused(ctx, id, itemID, d, by, err)
		return nil, nil, fmt.Errorf("review: decide %s/%s: %w", id, itemID, err)
	}
	if notice != nil {
		notice.Instance = in
		s.notify(ctx, *notice)
	}
	it, _ := in.Item(decided.ID)
	return in, it, nil
}

// check applies the rules every decision shares.
func (s *Service) check(in *Instance, it *Item, by Actor, now time.Time) error {
	switch {
	case in.State == StateClosed:
		return fmt.Errorf("%w (closed %s)", ErrClosed, in.ClosedAt.Format(time.RFC3339))
	case !now.Before(in.Due):
		return fmt.Errorf("%w (due %s)", ErrClosed, in.Due.Format(time.RFC3339))
	case it.Decision != nil:
		return fmt.Errorf("%w: %s by %s", ErrAlreadyDecided, it.Decision.Kind, it.Decision.By)
	case !in.Campaign.OwnerMayReview && it.ownedBy(by.ID):
		return ErrSelfReview
	case !it.mayDecide(by.ID):
		return fmt.Errorf("%w: %s", ErrNotReviewer, by.ID)
	}
	return nil
}

func justificationRequired(c *Campaign, s *Snapshot) bool {
	switch c.RequireJustification {
	case JustifyAlways:
		return true
	case JustifyNever:
		return false
	}
	return s.Privileged() || s.IdleDays >= c.IdleDays
}

// refused audits a refused decision (the campaign did not change).
func (s *Service) refused(ctx context.Context, id, itemID string, d Input, by Actor, cause error) {
	target := itemID
	if in, err := s.o.Store.Get(ctx, id); err == nil {
		if it, err := in.Item(itemID); err == nil {
			target = it.Snapshot.ID
		}
	}
	action := ActionDecision
	if d.Kind == DecisionReassign {
		action = ActionReassign
	}
	if err := s.record(context.WithoutCancel(ctx), by, action, target, "refused: "+rootCause(cause),
		map[string]string{"campaign": id, "item": itemID, "decision": string(d.Kind)}); err != nil {
		s.log.Error("audit of a refused decision", "campaign", id, "item", itemID, "err", err)
	}
}

// rootCause is the sentinel's text when err wraps one, else err's.
func rootCause(err error) string {
	for _, e := range []error{ErrClosed, ErrNotReviewer, ErrSelfReview, ErrAlreadyDecided, ErrJustificationRequired, ErrBadDecision, ErrNotFound} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return clip(err.Error(), 300)
}

// propose opens the remediation proposal of a Revoke or Modify (or a
// default revoke at the deadline).
func (s *Service) propose(ctx context.Context, in *Instance, it *Item, dec *Decision, by Actor) (*approval.Proposal, error) {
	snap := &it.Snapshot
	var actions []connectors.Action
	switch dec.Kind {
	case DecisionRevoke:
		typ := remediation.ActionDeactivateIdentity
		if snap.Kind == graph.KindCredential {
			typ = remediation.ActionDisableCredential
		}
		actions = []connectors.Action{{Type: typ, Target: snap.ID}}
	case DecisionModify:
		var err error
		if actions, err = s.modifyActions(snap); err != nil {
			return nil, err
		}
	}
	just := fmt.Sprintf("access review %s (%s), item %s: %s by %s", in.Campaign.Name, in.ID, it.ID, dec.Kind, dec.By)
	if dec.Justification != "" {
		just += ": " + dec.Justification
	}
	plan := in.Plan
	rp := &remediation.Proposal{
		Policy: "review:" + in.ID,
		Plan:   plan,
		Targets: []remediation.Target{{ID: snap.ID, Name: snap.Name, Kind: snap.Kind, Source: snap.Source,
			OwnerEmail: snap.Owner, Why: snap.Evidence, Expect: snap.Expect}},
		Actions:       actions,
		Justification: just,
		Approvers:     remediation.Approvers{Required: in.Campaign.Approvers.Required, Group: in.Campaign.Approvers.Group},
		ExpiresAt:     s.now().Add(s.o.ApprovalWindow),
		OnExpiry:      approval.ExpiryCancel,
	}
	p, err := remediation.Submit(ctx, s.o.Approvals, rp, by)
	if err != nil {
		if errors.Is(err, approval.ErrInvalidProposal) || errors.Is(err, remediation.ErrInvalid) || errors.Is(err, approval.ErrDuplicateKey) {
			return nil, fmt.Errorf("%w: %w", ErrBadDecision, err)
		}
		return nil, err
	}
	return p, nil
}

// modifyActions are the revoke_grant actions that take away the unused
// grants an actuator can remove whole: a PostgreSQL privilege on a
// database, schema or table granted to the role itself, and an AWS
// managed policy attached to the identity none of whose actions were
// used.
func (s *Service) modifyActions(snap *Snapshot) ([]connectors.Action, error) {
	if !snap.UnusedKnown {
		return nil, fmt.Errorf("%w: the permissions %s used are not known (no usage data); keep or revoke instead", ErrBadDecision, snap.Name)
	}
	unused := map[string]bool{}
	for _, a := range snap.Unused {
		unused[a] = true
	}
	if len(unused) == 0 {
		return nil, fmt.Errorf("%w: %s used every permission it holds; nothing to remove", ErrBadDecision, snap.Name)
	}
	ix := s.index()
	var out []connectors.Action
	seen := map[string]bool{}
	usedBy := map[string]bool{} // policies some of whose actions were used
	for _, g := range snap.Grants {
		if !unused[g.Action] {
			usedBy[g.From] = true
		}
	}
	for _, g := range snap.Grants {
		if !unused[g.Action] {
			continue
		}
		switch graph.SourceType(snap.Source) {
		case "postgres":
			if g.From != snap.ID || g.Action == "*" {
				continue
			}
			k := g.Action + "|" + g.To
			if !seen[k] {
				seen[k] = true
				out = append(out, connectors.Action{Type: remediation.ActionRevokeGrant, Target: snap.ID,
					Params: map[string]string{"privilege": g.Action, "resource": g.To}})
			}
		case "aws":
			if usedBy[g.From] || seen[g.From] || ix == nil {
				continue
			}
			i, ok := ix.Lookup(g.From)
			if !ok || ix.NodeKind(i) != graph.KindPolicy || ix.NodeAttr(i, graph.AttrARN) == "" {
				continue
			}
			seen[g.From] = true
			out = append(out, connectors.Action{Type: remediation.ActionRevokeGrant, Target: snap.ID,
				Params: map[string]string{"policy_arn": ix.NodeAttr(i, graph.AttrARN)}})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no actuator action can remove only the unused permissions of %s; keep or revoke instead", ErrBadDecision, snap.Name)
	}
	slices.SortFunc(out, func(a, b connectors.Action) int { return strings.Compare(fmt.Sprint(a.Params), fmt.Sprint(b.Params)) })
	return out, nil
}

func (s *Service) index() *graph.Index {
	if s.o.Graph == nil {
		return nil
	}
	return s.o.Graph.Index()
}

// TickReport is what one Tick did.
type TickReport struct {
	Reminded  int `json:"reminded"`
	Escalated int `json:"escalated"`
	Defaulted int `json:"defaulted"`
	Closed    int `json:"closed"`
	Outcomes  int `json:"outcomes"`
	Changed   int `json:"changed"`
}

// Tick moves every campaign along at the clock's now: proposal outcomes
// are followed, items whose identity changed since launch are marked,
// reminders go out when a remind_before point is reached, items nobody
// decided for escalate_after move to the next rule, and at the deadline
// every undecided item gets the default decision and the campaign
// closes. The scheduler calls it periodically; it is idempotent.
func (s *Service) Tick(ctx context.Context) (*TickReport, error) {
	ins, err := s.o.Store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("review: tick: %w", err)
	}
	rep := &TickReport{}
	var errs []error
	for _, cand := range ins {
		if cand.State == StateClosed && !hasProposed(cand) {
			continue
		}
		var notices []Notice
		_, err := s.o.Store.Update(ctx, cand.ID, func(in *Instance) error {
			notices = nil
			r := TickReport{}
			if err := s.tick(ctx, in, &r, &notices); err != nil {
				return err
			}
			if r == (TickReport{}) {
				return errUnchanged
			}
			in.UpdatedAt = s.now()
			rep.Reminded += r.Reminded
			rep.Escalated += r.Escalated
			rep.Defaulted += r.Defaulted
			rep.Closed += r.Closed
			rep.Outcomes += r.Outcomes
			rep.Changed += r.Changed
			return nil
		})
		if errors.Is(err, errUnchanged) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("review: tick %s: %w", cand.ID, err))
			continue
		}
		for _, n := range notices {
			s.notify(ctx, n)
		}
	}
	return rep, errors.Join(errs...)
}

var errUnchanged = errors.New("unchanged")

func hasProposed(in *Instance) bool {
	for _, it := range in.Items {
		if it.Outcome == OutcomeProposed {
			return true
		}
	}
	return false
}

func (s *Service) tick(ctx context.Context, in *Instance, r *TickReport, notices *[]Notice) error {
	now := s.now()
	// Proposal outcomes.
	for _, it := range in.Items {
		if it.Outcome != OutcomeProposed || it.ProposalID == "" {
			continue
		}
		p, err := s.o.Approvals.Get(ctx, it.ProposalID)
		if err != nil {
			return fmt.Errorf("proposal %s: %w", it.ProposalID, err)
		}
		if string(p.State) == it.ProposalState {
			continue
		}
		it.ProposalState = string(p.State)
		switch p.State {
		case approval.StateDone:
			it.Outcome = OutcomeExecuted
		case approval.StateFailed:
			it.Outcome = OutcomeFailed
		case approval.StateRolledBack:
			it.Outcome = OutcomeRolledBack
		case approval.StateRejected, approval.StateChangesRequested, approval.StateCancelled, approval.StateExpired:
			it.Outcome = OutcomeNotApproved
		}
		it.Events = append(it.Events, Event{At: now, Kind: "proposal", Detail: "proposal " + p.ID + " " + string(p.State)})
		r.Outcomes++
		if err := s.record(ctx, systemActor, ActionOutcome, it.Snapshot.ID, string(it.Outcome),
			map[string]string{"campaign": in.ID, "item": it.ID, "proposal": p.ID, "proposal_state": string(p.State)}); err != nil {
			return err
		}
	}
	if in.State == StateClosed {
		return nil
	}
	// Identities that changed since launch.
	if ix := s.index(); ix != nil {
		for _, it := range in.Items {
			if it.Changed {
				continue
			}
			if how := changes(ix, &it.Snapshot); how != "" {
				it.Changed, it.ChangedHow = true, how
				it.Events = append(it.Events, Event{At: now, Kind: "changed", Detail: how})
				r.Changed++
			}
		}
	}
	if !now.Before(in.Due) {
		return s.closeLocked(ctx, in, systemActor, "deadline", r)
	}
	// Reminders.
	for _, d := range in.Campaign.RemindBefore {
		key := d.String()
		if slices.Contains(in.RemindersSent, key) || now.Before(in.Due.Add(-d)) {
			continue
		}
		in.RemindersSent = append(in.RemindersSent, key)
		for _, rv := range in.PendingReviewers() {
			items := in.ItemsFor(rv)
			ids := make([]string, len(items))
			for k, it := range items {
				ids[k] = it.ID
			}
			in.Reminders = append(in.Reminders, Reminder{At: now, Before: key, Reviewer: rv, Items: ids})
			r.Reminded++
			if err := s.record(ctx, systemActor, ActionReminder, rv, fmt.Sprintf("reminded of %d items", len(ids)),
				map[string]string{"campaign": in.ID, "items": strings.Join(ids, ","), "due": in.Due.Format(time.RFC3339)}); err != nil {
				return err
			}
			*notices = append(*notices, Notice{Kind: "reminder", Instance: in, Reviewer: rv, Items: items})
		}
	}
	// Escalation.
	if ea := in.Campaign.EscalateAfter; ea > 0 {
		byReviewer := map[string][]*Item{}
		for _, it := range in.Items {
			if it.Decision != nil || now.Before(it.AssignedAt.Add(ea)) || it.Level+1 >= len(it.Chain) {
				continue
			}
			from := it.Reviewer
			it.assign(it.Level + 1)
			it.AssignedAt = now
			it.Events = append(it.Events, Event{At: now, Kind: "escalated", Detail: fmt.Sprintf("no decision from %s in %s; escalated to %s (%s)", from, days(ea), it.Reviewer, it.Chain[it.Level].Rule)})
			r.Escalated++
			if err := s.record(ctx, systemActor, ActionEscalation, it.Snapshot.ID, "escalated to "+it.Reviewer,
				map[string]string{"campaign": in.ID, "item": it.ID, "from": from, "rule": it.Chain[it.Level].Rule}); err != nil {
				return err
			}
			for _, rv := range it.Reviewers() {
				byReviewer[norm(rv)] = append(byReviewer[norm(rv)], it)
			}
		}
		for rv, items := range byReviewer {
			*notices = append(*notices, Notice{Kind: "escalated", Instance: in, Reviewer: rv, Items: items})
		}
	}
	return nil
}

// Close ends a campaign before its deadline: undecided items get the
// default decision, as at the deadline.
func (s *Service) Close(ctx context.Context, id string, by Actor) (*Instance, error) {
	in, err := s.o.Store.Update(ctx, id, func(in *Instance) error {
		if in.State == StateClosed {
			return ErrClosed
		}
		r := TickReport{}
		return s.closeLocked(ctx, in, by, "closed by "+by.ID, &r)
	})
	if err != nil {
		return nil, fmt.Errorf("review: close %s: %w", id, err)
	}
	return in, nil
}

// closeLocked applies the default decision to every undecided item and
// closes the campaign.
func (s *Service) closeLocked(ctx context.Context, in *Instance, by Actor, why string, r *TickReport) error {
	now := s.now()
	def := in.Campaign.DefaultDecision
	for _, it := range in.Items {
		if it.Decision != nil {
			continue
		}
		dec := &Decision{By: "steward", Where: by.Where, At: now, Default: true,
			Justification: fmt.Sprintf("default decision (%s): no reviewer decided by %s", def, in.Due.Format(time.RFC3339))}
		details := map[string]string{"campaign": in.ID, "item": it.ID, "default": def, "reviewer": it.Reviewer}
		switch def {
		case DefaultKeep:
			dec.Kind, dec.Until = DecisionKeep, now.Add(in.Campaign.KeepFor)
			it.Decision, it.Outcome = dec, OutcomeKept
		case DefaultRevoke:
			dec.Kind = DecisionRevoke
			p, err := s.propose(ctx, in, it, dec, Actor{ID: "review:" + in.ID, Where: audit.WhereScheduler})
			if err != nil {
				// The item stays undecided in the record: the proposal
				// could not be opened (say, no eligible approver).
				it.Outcome = OutcomeNoDecision
				it.Events = append(it.Events, Event{At: now, Kind: "default", Detail: "default revoke could not be proposed: " + rootCause(err)})
				details["error"] = rootCause(err)
				if err := s.record(ctx, by, ActionDefault, it.Snapshot.ID, "default revoke not proposed", details); err != nil {
					return err
				}
				r.Defaulted++
				continue
			}
			it.Decision, it.Outcome, it.ProposalID, it.ProposalState = dec, OutcomeProposed, p.ID, string(p.State)
			details["proposal"] = p.ID
		default:
			it.Outcome = OutcomeNoDecision
		}
		it.Events = append(it.Events, Event{At: now, Kind: "default", Detail: dec.Justification})
		r.Defaulted++
		if err := s.record(ctx, by, ActionDefault, it.Snapshot.ID, string(it.Outcome), details); err != nil {
			return err
		}
	}
	in.State, in.ClosedAt = StateClosed, now
	r.Closed++
	sum := Summarize(in, now)
	return s.record(ctx, by, ActionClose, in.ID, "closed ("+why+")", map[string]string{
		"items": strconv.Itoa(sum.Items), "decided": strconv.Itoa(sum.Decided), "kept": strconv.Itoa(sum.Outcomes[OutcomeKept]),
		"proposed": strconv.Itoa(sum.Outcomes[OutcomeProposed]), "no_decision": strconv.Itoa(sum.Outcomes[OutcomeNoDecision])})
}

func (s *Service) notify(ctx context.Context, n Notice) {
	if s.o.Notifier == nil || len(n.Items) == 0 {
		return
	}
	s.o.Notifier.Notify(ctx, n)
}

func (s *Service) record(ctx context.Context, by Actor, action, target, outcome string, details map[string]string) error {
	where := by.Where
	if where == "" {
		where = audit.WhereSystem
	}
	if _, err := s.o.Audit.Append(ctx, audit.Record{Actor: by.ID, Action: action, Target: target, Where: where, Outcome: outcome, Details: details}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// days renders a duration the way campaign files write it ("5d", "36h").
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("review: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
