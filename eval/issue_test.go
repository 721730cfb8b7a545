package eval_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/steward-oss/steward/eval"
	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/planner"
)

// TestIssueExamples runs the questions issue 11 reported answered wrongly
// on the demo: each must now give the gold plan's rows, or be refused
// with a reason that names what was understood and the words that could
// not be used.
func TestIssueExamples(t *testing.T) {
	ix := demoIndex(t)
	const sa = `"kinds":["service_account","workload","oauth_app"]`
	const reach = `{"version":1,"reach":{"from":"ci-deployer"}}`
	answers := []struct{ q, gold string }{
		{"admin access not acted on in 30 days", `{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"},{"field":"idle_days","op":"gte","value":30}]}`},
		{"admnis idle 30 days", `{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"},{"field":"idle_days","op":"gte","value":30}]}`},
		{"which identities belong to people who left?", `{"version":1,"filters":[{"field":"owner_status","op":"eq","value":"departed"}]}`},
		{"identities whose owner is no longer with us", `{"version":1,"filters":[{"field":"owner_status","op":"eq","value":"departed"}]}`},
		{"find service accounts where owner is missing", `{"version":1,` + sa + `,"filters":[{"field":"owner_status","op":"eq","value":"absent"}]}`},
		{"keys older then 90 days", `{"version":1,"kinds":["credential"],"filters":[{"field":"age_days","op":"gte","value":90}]}`},
		{"which credentials expire in the next fortnight?", `{"version":1,"kinds":["credential"],"filters":[{"field":"expires_in_days","op":"gte","value":0},{"field":"expires_in_days","op":"lte","value":14}]}`},
		{"leaked keys that haven't been disabled", `{"version":1,"kinds":["credential"],"filters":[{"field":"leaked","op":"eq","value":true},{"field":"status","op":"ne","value":"disabled"}]}`},
		{"ci-deployer permissions", reach},
		{"where can ci-deployer reach", reach},
		{"what can ci-deployer access", reach},
		{"what can CI-Deployer access", reach},
	}
	var cases []eval.Case
	for i, a := range answers {
		line := `{"id":"issue` + string(rune('a'+i)) + `","split":"dev","intent":"issue","question":` + quote(a.q) + `,"gold":` + a.gold + "}\n"
		cs, err := eval.Parse(strings.NewReader(line), "issue.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, cs...)
	}
	res, err := eval.Run(context.Background(), ix, demo.Reference, cases, eval.Offline{Resolver: planner.IndexResolver(ix)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Run(r.Case.Question, func(t *testing.T) {
			if !r.Correct || r.Gold.Total == 0 {
				t.Fatalf("expected %s, got %s (plan %+v, err %v)", r.Gold, r.Got, r.GotPlan, r.Attempt.Err)
			}
		})
	}

	refusals := []struct {
		q          string
		understood []string
		unknown    []string
	}{
		{"write me a poem about IAM", nil, []string{"poem"}},
		{"bots owned by people in the Berlin office", []string{"bots"}, []string{"berlin office"}},
		{"admins idle 30 days in the eu-west-1 region", []string{"admin privilege", "idle ≥ 30 days"}, []string{"eu-west-1 region"}},
	}
	for _, tt := range refusals {
		t.Run(tt.q, func(t *testing.T) {
			_, err := planner.PlanWith(tt.q, nil, planner.Options{Resolver: planner.IndexResolver(ix)})
			var um *planner.UnmappedError
			if !errors.As(err, &um) {
				t.Fatalf("answered: %v", err)
			}
			for _, w := range tt.unknown {
				if !strings.Contains(um.Error(), `"`+w+`"`) {
					t.Errorf("refusal does not name %q: %s", w, um.Error())
				}
			}
			for _, u := range tt.understood {
				if !strings.Contains(um.Understood, u) || !strings.Contains(um.Error(), "I understood: ") {
					t.Errorf("understood %q, want it to contain %q", um.Understood, u)
				}
			}
		})
	}
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`"`, `\"`, `\`, `\\`).Replace(s) + `"`
}
