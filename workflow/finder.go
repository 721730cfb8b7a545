package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/steward-oss/steward/findings"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/remediation"
)

// Finder runs a saved policy's plan over the current graph and snapshots
// each match exactly as a Proposer does.
type Finder struct {
	Graph IndexSource
	// Findings runs the checks a policy's trigger names; nil means the
	// default checks.
	Findings *findings.Checker
}

var _ remediation.Finder = (*Finder)(nil)

// ValidatePlan checks a policy's plan: it must parse and select
// identities (a grouped plan selects counts, a reach plan grants). It is
// the validator LoadPolicies and ParsePolicy take.
func ValidatePlan(raw json.RawMessage) error {
	if t, ok := remediation.TriggerPlan(raw); ok {
		_, err := findings.New(findings.Options{}).Select(t.Finding)
		return err
	}
	_, _, err := policyPlan(raw)
	return err
}

// policyPlan parses a policy's plan; every reports that it named no limit
// and so asks for every match.
func policyPlan(raw json.RawMessage) (p *query.Plan, every bool, err error) {
	p, err = query.Parse(raw)
	if err != nil {
		return nil, false, err
	}
	switch {
	case len(p.GroupBy) > 0:
		return nil, false, &query.FieldError{Field: "group_by", Msg: "a grouped plan selects no identities"}
	case p.Reach != nil:
		return nil, false, &query.FieldError{Field: "reach", Msg: "reach rows are grants, not identities"}
	}
	// A plan without a limit means every match: a policy must not quietly
	// skip targets past the default page size.
	var lim struct {
		Limit *int `json:"limit"`
	}
	if err := json.Unmarshal(raw, &lim); err == nil && lim.Limit == nil {
		p.Limit, every = query.MaxLimit, true
	}
	return p, every, nil
}

// Find runs plan at now. A plan with no limit that matches more than
// query.MaxLimit targets is an error rather than a silent cut.
func (f *Finder) Find(ctx context.Context, plan json.RawMessage, now time.Time) ([]remediation.Target, error) {
	if t, ok := remediation.TriggerPlan(plan); ok {
		return f.findTriggered(ctx, t.Finding, now)
	}
	p, every, err := policyPlan(plan)
	if err != nil {
		return nil, fmt.Errorf("workflow: find: %w", err)
	}
	ix := f.Graph.Index()
	if ix == nil {
		return nil, errors.New("workflow: find: no graph is loaded")
	}
	res, err := query.Execute(ctx, ix, p, now)
	if err != nil {
		return nil, fmt.Errorf("workflow: find: %w", err)
	}
	if len(res.IDs) != len(res.Rows) {
		return nil, fmt.Errorf("workflow: find: %d of %d rows are not identities", len(res.Rows)-len(res.IDs), len(res.Rows))
	}
	if every && res.Total > len(res.IDs) {
		return nil, fmt.Errorf("workflow: find: the plan matches %d targets, more than the %d a policy run takes; narrow it", res.Total, query.MaxLimit)
	}
	out := make([]remediation.Target, 0, len(res.IDs))
	for k, id := range res.IDs {
		i, ok := ix.Lookup(id)
		if !ok {
			return nil, fmt.Errorf("workflow: find: row %d: %s is not in the index", k, id)
		}
		out = append(out, snapshot(ix, i, res.Evidence[k], now))
	}
	return out, nil
}

// findTriggered: the targets of a findings trigger are the identities the
// check reports now, each with its finding's evidence (one target per
// identity, however many findings it has).
func (f *Finder) findTriggered(ctx context.Context, check string, now time.Time) ([]remediation.Target, error) {
	ix := f.Graph.Index()
	if ix == nil {
		return nil, errors.New("workflow: find: no graph is loaded")
	}
	c := f.Findings
	if c == nil {
		c = findings.New(findings.Options{})
	}
	rep, err := c.Report(ctx, ix, now, check)
	if err != nil {
		return nil, fmt.Errorf("workflow: find: trigger %s: %w", check, err)
	}
	seen := map[string]bool{}
	var out []remediation.Target
	for _, fd := range rep.Findings {
		if seen[fd.Identity] {
			continue
		}
		seen[fd.Identity] = true
		i, ok := ix.Lookup(fd.Identity)
		if !ok {
			continue
		}
		out = append(out, snapshot(ix, i, fd.Evidence, now))
	}
	return out, nil
}
