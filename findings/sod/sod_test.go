package sod

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
)

// plantedPolicy maps the policies the demo generator plants (see
// demo.SoDEvery) to the default rule each breaks.
var plantedPolicy = map[string]string{
	"release-approver": "SOD-DEPLOY-APPROVE",
	"log-maintenance":  "SOD-SECRETS-AUDIT",
	"iam-onboarding":   "SOD-USERS-ROLES",
}

// TestDefaultRulesOnDemo: the default rules find exactly the violations the
// demo generator plants (one CI user in demo.SoDEvery holds one extra
// policy), each with evidence for both capabilities, and nothing else.
func TestDefaultRulesOnDemo(t *testing.T) {
	for _, size := range []int{1000, 2000, 5000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			ix := graph.Build(demo.Generate(demo.Config{Seed: 1, Size: size}))
			want := map[string]string{}
			for e := range int32(ix.NumEdges()) {
				ed := ix.Edge(e)
				if ed.Kind != graph.EdgeAttachedTo {
					continue
				}
				if p, ok := ix.Lookup(ed.From); ok {
					if rule, ok := plantedPolicy[ix.NodeName(p)]; ok {
						want[ed.To] = rule
					}
				}
			}
			got := map[string]string{}
			vs := Default().Evaluate(ix)
			for _, v := range vs {
				id := ix.NodeID(v.Identity)
				got[id] = v.Rule.ID
				if len(v.Held) != len(v.Rule.Capabilities) {
					t.Errorf("%s: %d capabilities held, rule has %d", id, len(v.Held), len(v.Rule.Capabilities))
				}
				for _, h := range v.Held {
					last := ix.Edge(h.Evidence[len(h.Evidence)-1])
					if last.Kind != graph.EdgeGrants {
						t.Errorf("%s %s: evidence does not end at a grant", id, h.Capability)
					}
				}
			}
			if len(want) == 0 {
				t.Fatal("demo plants no violation")
			}
			if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
				t.Fatalf("violations:\n got %v\nwant %v", sorted(got), sorted(want))
			}
			t.Logf("size %d: %d violations found = %d planted, by rule %v", size, len(got), len(want), perRule(got))
		})
	}
}

func sorted(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, v+" "+k)
	}
	sort.Strings(out)
	return out
}

func perRule(m map[string]string) map[string]int {
	out := map[string]int{}
	for _, v := range m {
		out[v]++
	}
	return out
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"testdata/unknown-key.yaml", "line 5: field capabilites not found"},
		{"testdata/one-capability.yaml", "rules[0].capabilities: a combination needs at least two, got 1"},
		{"testdata/bad-severity.yaml", `rules[0].severity: "urgent" is not low, medium, high or critical`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Load(tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.file) {
				t.Fatalf("err = %v, want %q naming the file", err, tt.want)
			}
		})
	}
	if len(Default().Rules) != 3 {
		t.Fatalf("default rules: %d", len(Default().Rules))
	}
}
