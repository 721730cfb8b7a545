package agent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/findings/changes"
)

// history is the change tracker's two test syncs (findings/changes
// testdata) replayed: 11 changes found at 06:00 on the day of now.
func history(t *testing.T) *changes.Log {
	t1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return changes.Replay([]changes.Point{
		{At: t1, Index: loadIndex(t, "../findings/changes/testdata/sync1.jsonl")},
		{At: t1.Add(6 * time.Hour), Index: loadIndex(t, "../findings/changes/testdata/sync2.jsonl")},
	})
}

// TestChangeQuestions: "what changed" is answered through list_changes on
// both paths: the offline planner's plan, and a model's call (against
// the fake OpenAI-compatible server), which is told the current time.
func TestChangeQuestions(t *testing.T) {
	t.Run("offline", func(t *testing.T) {
		env, _ := newEnv(t, "../findings/changes/testdata/sync2.jsonl")
		env.Changes = history(t)
		ans, err := agent.New(agent.Options{}).Ask(context.Background(), env, agent.Question{Text: "new admins since yesterday"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ans.Steps) != 1 || ans.Steps[0].Tool != "list_changes" || ans.Result.Total != 1 || ans.Result.Rows[0][3] != "aws:555566667777:user/ci-runner" {
			t.Fatalf("steps %+v result %+v", ans.Steps, ans.Result)
		}
		if ans.Plan.Changes == nil || !ans.Plan.Changes.Since.Equal(time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("plan %+v", ans.Plan)
		}
	})
	t.Run("offline, no history", func(t *testing.T) {
		env, _ := newEnv(t, "../findings/changes/testdata/sync2.jsonl")
		env.Changes = changes.Dir(t.TempDir())
		ans, err := agent.New(agent.Options{}).Ask(context.Background(), env, agent.Question{Text: "what changed since yesterday"})
		if err != nil {
			t.Fatal(err)
		}
		if ans.Result.Total != 0 || !strings.HasPrefix(ans.Text, "No change history recorded yet") {
			t.Fatalf("text %q result %+v", ans.Text, ans.Result)
		}
	})
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			fake := newFakeLLM(t,
				calls(call("call_1", "list_changes", `{"changes":{"since":"2026-10-31T00:00:00Z","types":["new_admin","new_escalation_path"]}}`)),
				final("ci-runner became admin and app-svc gained an escalation path since yesterday."),
			)
			env, _ := newEnv(t, "../findings/changes/testdata/sync2.jsonl")
			env.Changes = history(t)
			ans, err := agent.New(agent.Options{Model: b.model(t, fake.URL())}).Ask(context.Background(), env, agent.Question{Text: "what became dangerous since yesterday?"})
			if err != nil {
				t.Fatal(err)
			}
			if len(ans.Steps) != 1 || ans.Steps[0].Tool != "list_changes" || ans.Steps[0].Error != nil || ans.Steps[0].Total != 2 {
				t.Fatalf("steps %+v", ans.Steps)
			}
			reqs := fake.requests()
			if sys := reqs[0].Messages[0]; sys.Role != "system" || !strings.Contains(sys.Content, "The current time is 2026-11-01T12:00:00Z (UTC).") || !strings.Contains(sys.Content, "list_changes") {
				t.Errorf("system prompt lacks the clock or the change rule")
			}
			if v := lastTool(t, reqs[1]); v["ok"] != true || v["total"] != 2.0 {
				t.Errorf("tool data %v", v)
			}
		})
	}
}
