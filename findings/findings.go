// Package findings is Steward's standing risk report: checks mapped to the
// OWASP Non-Human Identities Top 10 (2025), privilege-escalation paths
// (findings/escalation) and separation-of-duties violations
// (findings/sod), each finding naming its identity and the edges that
// prove it. The CLI (steward findings), the HTTP API (GET /v1/findings)
// and remediation policy triggers all run the same checks.
package findings

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/findings/sod"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// Finding is one identity failing one check. Its JSON shape is a contract:
// fields are only added.
type Finding struct {
	Check    string `json:"check"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	// OWASP is the OWASP NHI Top 10 (2025) item: "NHI1".."NHI10".
	OWASP    string          `json:"owasp"`
	Identity string          `json:"identity"`
	Name     string          `json:"name"`
	Kind     graph.Kind      `json:"kind"`
	Source   string          `json:"source"`
	Detail   string          `json:"detail,omitempty"`
	Evidence []query.EdgeRef `json:"evidence"`
}

// Check is one standing check.
type Check struct {
	ID       string `json:"id"`
	OWASP    string `json:"owasp"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	// Sees and CannotSee say what Steward's graph shows for this item and
	// what it cannot know, so nobody reads an empty result as "safe".
	Sees      string `json:"sees"`
	CannotSee string `json:"cannot_see"`
	// Query is the plan that finds it ("steward query --plan"), when the
	// check is one plan; nil for checks computed otherwise.
	Query *query.Plan `json:"query,omitempty"`
	run   func(ctx context.Context, ix *graph.Index, now time.Time, c *Check) ([]Finding, error)
}

// Options configure a run.
type Options struct {
	// SoD is the separation-of-duties rule set; nil means sod.Default().
	SoD *sod.Rules
}

// Checker runs the checks.
type Checker struct {
	checks []*Check
}

// New returns the checker with every check.
func New(opts Options) *Checker {
	rules := opts.SoD
	if rules == nil {
		rules = sod.Default()
	}
	return &Checker{checks: catalog(rules)}
}

// Checks lists the checks, in report order.
func (c *Checker) Checks() []*Check { return c.checks }

// Lookup returns the check with id (case-insensitive).
func (c *Checker) Lookup(id string) (*Check, bool) {
	for _, ch := range c.checks {
		if strings.EqualFold(ch.ID, id) {
			return ch, true
		}
	}
	return nil, false
}

// Select returns the checks an id names: a check id, or an OWASP item
// ("NHI5" also selects ESC and SOD, which map to it). An unknown id is an
// error listing the known ones.
func (c *Checker) Select(id string) ([]*Check, error) {
	if id == "" {
		return c.checks, nil
	}
	var out []*Check
	for _, ch := range c.checks {
		if strings.EqualFold(ch.ID, id) || strings.EqualFold(ch.OWASP, id) {
			out = append(out, ch)
		}
	}
	if len(out) == 0 {
		var ids []string
		for _, ch := range c.checks {
			ids = append(ids, ch.ID)
		}
		return nil, fmt.Errorf("findings: unknown check %q (known: %s)", id, strings.Join(ids, ", "))
	}
	return out, nil
}

// Run runs checks over ix and returns their findings, by check then
// identity.
func (c *Checker) Run(ctx context.Context, ix *graph.Index, now time.Time, checks []*Check) ([]Finding, error) {
	var out []Finding
	for _, ch := range checks {
		fs, err := ch.run(ctx, ix, now, ch)
		if err != nil {
			return nil, fmt.Errorf("findings: check %s: %w", ch.ID, err)
		}
		sort.SliceStable(fs, func(i, j int) bool {
			if fs[i].Identity != fs[j].Identity {
				return fs[i].Identity < fs[j].Identity
			}
			return fs[i].Detail < fs[j].Detail
		})
		out = append(out, fs...)
	}
	return out, nil
}

func newFinding(ix *graph.Index, c *Check, i int32, detail string, ev []int32) Finding {
	n := ix.Node(i)
	refs := make([]query.EdgeRef, 0, len(ev))
	for _, e := range ev {
		refs = append(refs, query.Ref(ix.Edge(e)))
	}
	return Finding{Check: c.ID, Title: c.Title, Severity: c.Severity, OWASP: c.OWASP, Identity: n.ID,
		Name: n.Name, Kind: n.Kind, Source: n.Source, Detail: detail, Evidence: refs}
}

// planCheck runs the check's plan; each row is a finding with the row's
// evidence.
func planCheck(ctx context.Context, ix *graph.Index, now time.Time, c *Check) ([]Finding, error) {
	p := *c.Query
	p.Limit = query.MaxLimit
	res, err := query.Execute(ctx, ix, &p, now)
	if err != nil {
		return nil, err
	}
	out := make([]Finding, 0, len(res.IDs))
	for k, id := range res.IDs {
		i, _ := ix.Lookup(id)
		n := ix.Node(i)
		f := Finding{Check: c.ID, Title: c.Title, Severity: c.Severity, OWASP: c.OWASP, Identity: id,
			Name: n.Name, Kind: n.Kind, Source: n.Source, Evidence: res.Evidence[k]}
		if f.Evidence == nil {
			f.Evidence = []query.EdgeRef{}
		}
		out = append(out, f)
	}
	return out, nil
}

// Report is the JSON shape of steward findings and GET /v1/findings: a
// contract, fields are only added.
type Report struct {
	Now      string        `json:"now"`
	Checks   []CheckResult `json:"checks"`
	Findings []Finding     `json:"findings"`
	Total    int           `json:"total"`
}

// CheckResult is one check and how many findings it produced.
type CheckResult struct {
	*Check
	Count int `json:"count"`
}

// Report runs the checks id selects ("" for all) and summarises them.
func (c *Checker) Report(ctx context.Context, ix *graph.Index, now time.Time, id string) (*Report, error) {
	checks, err := c.Select(id)
	if err != nil {
		return nil, err
	}
	fs, err := c.Run(ctx, ix, now, checks)
	if err != nil {
		return nil, err
	}
	if fs == nil {
		fs = []Finding{}
	}
	count := map[string]int{}
	for _, f := range fs {
		count[f.Check]++
	}
	r := &Report{Now: now.UTC().Format(time.RFC3339), Findings: fs, Total: len(fs)}
	for _, ch := range checks {
		r.Checks = append(r.Checks, CheckResult{Check: ch, Count: count[ch.ID]})
	}
	return r, nil
}
