package eval_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/steward-oss/steward/eval"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
)

// devFloor is the offline planner's measured dev accuracy. It only ever
// goes up: a change that answers fewer dev questions fails the build.
const devFloor = 1.0

func demoIndex(t *testing.T) *graph.Index {
	t.Helper()
	return graph.Build(demo.Generate(demo.Config{Seed: 1, Size: 2000}))
}

func TestQuestionSet(t *testing.T) {
	cases, err := eval.Load()
	if err != nil {
		t.Fatal(err)
	}
	intents := map[string]int{}
	splits := map[string]int{}
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			if c.Intent == "" || c.Split == "" {
				t.Fatalf("%s:%d: intent %q split %q", c.File, c.Line, c.Intent, c.Split)
			}
			if c.Expect == eval.ExpectRefusal {
				if c.GoldPlan() != nil {
					t.Fatal("refusal with a gold plan")
				}
				return
			}
			// The gold plan round-trips through the public parser.
			if _, err := query.Parse(c.Gold); err != nil {
				t.Fatalf("%s:%d: %v", c.File, c.Line, err)
			}
		})
		intents[c.Intent]++
		splits[c.Split]++
	}
	if len(cases) < 150 {
		t.Errorf("%d questions, want at least 150", len(cases))
	}
	if len(intents) < 15 {
		t.Errorf("%d intents, want at least 15", len(intents))
	}
	// The fresh held-out split (issue 11): at least 150 questions, at
	// least 50 of which must be refused.
	refuse := 0
	for _, c := range cases {
		if c.Split == eval.SplitHeldout && c.Expect == eval.ExpectRefusal {
			refuse++
		}
	}
	if h := splits[eval.SplitHeldout]; h < 150 || refuse < 50 {
		t.Errorf("held-out split: %d questions, %d must be refused; want at least 150 and 50", h, refuse)
	}
	for _, s := range eval.Splits {
		seen := map[string]bool{}
		for _, c := range cases {
			if c.Split == s {
				seen[c.Intent] = true
			}
		}
		if len(seen) < 15 {
			t.Errorf("split %s covers %d intents, want every split to cover at least 15", s, len(seen))
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"bad json", `{"id":`, "bad.jsonl:2"},
		{"unknown key", `{"id":"x","split":"dev","intent":"i","question":"q","gold":null,"expect":"refusal","colour":1}`, "unknown field"},
		{"no id", `{"split":"dev","intent":"i","question":"q","gold":null,"expect":"refusal"}`, "bad.jsonl:2: id: empty"},
		{"bad split", `{"id":"x","split":"test","intent":"i","question":"q","gold":null,"expect":"refusal"}`, "split: want"},
		{"no intent", `{"id":"x","split":"dev","question":"q","gold":null,"expect":"refusal"}`, "intent: empty"},
		{"no question", `{"id":"x","split":"dev","intent":"i","question":" ","gold":null,"expect":"refusal"}`, "question: empty"},
		{"missing gold", `{"id":"x","split":"dev","intent":"i","question":"q"}`, "gold: missing"},
		{"refusal with plan", `{"id":"x","split":"dev","intent":"i","question":"q","gold":{"version":1},"expect":"refusal"}`, "a refusal has no gold plan"},
		{"bad expect", `{"id":"x","split":"dev","intent":"i","question":"q","gold":{"version":1},"expect":"maybe"}`, "expect: want"},
		{"bad answer", `{"id":"x","split":"dev","intent":"i","question":"q","gold":{"version":1},"answer":"sum"}`, "answer: want"},
		{"invalid plan", `{"id":"x","split":"dev","intent":"i","question":"q","gold":{"version":1,"filters":[{"field":"colour","op":"eq","value":"x"}]}}`, "gold: query: plan.filters[0].field"},
	}
	good := `{"id":"ok","split":"dev","intent":"i","question":"q","gold":{"version":1}}`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := eval.Parse(strings.NewReader(good+"\n"+tt.line+"\n"), "bad.jsonl")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if cs != nil {
				t.Fatalf("partial result %v returned with the error", cs)
			}
		})
	}
	t.Run("duplicate id", func(t *testing.T) {
		fsys := fstest.MapFS{
			"q/a.jsonl": {Data: []byte(good + "\n")},
			"q/b.jsonl": {Data: []byte(good + "\n")},
		}
		_, err := eval.LoadFS(fsys, "q")
		if err == nil || !strings.Contains(err.Error(), `b.jsonl:1: id "ok" already used in a.jsonl:1`) {
			t.Fatalf("got %v", err)
		}
	})
}

// scripted answers with fixed attempts, to test scoring without a planner.
type scripted map[string]eval.Attempt

func (s scripted) Answer(_ context.Context, c *eval.Case) eval.Attempt { return s[c.ID] }

func TestScoring(t *testing.T) {
	ix := demoIndex(t)
	mk := func(id, q, gold, expect, answer string) eval.Case {
		cs, err := eval.Parse(strings.NewReader(`{"id":"`+id+`","split":"dev","intent":"`+id+`","question":"`+q+`","gold":`+gold+
			func() string {
				s := ""
				if expect != "" {
					s += `,"expect":"` + expect + `"`
				}
				if answer != "" {
					s += `,"answer":"` + answer + `"`
				}
				return s
			}()+"}\n"), "t.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		return cs[0]
	}
	admins := `{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}]}`
	plan := func(s string) *query.Plan {
		p, err := query.Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		c    eval.Case
		at   eval.Attempt
		want bool
	}{
		{mk("same-rows", "admins", admins, "", ""), eval.Attempt{Plan: plan(admins)}, true},
		{mk("other-rows", "admins", admins, "", ""), eval.Attempt{Plan: plan(`{"version":1,"filters":[{"field":"privilege","op":"gte","value":"write"}]}`)}, false},
		// Same set, written differently: only execution counts.
		{mk("equivalent", "admins", admins, "", ""), eval.Attempt{Plan: plan(`{"version":1,"filters":[{"field":"privilege","op":"in","values":["admin"]}]}`)}, true},
		{mk("grouped-vs-rows", "admins", admins, "", ""), eval.Attempt{Plan: plan(`{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}],"group_by":["kind"]}`)}, false},
		{mk("count", "how many admins", admins, "", "count"), eval.Attempt{Plan: plan(`{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}],"group_by":["source_type"]}`)}, true},
		{mk("groups-differ", "admins by source", `{"version":1,"group_by":["source_type"]}`, "", ""), eval.Attempt{Plan: plan(`{"version":1,"group_by":["source"]}`)}, false},
		{mk("refused", "weather", "null", "refusal", ""), eval.Attempt{Refused: true}, true},
		{mk("answered-a-refusal", "weather", "null", "refusal", ""), eval.Attempt{Plan: plan(admins)}, false},
		{mk("refused-a-question", "admins", admins, "", ""), eval.Attempt{Err: errors.New("boom")}, false},
		{mk("did-you-mean", "what can terrafrom access", `{"version":1,"reach":{"from":"terrafrom"}}`, "not_found", ""),
			eval.Attempt{Plan: plan(`{"version":1,"reach":{"from":"terrafrom"}}`)}, true},
		{mk("guessed-entity", "what can terrafrom access", `{"version":1,"reach":{"from":"terrafrom"}}`, "not_found", ""),
			eval.Attempt{Plan: plan(`{"version":1,"reach":{"from":"terraform"}}`)}, false},
		{mk("reach-narrowed", "what can ci-deployer access", `{"version":1,"reach":{"from":"ci-deployer"}}`, "", ""),
			eval.Attempt{Plan: plan(`{"version":1,"reach":{"from":"ci-deployer"},"filters":[{"field":"environment","op":"eq","value":"prod"}]}`)}, false},
	}
	var cases []eval.Case
	answers := scripted{}
	for _, tt := range tests {
		cases = append(cases, tt.c)
		answers[tt.c.ID] = tt.at
	}
	results, err := eval.Run(context.Background(), ix, demo.Reference, cases, answers)
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for i, r := range results {
		if !tests[i].want {
			wrong++
		}
		t.Run(tests[i].c.ID, func(t *testing.T) {
			if r.Correct != tests[i].want {
				t.Errorf("correct=%v, want %v (gold %s, got %s)", r.Correct, tests[i].want, r.Gold, r.Got)
			}
			want := eval.VerdictRight
			switch {
			case r.Case.ID == "refused-a-question":
				want = eval.VerdictRefused
			case !tests[i].want:
				want = eval.VerdictWrong
			}
			if got := r.Verdict(); got != want {
				t.Errorf("verdict %s, want %s", got, want)
			}
		})
	}
	t.Run("report", func(t *testing.T) {
		rep := eval.Summarise("scripted", results)
		if s := rep.Splits[eval.SplitDev]; s.Questions != len(tests) || s.Correct != len(tests)-wrong || len(rep.Failures) != wrong {
			t.Fatalf("dev %+v, %d failures; want %d questions, %d wrong", s, len(rep.Failures), len(tests), wrong)
		}
		// One of the failures is a refusal (an error), the rest are wrong
		// answers; two cases must be refused and one of them is.
		s := rep.Splits[eval.SplitDev]
		if s.Right != len(tests)-wrong || s.Wrong != wrong-1 || s.Refused != 1 || s.MustRefuse != 2 || s.MustRefuseRefused != 1 ||
			s.Answerable != len(tests)-2 || s.WrongRate != float64(wrong-1)/float64(len(tests)) {
			t.Errorf("dev %+v", s)
		}
		var buf bytes.Buffer
		if err := rep.WriteTable(&buf); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"other-rows [dev/other-rows] wrong \"admins\"", "refused-a-question [dev/refused-a-question] refused", "expected: 140 rows", "got:      error: boom", "answered-a-refusal"} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, buf.String())
			}
		}
	})
}

func TestGoldMustMatchExpectation(t *testing.T) {
	ix := demoIndex(t)
	tests := []struct{ name, line, want string }{
		{"typo in gold", `{"id":"x","split":"dev","intent":"i","question":"q","gold":{"version":1,"reach":{"from":"terrafrom"}}}`, "names an entity this graph lacks"},
		{"not_found that resolves", `{"id":"x","split":"dev","intent":"i","question":"q","gold":{"version":1,"reach":{"from":"terraform"}},"expect":"not_found"}`, "the gold plan resolves"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := eval.Parse(strings.NewReader(tt.line), "g.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			res, err := eval.Run(context.Background(), ix, demo.Reference, cs, scripted{})
			if err != nil {
				t.Fatal(err)
			}
			if s := res[0].Skipped; !strings.Contains(s, tt.want) || !strings.Contains(s, "g.jsonl:1") {
				t.Fatalf("skipped %q, want %q naming g.jsonl:1", s, tt.want)
			}
			rep := eval.Summarise("offline", res)
			if len(rep.Skipped) != 1 || rep.Overall.Questions != 0 {
				t.Fatalf("a skipped case was scored: %+v", rep)
			}
		})
	}
}

// TestEveryCaseScores checks that on the default demo every case can be
// scored: its named entities exist and its misspellings do not.
func TestEveryCaseScores(t *testing.T) {
	ix := demoIndex(t)
	cases, err := eval.Load()
	if err != nil {
		t.Fatal(err)
	}
	res, err := eval.Run(context.Background(), ix, demo.Reference, cases, scripted{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Skipped != "" {
			t.Errorf("%s: %s", r.Case.ID, r.Skipped)
		}
	}
}

// TestOfflineDevRatchet runs the offline planner on the dev split; its
// accuracy may not fall below devFloor. The held-out split is measured
// by `steward eval`, never asserted on, so nobody tunes against it here.
func TestOfflineDevRatchet(t *testing.T) {
	ix := demoIndex(t)
	all, err := eval.Load()
	if err != nil {
		t.Fatal(err)
	}
	var dev []eval.Case
	for _, c := range all {
		if c.Split == eval.SplitDev {
			dev = append(dev, c)
		}
	}
	results, err := eval.Run(context.Background(), ix, demo.Reference, dev, eval.Offline{Resolver: planner.IndexResolver(ix)})
	if err != nil {
		t.Fatal(err)
	}
	rep := eval.Summarise("offline", results)
	if acc := rep.Splits[eval.SplitDev].Accuracy; acc < devFloor {
		for _, f := range rep.Failures {
			t.Logf("%s %q: expected %s, got %s", f.ID, f.Question, f.Expected, f.Got)
		}
		t.Fatalf("dev accuracy %.3f fell below the floor %.3f", acc, devFloor)
	}
}
