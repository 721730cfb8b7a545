package slackbot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

func loadSync(t *testing.T, path string) *graph.Index {
	t.Helper()
	return testgraph.Load(t, path)
}

// TestChangeAlert: two syncs with a known difference (the change tracker's
// test data) post exactly one alert to the configured channel, through the
// Slack Web API; an unchanged third sync posts nothing.
func TestChangeAlert(t *testing.T) {
	h := newHarness(t, nil)
	tr := &changes.Tracker{Dir: t.TempDir(), Channel: "C0ALERTS", Notifier: h.bot}
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	for i, f := range []string{"sync1.jsonl", "sync2.jsonl", "sync2.jsonl"} {
		if _, err := tr.Record(ctx, loadSync(t, "../findings/changes/testdata/"+f), at.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	posts := h.slack.Calls("chat.postMessage")
	if len(posts) != 1 {
		t.Fatalf("%d messages, want 1", len(posts))
	}
	text := posts[0].Form.Get("text")
	if posts[0].Form.Get("channel") != "C0ALERTS" || !strings.Contains(text, "4 change(s)") ||
		!strings.Contains(text, "new_escalation_path: app-svc") || !strings.Contains(text, "new_admin: ci-runner") {
		t.Fatalf("alert %v", posts[0].Form)
	}
}
