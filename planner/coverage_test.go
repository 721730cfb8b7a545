package planner

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/query"
)

// answerable are questions the planner maps, across intents.
var answerable = []string{
	"admins idle 30 days",
	"service accounts with no owner",
	"identities whose owner left",
	"keys older than 90 days",
	"what can ci-deployer access",
	"who can read secrets",
	"credentials expiring in 14 days",
	"count identities by source",
	"leaked keys still active",
	"dormant bots in prod",
	"who can assume terraform-apply",
	"gcp service accounts never used",
	"access keys not rotated in a year",
	"expired certificates in entra",
	"top 5 oldest keys",
}

// TestUnknownContentWordRefused checks that no plan is produced for a
// question with a word the planner cannot use: every answerable question
// above, with an unknown word put at the start, in the middle and at the
// end, is refused, and the refusal names the word.
func TestUnknownContentWordRefused(t *testing.T) {
	ix := graph.Build(demo.Generate(demo.Config{Seed: 1, Size: 2000}))
	o := Options{Resolver: IndexResolver(ix)}
	for _, q := range answerable {
		if _, err := PlanWith(q, nil, o); err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		words := strings.Fields(q)
		for _, unknown := range []string{"zorblax", "berlin", "tokyo", "quantum", "marketing", "vpn"} {
			for _, at := range []int{0, len(words) / 2, len(words)} {
				w := slices.Insert(slices.Clone(words), at, unknown)
				qq := strings.Join(w, " ")
				p, err := PlanWith(qq, nil, o)
				var um *UnmappedError
				if !errors.As(err, &um) {
					t.Errorf("%q: planned %+v, want a refusal", qq, p)
					continue
				}
				if !strings.Contains(um.Error(), unknown) {
					t.Errorf("%q: refusal does not name %q: %v", qq, unknown, err)
				}
			}
		}
	}
}

func TestCoverageRefusals(t *testing.T) {
	tests := []struct {
		q       string
		unknown []string
	}{
		{"admins idle 30 days in the eu-west-1 region", []string{"eu-west-1 region"}},
		{"bots owned by people in the Berlin office", []string{"berlin office"}},
		{"write me a poem about IAM", []string{"poem"}},
		// A negation is never dropped: "not older" is not "older".
		{"keys not older than 90 days", []string{"not"}},
		// A number without a unit is not a duration.
		{"keys older than 90", []string{"older", "90"}},
		{"identities owned by the finance department", []string{"finance department"}},
		{"admins with MFA disabled", []string{"mfa"}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			p, err := Plan(tt.q, nil)
			var um *UnmappedError
			if !errors.As(err, &um) {
				t.Fatalf("planned %+v", p)
			}
			for _, w := range tt.unknown {
				if !slices.ContainsFunc(um.Unknown, func(u string) bool { return strings.Contains(u, w) }) {
					t.Errorf("unknown %q, want %q among them", um.Unknown, w)
				}
			}
		})
	}
}

func TestNegationKept(t *testing.T) {
	p := mustPlan(t, "leaked keys that haven't been disabled", nil)
	f, ok := findFilter(p, "status")
	if !ok || f.Value != "active" {
		t.Fatalf("status filter %+v, want active (not disabled)", f)
	}
	p = mustPlan(t, "disabled keys", nil)
	if f, _ := findFilter(p, "status"); f.Value != "disabled" {
		t.Fatalf("status filter %+v, want disabled", f)
	}
}

func TestTypoCorrections(t *testing.T) {
	tests := []struct {
		q    string
		want []Correction
		has  []query.Filter
	}{
		{"admnis idle 30 days", []Correction{{"admnis", "admins"}}, []query.Filter{filter("privilege", "eq", "admin"), filter("idle_days", "gte", 30.0)}},
		{"show me idel admins", []Correction{{"idel", "idle"}}, []query.Filter{filter("privilege", "eq", "admin"), filter("idle_days", "gte", 90.0)}},
		{"service acounts with no owner", []Correction{{"acounts", "accounts"}}, []query.Filter{filter("owner_status", "eq", "absent")}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			u, err := Understand(tt.q, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(u.Corrections, tt.want) {
				t.Errorf("corrections %v, want %v", u.Corrections, tt.want)
			}
			for _, f := range tt.has {
				if !slices.ContainsFunc(u.Plan.Filters, func(g query.Filter) bool { return g.Field == f.Field && g.Op == f.Op && g.Value == f.Value }) {
					t.Errorf("filters %+v lack %+v", u.Plan.Filters, f)
				}
			}
		})
	}
	// A word close to none, or to two, is not guessed.
	for _, w := range []string{"poem", "berlin", "sales"} {
		if to, ok := correct(w); ok {
			t.Errorf("correct(%q) = %q", w, to)
		}
	}
}

func TestPhrasings(t *testing.T) {
	tests := []struct {
		q     string
		check func(p *query.Plan) bool
	}{
		{"ci-deployer permissions", func(p *query.Plan) bool { return p.Reach != nil && p.Reach.From == "ci-deployer" }},
		{"terraform's permissions", func(p *query.Plan) bool { return p.Reach != nil && p.Reach.From == "terraform" }},
		{"where can ci-deployer reach", func(p *query.Plan) bool { return p.Reach != nil && p.Reach.From == "ci-deployer" }},
		{"identities owned by former employees", func(p *query.Plan) bool { return hasF(p, "owner_status", "departed") && len(p.Kinds) == 0 }},
		{"which identities belong to people who left", func(p *query.Plan) bool { return hasF(p, "owner_status", "departed") && len(p.Kinds) == 0 }},
		{"identities whose owner is no longer with us", func(p *query.Plan) bool { return hasF(p, "owner_status", "departed") }},
		{"credentials expiring in the next fortnight", func(p *query.Plan) bool { return hasF(p, "expires_in_days", 14.0) }},
		{"keys expiring this quarter", func(p *query.Plan) bool { return hasF(p, "expires_in_days", 90.0) }},
		{"keys older than a year", func(p *query.Plan) bool { return hasF(p, "age_days", 365.0) }},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if p := mustPlan(t, tt.q, nil); !tt.check(p) {
				t.Fatalf("plan %+v", p)
			}
		})
	}
}

func hasF(p *query.Plan, field string, v any) bool {
	return slices.ContainsFunc(p.Filters, func(f query.Filter) bool { return f.Field == field && f.Value == v })
}

// TestCaseInsensitiveIDs: questions are read lower-cased, and ids with
// capitals still resolve. The role id is from the Cloudsplaining example
// authorization details (../shared/samples/aws/SOURCES.md).
func TestCaseInsensitiveIDs(t *testing.T) {
	id := "aws:012345678901:role/OverprivilegedEC2"
	ix := graph.Build([]*graph.Subgraph{{Source: "aws:012345678901", Nodes: []graph.Node{
		{ID: id, Kind: graph.KindRole, Source: "aws:012345678901", Name: "OverprivilegedEC2"},
	}}})
	for _, q := range []string{"what can " + id + " access", "what can overprivilegedec2 access", "what can OverprivilegedEC2 access"} {
		p, err := PlanWith(q, nil, Options{Resolver: IndexResolver(ix)})
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if p.Reach == nil || p.Reach.From != id {
			t.Fatalf("%q: reach %+v, want from %s", q, p.Reach, id)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{"admins idle 30 days", []string{"non-human identities", "admin privilege", "idle ≥ 30 days", "up to 200 rows"}},
		{"gcp service accounts with no owner", []string{"service accounts, workloads, OAuth apps", "in gcp", "no owner"}},
		{"credentials expiring in 14 days", []string{"credentials", "expiring within 14 days"}},
		{"top 5 oldest keys", []string{"first 5 rows", "sorted by created at"}},
		{"what can ci-deployer access", []string{"what ci-deployer can reach"}},
		{"count identities by source", []string{"counted by source type"}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			d := Describe(mustPlan(t, tt.q, nil), DescribeOptions{Rows: true})
			for _, w := range tt.want {
				if !strings.Contains(d, w) {
					t.Errorf("%q lacks %q", d, w)
				}
			}
		})
	}
}
