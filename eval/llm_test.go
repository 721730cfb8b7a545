package eval_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/eval"
	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/tools"
)

// scriptedModel stands in for a language model: for the latest user
// question it makes the tool calls of its script once, then replies in
// prose. It lets the --llm scoring path run without a provider.
type scriptedModel map[string][]agent.ToolCall

func (m scriptedModel) Chat(_ context.Context, msgs []agent.Message, _ []agent.ToolSpec) (agent.Reply, error) {
	q := ""
	toolTurns := 0
	for _, msg := range msgs {
		switch msg.Role {
		case agent.RoleUser:
			q, toolTurns = msg.Content, 0
		case agent.RoleTool:
			toolTurns++
		}
	}
	calls := m[q]
	if toolTurns < len(calls) {
		return agent.Reply{ToolCalls: []agent.ToolCall{calls[toolTurns]}, Usage: agent.Usage{PromptTokens: 100, CompletionTokens: 10}}, nil
	}
	return agent.Reply{Content: "Here is what I found.", Usage: agent.Usage{PromptTokens: 50, CompletionTokens: 5}}, nil
}

func TestAgentAnswerer(t *testing.T) {
	ix := demoIndex(t)
	model := scriptedModel{
		"admins":                    {{ID: "1", Name: "find_identities", Arguments: `{"filters":[{"field":"privilege","op":"eq","value":"admin"}]}`}},
		"what can terrafrom access": {{ID: "1", Name: "explain_access", Arguments: `{"identity":"terrafrom"}`}},
		"only the AWS ones":         {{ID: "1", Name: "find_identities", Arguments: `{"sources":["aws"],"filters":[{"field":"privilege","op":"eq","value":"admin"}]}`}},
		// A model that guesses a result for an unanswerable question.
		"what is the weather": {{ID: "1", Name: "find_identities", Arguments: `{}`}},
	}
	a := agent.New(agent.Options{Model: model, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ans := &eval.Agent{Agent: a, Env: &tools.Env{Index: ix, Now: demo.Reference}}
	lines := strings.Join([]string{
		`{"id":"rows","split":"dev","intent":"admin_list","question":"admins","gold":{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}]}}`,
		`{"id":"typo","split":"dev","intent":"not_found","question":"what can terrafrom access","gold":{"version":1,"reach":{"from":"terrafrom"}},"expect":"not_found"}`,
		`{"id":"follow","split":"dev","intent":"follow_up","context":["admins"],"question":"only the AWS ones","gold":{"version":1,"sources":["aws"],"filters":[{"field":"privilege","op":"eq","value":"admin"}]}}`,
		`{"id":"refuse","split":"dev","intent":"refusal","question":"tell me a joke","gold":null,"expect":"refusal"}`,
		`{"id":"guess","split":"dev","intent":"refusal","question":"what is the weather","gold":null,"expect":"refusal"}`,
	}, "\n")
	cases, err := eval.Parse(strings.NewReader(lines), "llm.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	results, err := eval.Run(context.Background(), ix, demo.Reference, cases, ans)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"rows": true, "typo": true, "follow": true, "refuse": true, "guess": false}
	for _, r := range results {
		t.Run(r.Case.ID, func(t *testing.T) {
			if r.Correct != want[r.Case.ID] {
				t.Errorf("correct=%v, want %v (gold %s, got %s)", r.Correct, want[r.Case.ID], r.Gold, r.Got)
			}
			if r.Case.ID == "rows" && (r.Attempt.ToolCalls != 1 || r.Attempt.Tokens != 165) {
				t.Errorf("cost: %d tool calls, %d tokens; want 1 and 165", r.Attempt.ToolCalls, r.Attempt.Tokens)
			}
		})
	}
	rep := eval.Summarise("llm:test", results)
	if s := rep.Splits["dev"]; s.Questions != 5 || s.Correct != 4 || s.ToolCalls == 0 || s.Tokens == 0 {
		t.Errorf("dev score %+v", s)
	}
}
