package inventory

import (
	"context"
	"errors"
	"testing"

	"github.com/steward-oss/steward/graph"
)

// memStore is a minimal Store for testing the inventory's own logic; the
// real cayley store has its own suite in graph/store.
type memStore struct {
	sgs  map[string]*graph.Subgraph
	gen  int64
	fail bool
}

func (m *memStore) Replace(_ context.Context, sgs ...*graph.Subgraph) error {
	if m.fail {
		return errors.New("write failed")
	}
	for _, sg := range sgs {
		m.sgs[sg.Source] = sg
	}
	m.gen++
	return nil
}

func (m *memStore) Load(context.Context) ([]*graph.Subgraph, error) {
	var out []*graph.Subgraph
	for _, sg := range m.sgs {
		out = append(out, sg)
	}
	return out, nil
}

func (m *memStore) Close() error { return nil }

func (m *memStore) Generation(context.Context) (int64, error) { return m.gen, nil }

func bot(src, id string) *graph.Subgraph {
	sg := &graph.Subgraph{Source: src}
	sg.AddNode(graph.Node{ID: id, Kind: graph.KindBot, Name: id})
	return sg
}

func TestReplaceAndRefresh(t *testing.T) {
	ctx := context.Background()
	st := &memStore{sgs: map[string]*graph.Subgraph{}}
	inv, err := Open(ctx, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Replace(ctx, bot("a", "a:1")); err != nil {
		t.Fatal(err)
	}
	if _, ok := inv.Index().Lookup("a:1"); !ok {
		t.Fatal("replaced node not indexed")
	}
	// A failed store write leaves the index as it was.
	st.fail = true
	before := inv.Index()
	if err := inv.Replace(ctx, bot("a", "a:2")); err == nil {
		t.Fatal("want error")
	}
	if inv.Index() != before {
		t.Fatal("index changed after a failed replace")
	}
	// An invalid subgraph never reaches the store.
	st.fail = false
	if err := inv.Replace(ctx, &graph.Subgraph{Source: ""}); err == nil {
		t.Fatal("want validation error")
	}
	// Another replica writes: RefreshIfChanged notices and reloads.
	if changed, err := inv.RefreshIfChanged(ctx); err != nil || changed {
		t.Fatalf("no change expected: %v %v", changed, err)
	}
	st.sgs["b"] = bot("b", "b:1")
	st.gen++
	if changed, err := inv.RefreshIfChanged(ctx); err != nil || !changed {
		t.Fatalf("change not noticed: %v %v", changed, err)
	}
	if _, ok := inv.Index().Lookup("b:1"); !ok {
		t.Fatal("other replica's write not indexed")
	}
}

func TestDeriversRunOnEveryBuild(t *testing.T) {
	ctx := context.Background()
	st := &memStore{sgs: map[string]*graph.Subgraph{}}
	calls := 0
	inv, err := Open(ctx, st, Options{Derivers: []Deriver{func(sgs []*graph.Subgraph) []*graph.Subgraph {
		calls++
		return []*graph.Subgraph{bot("derived", "derived:1")}
	}}})
	if err != nil {
		t.Fatal(err)
	}
	inv.Replace(ctx, bot("a", "a:1"))
	if calls != 2 {
		t.Fatalf("deriver ran %d times, want 2", calls)
	}
	if _, ok := inv.Index().Lookup("derived:1"); !ok {
		t.Fatal("derived node missing")
	}
	for _, sg := range inv.Subgraphs() {
		if sg.Source == "derived" {
			t.Fatal("derived subgraph reported as stored")
		}
	}
	if len(inv.All()) != 2 {
		t.Fatalf("All: %d subgraphs", len(inv.All()))
	}
}
