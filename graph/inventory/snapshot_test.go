package inventory

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/store"
	"github.com/steward-oss/steward/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestSnapshotLifecycle runs the inventory over a real bolt store: the
// snapshot written after a load is used by the next open, and every way
// it can lag or differ from the record (a write that bypassed the
// inventory, as `steward load` and a crash between the record's commit
// and the snapshot's write both do; other derivation inputs; a damaged
// file) makes the next open rebuild from the record instead.
func TestSnapshotLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "g.db")
	calls := 0
	open := func(key string) *Inventory {
		t.Helper()
		st, err := store.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := Open(ctx, st, Options{SnapshotKey: key, Derivers: []Deriver{func(sgs []*graph.Subgraph) []*graph.Subgraph {
			calls++
			d := bot("derived", "derived:1")
			for _, sg := range sgs {
				d.AddNode(graph.Node{ID: "derived:of:" + sg.Source, Kind: graph.KindBot, Name: sg.Source})
			}
			return []*graph.Subgraph{d}
		}}})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	ids := func(inv *Inventory) []string {
		var out []string
		for _, n := range inv.Index().Nodes() {
			out = append(out, n.ID)
		}
		slices.Sort(out)
		return out
	}
	steps := []struct {
		name         string
		key          string
		before       func(t *testing.T)
		replace      *graph.Subgraph
		fromSnapshot bool
		want         []string
	}{
		{name: "empty store builds", key: "k1", want: []string{"derived:1"}},
		{name: "replace writes a snapshot", key: "k1", fromSnapshot: true, replace: bot("a", "a:1"),
			want: []string{"a:1", "derived:1", "derived:of:a"}},
		{name: "next open uses it", key: "k1", fromSnapshot: true, want: []string{"a:1", "derived:1", "derived:of:a"}},
		{name: "other key rebuilds", key: "k2", want: []string{"a:1", "derived:1", "derived:of:a"}},
		{name: "and then uses its own", key: "k2", fromSnapshot: true, want: []string{"a:1", "derived:1", "derived:of:a"}},
		{name: "write past the inventory rebuilds", key: "k2", before: func(t *testing.T) {
			st, err := store.Open(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Replace(ctx, bot("b", "b:1")); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"a:1", "b:1", "derived:1", "derived:of:a", "derived:of:b"}},
		{name: "damaged snapshot rebuilds", key: "k2", before: func(t *testing.T) {
			p := filepath.Join(dir, "index.snap")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-3] ^= 0x55
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"a:1", "b:1", "derived:1", "derived:of:a", "derived:of:b"}},
		{name: "replace after a snapshot open keeps the rest of the record", key: "k2", fromSnapshot: true, replace: bot("c", "c:1"),
			want: []string{"a:1", "b:1", "c:1", "derived:1", "derived:of:a", "derived:of:b", "derived:of:c"}},
		{name: "and is itself the next snapshot", key: "k2", fromSnapshot: true,
			want: []string{"a:1", "b:1", "c:1", "derived:1", "derived:of:a", "derived:of:b", "derived:of:c"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before(t)
			}
			calls = 0
			inv := open(s.key)
			defer inv.Close()
			if got := inv.FromSnapshot(); got != s.fromSnapshot && s.replace == nil {
				t.Fatalf("opened from snapshot: %v, want %v", got, s.fromSnapshot)
			}
			if s.fromSnapshot && s.replace == nil && calls != 0 {
				t.Fatalf("derivers ran %d times on a snapshot open", calls)
			}
			if s.replace != nil {
				if err := inv.Replace(ctx, s.replace); err != nil {
					t.Fatal(err)
				}
			}
			if got := ids(inv); !slices.Equal(got, s.want) {
				t.Fatalf("nodes %v, want %v", got, s.want)
			}
			// The subgraphs behind a snapshot are read on demand and agree
			// with the index.
			all := inv.All()
			n := 0
			for _, sg := range all {
				n += len(sg.Nodes)
			}
			if n != len(s.want) {
				t.Fatalf("All: %d nodes, want %d", n, len(s.want))
			}
		})
	}
}

// TestReplicasShareSnapshot runs two inventories over one PostgreSQL
// database, as two serve replicas do: each write's snapshot lets the
// other replica refresh without re-reading the record, and a replica
// that opened from a snapshot still merges its own write with the rest
// of the record.
func TestReplicasShareSnapshot(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t).CreateDB(t, "replicas")
	open := func() *Inventory {
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := Open(ctx, st, Options{SnapshotKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { inv.Close() })
		return inv
	}
	a, b := open(), open()
	if err := a.Replace(ctx, bot("x", "x:1")); err != nil {
		t.Fatal(err)
	}
	if changed, err := b.RefreshIfChanged(ctx); err != nil || !changed {
		t.Fatalf("b refresh: %v %v", changed, err)
	}
	if !b.FromSnapshot() {
		t.Fatal("b re-read the record instead of fetching a's snapshot")
	}
	if err := b.Replace(ctx, bot("y", "y:1")); err != nil {
		t.Fatal(err)
	}
	if changed, err := a.RefreshIfChanged(ctx); err != nil || !changed {
		t.Fatalf("a refresh: %v %v", changed, err)
	}
	for _, inv := range []*Inventory{a, b} {
		for _, id := range []string{"x:1", "y:1"} {
			if _, ok := inv.Index().Lookup(id); !ok {
				t.Fatalf("%s missing after both writes", id)
			}
		}
	}
}
