package eval_test

import (
	"context"
	"testing"
	"time"

	"github.com/steward-oss/steward/eval"
	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
)

func demoHistory() *changes.Log {
	var pts []changes.Point
	for i, sgs := range demo.History(demo.Config{Seed: 1, Size: 2000}) {
		pts = append(pts, changes.Point{At: demo.HistoryAt[i], Index: graph.Build(sgs)})
	}
	return changes.Replay(pts)
}

// TestChangeCases scores the change questions on the demo's fixed
// history: every gold plan selects changes, the tuned ones are answered
// right, and a plan with another window is scored wrong.
func TestChangeCases(t *testing.T) {
	all, err := eval.Load()
	if err != nil {
		t.Fatal(err)
	}
	var cases []eval.Case
	for _, c := range all {
		if c.Intent == "changes" {
			cases = append(cases, c)
		}
	}
	if len(cases) < 20 {
		t.Fatalf("%d change questions, want at least 20 (tuned and held-out)", len(cases))
	}
	ix := demoIndex(t)
	hist := demoHistory()
	res, err := eval.RunHistory(context.Background(), ix, demo.Reference, hist, cases,
		eval.Offline{Resolver: planner.IndexResolver(ix), Now: demo.Reference})
	if err != nil {
		t.Fatal(err)
	}
	nonEmpty := 0
	for _, r := range res {
		if r.GoldPlan.Changes == nil {
			t.Errorf("%s: gold is not a change plan", r.Case.ID)
		}
		if r.Gold.Total > 0 {
			nonEmpty++
		}
		if r.Case.Split == eval.SplitTuned && !r.Correct {
			t.Errorf("%s %q: got %s, want %s", r.Case.ID, r.Case.Question, r.Got, r.Gold)
		}
	}
	if nonEmpty < len(cases)/2 {
		t.Errorf("only %d of %d gold answers select any change", nonEmpty, len(cases))
	}
	// "since yesterday" answered as "since Monday" (both syncs) is wrong.
	var yesterday eval.Case
	for _, c := range cases {
		if c.ID == "h098" {
			yesterday = c
		}
	}
	monday := &query.Plan{Version: query.Version, Changes: &query.Changes{Since: time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC)}}
	wrong, err := eval.RunHistory(context.Background(), ix, demo.Reference, hist, []eval.Case{yesterday}, scripted{"h098": {Plan: monday}})
	if err != nil {
		t.Fatal(err)
	}
	if wrong[0].Correct || wrong[0].Got.Total <= wrong[0].Gold.Total {
		t.Fatalf("since Monday scored %v: got %s, gold %s", wrong[0].Correct, wrong[0].Got, wrong[0].Gold)
	}
}
