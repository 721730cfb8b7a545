package tools_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/tools"
)

// syncIndex reads one of the change tracker's test syncs (Steward's export
// format, findings/changes/testdata/README.md).
func syncIndex(t *testing.T, name string) *graph.Index {
	t.Helper()
	f, err := os.Open("../findings/changes/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sgs, err := graph.ReadJSONL(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return graph.Build(sgs)
}

// TestListChanges runs list_changes over a history a Tracker recorded:
// nothing yet, a baseline only, then two syncs with the known difference
// (11 changes at t2, see findings/changes/testdata/README.md).
func TestListChanges(t *testing.T) {
	ctx := context.Background()
	t1 := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	t2 := t1.Add(6 * time.Hour)
	empty := changes.Dir(t.TempDir() + "/none")
	base := &changes.Tracker{Dir: t.TempDir()}
	if _, err := base.Record(ctx, syncIndex(t, "sync1.jsonl"), t1); err != nil {
		t.Fatal(err)
	}
	two := &changes.Tracker{Dir: t.TempDir()}
	ix2 := syncIndex(t, "sync2.jsonl")
	for _, s := range []struct {
		ix *graph.Index
		at time.Time
	}{{syncIndex(t, "sync1.jsonl"), t1}, {ix2, t2}} {
		if _, err := two.Record(ctx, s.ix, s.at); err != nil {
			t.Fatal(err)
		}
	}
	now := t2.Add(3 * time.Hour)
	tests := []struct {
		name  string
		hist  tools.ChangeHistory
		args  string
		total int
		note  string
		first string // type|id of the first row
	}{
		{"no history configured", nil, `{"changes":{"last_sync":true}}`, 0, "No change history is recorded here", ""},
		{"no history recorded yet", empty, `{"changes":{"last_sync":true}}`, 0, "No change history recorded yet", ""},
		{"baseline only", changes.Dir(base.Dir), `{"changes":{"since":"2026-10-31T00:00:00Z"}}`, 0, "Only the baseline sync is recorded", ""},
		{"since the last sync", changes.Dir(two.Dir), `{"changes":{"last_sync":true}}`, 11, "11 changes from 1 sync (2 syncs recorded", ""},
		{"since yesterday", changes.Dir(two.Dir), `{"changes":{"since":"2026-10-31T00:00:00Z"}}`, 11, "11 changes", ""},
		{"nothing in the window", changes.Dir(two.Dir), `{"changes":{"since":"2026-11-01T14:00:00Z"}}`, 0, "Nothing changed in that window: no sync ran in it (2 syncs recorded, the last at 2026-11-01T12:00:00Z)", ""},
		{"nothing of that type", changes.Dir(two.Dir), `{"changes":{"last_sync":true,"types":["owner_lost"]}}`, 0, "Nothing changed in that window: the 1 sync in it found no matching change", ""},
		{"new admins", changes.Dir(two.Dir), `{"changes":{"last_sync":true,"types":["new_admin"]}}`, 1, "1 change", "new_admin|aws:555566667777:user/ci-runner"},
		{"source type", changes.Dir(two.Dir), `{"sources":["aws"],"changes":{"since":"2026-11-01T00:00:00Z"}}`, 11, "11 changes", ""},
		{"other source", changes.Dir(two.Dir), `{"sources":["gcp"],"changes":{"since":"2026-11-01T00:00:00Z"}}`, 0, "Nothing changed", ""},
		{"ids", changes.Dir(two.Dir), `{"ids":["aws:555566667777:user/app-svc"],"changes":{}}`, 5, "5 changes", "grant_added|aws:555566667777:user/app-svc"},
		{"limit", changes.Dir(two.Dir), `{"changes":{"last_sync":true},"limit":2}`, 11, "(showing 2)", ""},
		{"in memory", changes.Replay([]changes.Point{{At: t1, Index: syncIndex(t, "sync1.jsonl")}, {At: t2, Index: ix2}}), `{"changes":{"types":["identity_removed"]}}`, 1, "1 change", "identity_removed|aws:555566667777:user/old-bot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env(t)
			e.Index, e.Now, e.Changes = ix2, now, tt.hist
			out, te := call(t, e, "list_changes", tt.args)
			if te != nil {
				t.Fatal(te)
			}
			res := out.Result
			if res.Total != tt.total || !strings.Contains(out.Text, tt.note) || len(res.Rows) != len(res.Evidence) {
				t.Fatalf("total %d, %d rows, note %q; want total %d, note containing %q", res.Total, len(res.Rows), out.Text, tt.total, tt.note)
			}
			if !slices.Equal(res.Columns, []string{"at", "source", "type", "id", "name", "detail"}) {
				t.Fatalf("columns %v", res.Columns)
			}
			if tt.first != "" {
				if r := res.Rows[0]; r[2].(string)+"|"+r[3].(string) != tt.first {
					t.Fatalf("first row %v, want %s", r, tt.first)
				}
			}
			for i, r := range res.Rows {
				// Each change's own evidence: which identity, source,
				// what changed and when.
				ev := res.Evidence[i][0]
				if ev.Kind != tools.EdgeChanged || ev.From != r[3] || ev.To != r[1] || ev.Props["type"] != r[2] || ev.Props["at"] != r[0] {
					t.Fatalf("row %v evidence %+v", r, res.Evidence[i])
				}
			}
		})
	}
	t.Run("evidence from the current graph", func(t *testing.T) {
		e := env(t)
		e.Index, e.Now, e.Changes = ix2, now, changes.Dir(two.Dir)
		out, te := call(t, e, "list_changes", `{"changes":{"types":["new_credential"]}}`)
		if te != nil || out.Result.Total != 1 {
			t.Fatalf("%v %+v", te, out)
		}
		ev := out.Result.Evidence[0]
		if len(ev) != 2 || ev[1].Kind != graph.EdgeHasCredential || ev[1].To != out.Result.Rows[0][5] {
			t.Fatalf("evidence %+v", ev)
		}
	})
	bad := []struct{ name, args, field string }{
		{"no changes", `{"sources":["aws"]}`, "changes"},
		{"since and last_sync", `{"changes":{"since":"2026-11-01T00:00:00Z","last_sync":true}}`, "changes.since"},
		{"unknown type", `{"changes":{"types":["new_adminn"]}}`, "changes.types[0]"},
		{"kinds", `{"kinds":["bot"],"changes":{}}`, "kinds"},
		{"unknown field", `{"changes":{"until":"2026-11-01T00:00:00Z"}}`, "changes.until"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			e := env(t)
			e.Changes = changes.Dir(two.Dir)
			_, te := call(t, e, "list_changes", tt.args)
			if te == nil || te.Code != tools.CodeInvalidArgs || te.Field != tt.field {
				t.Fatalf("got %+v, want invalid_args on %s", te, tt.field)
			}
		})
	}
}
