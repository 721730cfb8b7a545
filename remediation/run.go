package remediation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/remediation/action"
)

// Finder runs a query plan over the graph at now and returns the matching
// targets with their evidence; the caller supplies it (the graph query).
type Finder interface {
	Find(ctx context.Context, plan json.RawMessage, now time.Time) ([]Target, error)
}

// Opened is a proposal RunPolicies opened.
type Opened struct {
	Policy     string      `json:"policy"`
	Stage      int         `json:"stage"`
	Action     action.Kind `json:"action"`
	Target     string      `json:"target"`
	ProposalID string      `json:"proposal_id"`
}

// Skipped is a matched target RunPolicies left alone, and why.
type Skipped struct {
	Policy string `json:"policy"`
	Stage  int    `json:"stage"`
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// Report is what one RunPolicies pass did.
type Report struct {
	Opened  []Opened  `json:"opened"`
	Skipped []Skipped `json:"skipped"`
}

// RunPolicies runs each policy's plan at now and moves every match along
// its stages:
//
//   - a target with no proposal of the policy gets stage 0;
//   - a target whose latest stage proposal is still open (proposed,
//     escalated, approved, executing) is left alone;
//   - when the latest stage is done and the next stage's After has passed
//     since, with the target still matching (nobody fixed it: no answer),
//     the next stage opens;
//   - a rejected, changes-requested, cancelled, expired, failed or
//     rolled-back stage is an answer or needs a person: the chain stops
//     there, as it does after the last stage, until RestartAfter (if set)
//     has passed, when a still-matching target starts again at stage 0.
//
// Targets that no longer match are not touched. Proposals are opened
// through svc, requested by "policy:<name>" from the scheduler, so each is
// audited; an open proposal with the same policy, stage and target
// (another replica got there first) is skipped. A failing policy does not
// stop the others; all errors are returned joined.
func RunPolicies(ctx context.Context, policies []*Policy, finder Finder, svc Proposer, now time.Time) (*Report, error) {
	rep := &Report{}
	var errs []error
	for _, pol := range policies {
		if err := runPolicy(ctx, pol, finder, svc, now, rep); err != nil {
			errs = append(errs, fmt.Errorf("remediation: policy %s: %w", pol.Name, err))
		}
	}
	return rep, errors.Join(errs...)
}

func runPolicy(ctx context.Context, pol *Policy, finder Finder, svc Proposer, now time.Time, rep *Report) error {
	matches, err := finder.Find(ctx, pol.Plan, now)
	if err != nil {
		return fmt.Errorf("find: %w", err)
	}
	existing, err := svc.List(ctx, approval.Filter{Policy: pol.Name})
	if err != nil {
		return fmt.Errorf("list proposals: %w", err)
	}
	latest := map[string]*approval.Proposal{}
	for _, p := range existing {
		ts := p.Targets()
		if len(ts) != 1 {
			continue // not opened by a policy run
		}
		cur := latest[ts[0]]
		if cur == nil || p.CreatedAt.After(cur.CreatedAt) || (p.CreatedAt.Equal(cur.CreatedAt) && p.Stage > cur.Stage) {
			latest[ts[0]] = p
		}
	}
	sort.Slice(matches, func(i, j int) bool { return matches[i].ID < matches[j].ID })
	by := approval.Actor{ID: "policy:" + pol.Name, Where: audit.WhereScheduler}
	var errs []error
	for i, t := range matches {
		if i > 0 && t.ID == matches[i-1].ID {
			continue
		}
		stage, why := nextStage(pol, latest[t.ID], now)
		if stage < 0 {
			st := 0
			if l := latest[t.ID]; l != nil {
				st = l.Stage
			}
			rep.Skipped = append(rep.Skipped, Skipped{Policy: pol.Name, Stage: st, Target: t.ID, Reason: why})
			continue
		}
		rp, skip := stageProposal(pol, stage, t, now)
		if skip != "" {
			rep.Skipped = append(rep.Skipped, Skipped{Policy: pol.Name, Stage: stage, Target: t.ID, Reason: skip})
			continue
		}
		ap, err := Submit(ctx, svc, rp, by)
		switch {
		case errors.Is(err, approval.ErrDuplicateKey):
			rep.Skipped = append(rep.Skipped, Skipped{Policy: pol.Name, Stage: stage, Target: t.ID, Reason: "an open proposal was just opened by another run"})
		case err != nil:
			errs = append(errs, fmt.Errorf("stage %d target %s: %w", stage, t.ID, err))
		default:
			rep.Opened = append(rep.Opened, Opened{Policy: pol.Name, Stage: stage, Action: pol.Stages[stage].Action, Target: t.ID, ProposalID: ap.ID})
		}
	}
	return errors.Join(errs...)
}

// nextStage decides which stage to open for a matching target whose
// latest proposal of the policy is last (nil when none): the stage index,
// or -1 and why not.
func nextStage(pol *Policy, last *approval.Proposal, now time.Time) (int, string) {
	if last == nil {
		return 0, ""
	}
	if last.State.Open() {
		return -1, fmt.Sprintf("proposal %s is %s", last.ID, last.State)
	}
	closedAt := last.UpdatedAt
	restart := func(why string) (int, string) {
		if pol.RestartAfter > 0 && !now.Before(closedAt.Add(pol.RestartAfter)) {
			return 0, ""
		}
		return -1, why
	}
	if last.State != approval.StateDone {
		return restart(fmt.Sprintf("stage %d ended %s: %s", last.Stage, last.State, last.Reason))
	}
	next := last.Stage + 1
	if next >= len(pol.Stages) {
		return restart("every stage done")
	}
	due := closedAt.Add(pol.Stages[next].After)
	if now.Before(due) {
		return -1, fmt.Sprintf("stage %d (%s) due at %s", next, pol.Stages[next].Action, due.UTC().Format(time.RFC3339))
	}
	return next, ""
}

// stageProposal builds the proposal of stage i for target t, or says why
// it cannot be made.
func stageProposal(pol *Policy, i int, t Target, now time.Time) (*Proposal, string) {
	st := pol.Stages[i]
	var params map[string]string
	if len(st.Params) > 0 {
		params = map[string]string{}
		for k, v := range st.Params {
			params[k] = v
		}
	}
	p := &Proposal{
		Policy:        pol.Name,
		Stage:         i,
		Plan:          pol.Plan,
		Targets:       []Target{t},
		Actions:       []connectors.Action{{Type: st.Action, Target: t.ID, Params: params}},
		Justification: justification(pol, i, t),
		OnExpiry:      pol.OnExpiry,
		ExpiresAt:     now.Add(pol.Expiry),
		EscalationTTL: pol.Expiry,
	}
	if st.Action == ActionNotifyOwner {
		if t.OwnerEmail == "" {
			return nil, "notify_owner: the target has no known owner"
		}
		no := false
		p.Approvers = Approvers{Required: 0, Owner: &no}
		return p, ""
	}
	p.Approvers = st.Approvers
	if p.Approvers.Group == "" && t.OwnerEmail == "" {
		return nil, fmt.Sprintf("%s: the target has no owner and the stage names no approver group", st.Action)
	}
	return p, ""
}

func justification(pol *Policy, i int, t Target) string {
	s := fmt.Sprintf("%s (stage %d of %d: %s)", pol.Justification, i+1, len(pol.Stages), pol.Stages[i].Action)
	if len(t.Why) > 0 {
		s += "; " + strings.Join(t.Why, "; ")
	}
	return s
}
