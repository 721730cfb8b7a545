package graph_test

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
)

// edgeCases covers what a snapshot must keep apart: nil and empty maps,
// zero and far-future times, edges whose ends are unknown, duplicate
// nodes across sources, a credential leak.
func edgeCases() []*graph.Subgraph {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.UTC)
	a := &graph.Subgraph{Source: "aws:1"}
	a.AddNode(graph.Node{ID: "aws:1:user/ci", Kind: graph.KindServiceAccount, Name: "ci", CreatedAt: t0,
		Tags: map[string]string{}, Attrs: map[string]string{"arn": "arn:aws:iam::1:user/ci", graph.AttrFingerprint: "ff"}})
	a.AddNode(graph.Node{ID: "aws:1:key/AKIA", Kind: graph.KindCredential, Name: "AKIA…WXYZ", Subtype: "access_key",
		LastUsedAt: t0.Add(time.Hour), ExpiresAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), Attrs: map[string]string{graph.AttrFingerprint: "ab"}})
	a.AddNode(graph.Node{ID: "aws:1:policy/admin", Kind: graph.KindPolicy, Name: "admin"})
	a.AddNode(graph.Node{ID: "aws:1", Kind: graph.KindAccount, Name: "prod", Attrs: map[string]string{graph.AttrEnvironment: "prod"}})
	a.AddEdge(graph.Edge{From: "aws:1:user/ci", To: "aws:1:key/AKIA", Kind: graph.EdgeHasCredential})
	a.AddEdge(graph.Edge{From: "aws:1:policy/admin", To: "aws:1:user/ci", Kind: graph.EdgeAttachedTo})
	a.AddEdge(graph.Edge{From: "aws:1:policy/admin", To: "aws:1", Kind: graph.EdgeGrants, Action: "*", Resource: "*", Effect: "allow", Conditional: true,
		Attrs: map[string]string{graph.AttrVia: "stmt 1"}})
	a.AddEdge(graph.Edge{From: "aws:1:key/AKIA", To: "aws:1", Kind: graph.EdgeUsed, LastSeen: t0.Add(2 * time.Hour)})
	a.AddEdge(graph.Edge{From: "aws:1:user/ci", To: "aws:1", Kind: graph.EdgeInAccount})
	a.AddEdge(graph.Edge{From: "aws:1:user/ci", To: "nowhere", Kind: graph.EdgeMemberOf})
	h := &graph.Subgraph{Source: "hr"}
	h.AddNode(graph.Node{ID: "human:bo@example.com", Kind: graph.KindHuman, Name: "Bo", Status: graph.StatusDeparted})
	h.AddNode(graph.Node{ID: "aws:1:user/ci", Kind: graph.KindServiceAccount, Name: "duplicate, loses"})
	h.AddEdge(graph.Edge{From: "human:bo@example.com", To: "aws:1:user/ci", Kind: graph.EdgeOwns, Attrs: map[string]string{}})
	g := &graph.Subgraph{Source: "gitleaks"}
	g.AddNode(graph.Node{ID: "gitleaks:f1", Kind: graph.KindCredential, Name: "finding", Attrs: map[string]string{graph.AttrFingerprint: "ab"}})
	g.AddNode(graph.Node{ID: "gitleaks:repo", Kind: graph.KindResource, Name: "repo"})
	g.AddEdge(graph.Edge{From: "gitleaks:f1", To: "gitleaks:repo", Kind: graph.EdgeLeaked})
	return []*graph.Subgraph{a, h, g}
}

func TestSnapshotRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		sgs  []*graph.Subgraph
	}{
		{"edge cases", edgeCases()},
		{"demo 400", demo.Generate(demo.Config{Seed: 3, Size: 400})},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			built := graph.Build(tc.sgs)
			var buf bytes.Buffer
			tag := graph.SnapshotTag{Generation: 42, Key: "k1"}
			if err := built.WriteSnapshot(&buf, tag); err != nil {
				t.Fatal(err)
			}
			snap, got, err := graph.OpenSnapshot(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if got != tag {
				t.Fatalf("tag %+v, want %+v", got, tag)
			}
			sameIndex(t, built, snap)
		})
	}
}

// sameIndex compares every accessor of two indexes.
func sameIndex(t *testing.T, want, got *graph.Index) {
	t.Helper()
	if !reflect.DeepEqual(want.Sources, got.Sources) && (len(want.Sources)+len(got.Sources) > 0) {
		t.Fatalf("sources %v, want %v", got.Sources, want.Sources)
	}
	if want.NumNodes() != got.NumNodes() || want.NumEdges() != got.NumEdges() {
		t.Fatalf("%d nodes %d edges, want %d, %d", got.NumNodes(), got.NumEdges(), want.NumNodes(), want.NumEdges())
	}
	for i := range int32(want.NumNodes()) {
		w, g := want.Node(i), got.Node(i)
		if !sameNode(w, g) {
			t.Fatalf("node %d: %+v, want %+v", i, g, w)
		}
		sameColumns(t, want, int32(i), w)
		sameColumns(t, got, int32(i), w)
		j, ok := got.Lookup(w.ID)
		if wj, _ := want.Lookup(w.ID); !ok || j != wj {
			t.Fatalf("lookup %q: %d %v, want %d", w.ID, j, ok, wj)
		}
		n := int32(i)
		eq := func(what string, a, b any) {
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("node %q %s: %v, want %v", w.ID, what, b, a)
			}
		}
		eq("out", nilIfEmpty(want.Out(n)), nilIfEmpty(got.Out(n)))
		eq("in", nilIfEmpty(want.In(n)), nilIfEmpty(got.In(n)))
		wp, wpp := want.Privilege(n)
		gp, gpp := got.Privilege(n)
		eq("privilege", wp, gp)
		eq("privilege path", nilIfEmpty(wpp), nilIfEmpty(gpp))
		wo, ws := want.Owners(n)
		gow, gs := got.Owners(n)
		eq("owners", nilIfEmpty(wo), nilIfEmpty(gow))
		eq("owner status", ws, gs)
		wt, we := want.LastUsed(n)
		gt, ge := got.LastUsed(n)
		if !wt.Equal(gt) || we != ge {
			t.Fatalf("node %q last used %v %d, want %v %d", w.ID, gt, ge, wt, we)
		}
		eq("leaks", nilIfEmpty(want.Leaks(n)), nilIfEmpty(got.Leaks(n)))
	}
	for _, k := range graph.Kinds {
		if w, g := want.NodesOfKind(k), got.NodesOfKind(k); !reflect.DeepEqual(nilIfEmpty(w), nilIfEmpty(g)) {
			t.Fatalf("NodesOfKind(%q) = %v, want %v", k, g, w)
		}
	}
	for ei := int32(0); ei < int32(want.NumEdges()); ei++ {
		w, g := want.Edge(ei), got.Edge(ei)
		if !w.LastSeen.Equal(g.LastSeen) {
			t.Fatalf("edge %d last seen %v, want %v", ei, g.LastSeen, w.LastSeen)
		}
		wc, gc := *w, *g
		wc.LastSeen, gc.LastSeen = time.Time{}, time.Time{}
		if !reflect.DeepEqual(wc, gc) {
			t.Fatalf("edge %d: %+v, want %+v", ei, gc, wc)
		}
		if got.EdgeKind(ei) != w.Kind {
			t.Fatalf("edge %d kind %q, want %q", ei, got.EdgeKind(ei), w.Kind)
		}
		// The ends by number are the ends by id, on both sides.
		for _, ix := range []*graph.Index{want, got} {
			for _, end := range []struct {
				id  string
				num int32
			}{{w.From, ix.EdgeFrom(ei)}, {w.To, ix.EdgeTo(ei)}} {
				n, ok := ix.Lookup(end.id)
				if !ok {
					n = -1
				}
				if end.num != n {
					t.Fatalf("edge %d end %q: node %d, want %d", ei, end.id, end.num, n)
				}
			}
		}
	}
	if _, ok := got.Lookup("no such node"); ok {
		t.Fatal("lookup of a missing id succeeded")
	}
}

func sameNode(a, b graph.Node) bool {
	for _, p := range [][2]time.Time{{a.CreatedAt, b.CreatedAt}, {a.LastUsedAt, b.LastUsedAt}, {a.RotatedAt, b.RotatedAt}, {a.ExpiresAt, b.ExpiresAt}} {
		if !p[0].Equal(p[1]) {
			return false
		}
	}
	a.CreatedAt, a.LastUsedAt, a.RotatedAt, a.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	b.CreatedAt, b.LastUsedAt, b.RotatedAt, b.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

// sameColumns checks that ix's column accessors for node i read what the
// whole node w holds.
func sameColumns(t *testing.T, ix *graph.Index, i int32, w graph.Node) {
	t.Helper()
	got := graph.Node{ID: ix.NodeID(i), Kind: ix.NodeKind(i), Source: ix.NodeSource(i), Name: ix.NodeName(i),
		Subtype: ix.NodeSubtype(i), Status: ix.NodeStatus(i)}
	want := graph.Node{ID: w.ID, Kind: w.Kind, Source: w.Source, Name: w.Name, Subtype: w.Subtype, Status: w.Status}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("node %d columns %+v, want %+v", i, got, want)
	}
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{{"created", ix.NodeCreatedAt(i), w.CreatedAt}, {"last used", ix.NodeLastUsedAt(i), w.LastUsedAt},
		{"rotated", ix.NodeRotatedAt(i), w.RotatedAt}, {"expires", ix.NodeExpiresAt(i), w.ExpiresAt}} {
		if !c.got.Equal(c.want) {
			t.Fatalf("node %q %s %v, want %v", w.ID, c.name, c.got, c.want)
		}
	}
	for k, v := range w.Attrs {
		if g, ok := ix.NodeLookupAttr(i, k); !ok || g != v || ix.NodeAttr(i, k) != v {
			t.Fatalf("node %q attr %q = %q %v, want %q", w.ID, k, g, ok, v)
		}
	}
	for k, v := range w.Tags {
		if g, ok := ix.NodeTag(i, k); !ok || g != v {
			t.Fatalf("node %q tag %q = %q %v, want %q", w.ID, k, g, ok, v)
		}
	}
	if g, ok := ix.NodeLookupAttr(i, "no such attribute"); ok || g != "" {
		t.Fatalf("node %q: unset attribute reads %q %v", w.ID, g, ok)
	}
	if g, ok := ix.NodeTag(i, "no such tag"); ok || g != "" {
		t.Fatalf("node %q: unset tag reads %q %v", w.ID, g, ok)
	}
	if !slices.Contains(ix.NodesOfKind(w.Kind), i) {
		t.Fatalf("node %q missing from NodesOfKind(%q)", w.ID, w.Kind)
	}
}

func nilIfEmpty(s []int32) []int32 {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestSnapshotRefusesDamage(t *testing.T) {
	var buf bytes.Buffer
	if err := graph.Build(edgeCases()).WriteSnapshot(&buf, graph.SnapshotTag{Generation: 7, Key: "k"}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"header only", func(b []byte) []byte { return b[:20] }},
		{"flipped byte in a section", func(b []byte) []byte { b[len(b)-9] ^= 0xff; return b }},
		{"generation changed", func(b []byte) []byte { b[16]++; return b }},
		{"other version", func(b []byte) []byte { b[8]++; return b }},
		// Version 1 had no edge-end columns: it is rebuilt, never misread.
		{"version 1", func(b []byte) []byte { b[8] = 1; return b }},
		// Version 2 decoded every node on open and had no kind lists.
		{"version 2", func(b []byte) []byte { b[8] = 2; return b }},
		{"not a snapshot", func(b []byte) []byte { return []byte("{\"nodes\": []}                                       ") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.damage(append([]byte(nil), good...))
			if _, _, err := graph.OpenSnapshot(b); !errors.Is(err, graph.ErrSnapshot) {
				t.Fatalf("err %v, want ErrSnapshot", err)
			}
		})
	}
}
