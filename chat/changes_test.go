package chat

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

// TestChatChanges: HTTP chat and Slack (both chat.Service) answer change
// questions from the history they are given, and say when there is none.
func TestChatChanges(t *testing.T) {
	t1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	idx := func(f string) *graph.Index { return graph.Build(testgraph.Read(t, "../findings/changes/testdata/"+f)) }
	hist := changes.Replay([]changes.Point{{At: t1, Index: idx("sync1.jsonl")}, {At: t1.Add(6 * time.Hour), Index: idx("sync2.jsonl")}})
	alog, err := audit.Open(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alog.Close() })
	now := t1.Add(12 * time.Hour)
	tests := []struct {
		name   string
		hist   *changes.Log
		q      string
		total  int
		interp string
		answer string
	}{
		{"since the last sync", hist, "what changed since the last sync", 11, "changes between syncs, found by the last sync", "11 changes from 1 sync"},
		{"new admins", hist, "new admins since yesterday", 1, "of type new_admin, recorded since Sat 2026-10-31 00:00 UTC", "1 change"},
		{"no history", nil, "what changed since yesterday", 0, "changes between syncs", "No change history is recorded here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Agent: agent.New(agent.Options{}), Graph: testgraph.NewSource(idx("sync2.jsonl")), Now: func() time.Time { return now }, Audit: alog}
			if tt.hist != nil {
				o.Changes = tt.hist
			}
			a, err := New(o).Chat(context.Background(), "", "api:test", tt.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			if a.Total != tt.total || len(a.Rows) != tt.total || len(a.Evidence) != tt.total || !strings.Contains(a.Interpretation, tt.interp) || !strings.Contains(a.Answer, tt.answer) {
				t.Fatalf("total %d, interpretation %q, answer %q", a.Total, a.Interpretation, a.Answer)
			}
			if strings.Join(a.Columns, ",") != "at,source,type,id,name,detail" {
				t.Fatalf("columns %v", a.Columns)
			}
		})
	}
}
