package slackbot

import (
	"strings"
	"testing"
)

// TestAnswerStatesInterpretation: the answer in Slack says how the
// question was read, above the rows.
func TestAnswerStatesInterpretation(t *testing.T) {
	h := newHarness(t, nil)
	h.mention(alice, "admins idle 30 days", "1700000700.000001", "")
	posts := h.slack.Calls("chat.postMessage")
	if len(posts) == 0 {
		t.Fatal("no answer posted")
	}
	blocks := posts[0].Form.Get("blocks")
	i := strings.Index(blocks, "Interpretation: non-human identities; idle ≥ 30 days; admin privilege")
	if i < 0 || !strings.Contains(blocks, "up to 200 rows") {
		t.Fatalf("blocks lack the interpretation: %s", blocks)
	}
	if j := strings.Index(blocks, "```"); j >= 0 && j < i {
		t.Errorf("interpretation after the table: %s", blocks)
	}
}
