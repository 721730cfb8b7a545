package changes

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/query"
)

// TestRead: a history directory read back as a Log tells "nothing
// recorded yet" from a baseline alone and from syncs that found changes.
func TestRead(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "changes")
	tr := &Tracker{Dir: dir}
	steps := []struct {
		name    string
		sync    string // testdata file recorded before reading; "" reads only
		at      time.Time
		syncs   int
		changes int
	}{
		{"nothing recorded", "", time.Time{}, 0, 0},
		{"baseline", "testdata/sync1.jsonl", t1, 1, 0},
		{"second sync", "testdata/sync2.jsonl", t2, 2, len(want)},
		{"unchanged third sync", "testdata/sync2.jsonl", t2.Add(time.Hour), 3, len(want)},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.sync != "" {
				if _, err := tr.Record(ctx, loadSync(t, st.sync), st.at); err != nil {
					t.Fatal(err)
				}
			}
			l, err := Dir(dir).ChangeLog(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Syncs) != st.syncs || len(l.Changes) != st.changes || l.Recorded() != (st.syncs > 0) {
				t.Fatalf("syncs %+v, %d changes; want %d syncs, %d changes", l.Syncs, len(l.Changes), st.syncs, st.changes)
			}
			if st.syncs > 0 && (!l.Last().At.Equal(st.at) || l.Syncs[0].Baseline != true) {
				t.Fatalf("last sync %+v, want at %s; first %+v", l.Last(), st.at, l.Syncs[0])
			}
		})
	}
	// A history written before syncs.jsonl existed: the syncs come from
	// the changes' time stamps and the last snapshot's.
	if err := os.Remove(filepath.Join(dir, "syncs.jsonl")); err != nil {
		t.Fatal(err)
	}
	l, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Syncs) != 2 || !l.Syncs[0].At.Equal(t2) || l.Syncs[0].Changes != len(want) || !l.Last().At.Equal(t2.Add(time.Hour)) {
		t.Fatalf("old-format syncs %+v", l.Syncs)
	}
	if err := os.WriteFile(filepath.Join(dir, "syncs.jsonl"), []byte("{\"at\":\"2026-11-01T06:00:00Z\"}\nnot json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "syncs.jsonl:2:") {
		t.Fatalf("bad syncs.jsonl read: %v", err)
	}
}

// TestReplay: replaying two syncs in memory gives the changes a Tracker
// records for them.
func TestReplay(t *testing.T) {
	l := Replay([]Point{{At: t1, Index: loadSync(t, "testdata/sync1.jsonl")}, {At: t2, Index: loadSync(t, "testdata/sync2.jsonl")}})
	var got []string
	for _, c := range l.Changes {
		got = append(got, c.Source+" "+c.Identity+" "+c.Type+" "+c.Detail)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("replayed changes:\n%v\nwant:\n%v", got, want)
	}
	if len(l.Syncs) != 2 || !l.Syncs[0].Baseline || l.Syncs[1].Changes != len(want) {
		t.Fatalf("syncs %+v", l.Syncs)
	}
}

// TestTypesMatchQuery: change plans name exactly the types recorded.
func TestTypesMatchQuery(t *testing.T) {
	if !slices.Equal(Types, query.ChangeTypes) {
		t.Fatalf("changes.Types %v, query.ChangeTypes %v", Types, query.ChangeTypes)
	}
}
