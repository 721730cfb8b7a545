package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ckv "github.com/cayleygraph/cayley/graph/kv"
	"github.com/cayleygraph/quad"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/pgtest"
	bolt "go.etcd.io/bbolt"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// backendCase opens a fresh, empty store of one kind.
type backendCase struct {
	name string
	open func(t testing.TB) *Store
}

func backends() []backendCase {
	return []backendCase{
		{name: "memory", open: func(t testing.TB) *Store { return mustOpen(t, "memory") }},
		{name: "bolt", open: func(t testing.TB) *Store { return mustOpen(t, "bolt:"+filepath.Join(t.TempDir(), "db")) }},
		{name: "postgres", open: func(t testing.TB) *Store {
			return mustOpen(t, pgtest.Start(t).CreateDB(t, "store"))
		}},
	}
}

func mustOpen(t testing.TB, uri string) *Store {
	t.Helper()
	s, err := Open(context.Background(), uri)
	if err != nil {
		t.Fatalf("Open(%s): %v", redact(uri), err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// snapshot is everything observable about a store.
type snapshot struct {
	graphs  []*graph.Subgraph
	sources []SourceInfo
	gen     int64
}

func snap(t testing.TB, s *Store) snapshot {
	t.Helper()
	ctx := context.Background()
	gs, err := s.Load(ctx)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	srcs, err := s.Sources(ctx)
	if err != nil {
		t.Fatalf("Sources: %v", err)
	}
	gen, err := s.Generation(ctx)
	if err != nil {
		t.Fatalf("Generation: %v", err)
	}
	return snapshot{gs, srcs, gen}
}

func diffSnapshot(got, want snapshot) string {
	if got.gen != want.gen {
		return fmt.Sprintf("generation %d, want %d", got.gen, want.gen)
	}
	if d := diffGraphs(got.graphs, want.graphs); d != "" {
		return d
	}
	if fmt.Sprint(got.sources) != fmt.Sprint(want.sources) {
		return fmt.Sprintf("sources %v, want %v", got.sources, want.sources)
	}
	return ""
}

func diffGraphs(got, want []*graph.Subgraph) string {
	if len(got) != len(want) {
		var g, w []string
		for _, x := range got {
			g = append(g, x.Source)
		}
		for _, x := range want {
			w = append(w, x.Source)
		}
		return fmt.Sprintf("sources %q, want %q", g, w)
	}
	for i := range got {
		if d := diffSubgraph(got[i], want[i]); d != "" {
			return fmt.Sprintf("source %q: %s", want[i].Source, d)
		}
	}
	return ""
}

// fakeClock hands out distinct, increasing load times.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second + time.Nanosecond)
	return c.t
}

func withClock(s *Store) *fakeClock {
	c := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}
	s.now = c.now
	return c
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, bc := range backends() {
		t.Run(bc.name, func(t *testing.T) {
			s := bc.open(t)
			for seed := uint64(1); seed <= 8; seed++ {
				size := 40
				if seed%4 == 0 {
					size = 0 // an empty source is kept as a source
				}
				sg := newGen(seed).subgraph(fmt.Sprintf("src:%d", seed%3), size)
				t.Run(fmt.Sprintf("seed %d into %s", seed, sg.Source), func(t *testing.T) {
					before := fmt.Sprintf("%v", sg.Nodes)
					if err := s.Replace(ctx, sg); err != nil {
						t.Fatalf("Replace: %v", err)
					}
					if fmt.Sprintf("%v", sg.Nodes) != before {
						t.Fatal("Replace reordered the caller's nodes")
					}
					gs, err := s.Load(ctx)
					if err != nil {
						t.Fatalf("Load: %v", err)
					}
					var got *graph.Subgraph
					for _, g := range gs {
						if g.Source == sg.Source {
							got = g
						}
					}
					if got == nil {
						t.Fatalf("source %q missing from Load", sg.Source)
					}
					if d := diffSubgraph(got, want(sg)); d != "" {
						t.Fatal(d)
					}
				})
			}
		})
	}
}

func TestReplace(t *testing.T) {
	ctx := context.Background()
	a1 := newGen(11).subgraph("aws:1", 30)
	a2 := newGen(12).subgraph("aws:1", 25)
	b1 := newGen(13).subgraph("k8s:prod", 30)
	c1 := newGen(14).subgraph("github:acme", 10)
	// a3 keeps most of a2 and changes one property and one edge, the
	// common shape of a reload.
	a3 := normalized(a2)
	a3.Nodes[0].Name = "renamed"
	a3.Edges = a3.Edges[1:]
	// shrink1 -> shrink2: a node drops two properties and gains one, and
	// the source loses quads overall, so values of added quads (the node
	// id, the source label) lose references in the same write: the case
	// cayley's kv ApplyDeltas gets wrong when adds and deletes are mixed.
	shrink1 := &graph.Subgraph{Source: "ldap", Nodes: []graph.Node{
		{ID: "ldap:svc", Kind: graph.KindServiceAccount, Source: "ldap", Name: "svc", Subtype: "x", Status: "active"},
		{ID: "ldap:g", Kind: graph.KindGroup, Source: "ldap", Name: "g"},
	}, Edges: []graph.Edge{{From: "ldap:svc", To: "ldap:g", Kind: graph.EdgeMemberOf}}}
	shrink2 := &graph.Subgraph{Source: "ldap", Nodes: []graph.Node{
		{ID: "ldap:svc", Kind: graph.KindServiceAccount, Source: "ldap", Status: "disabled"},
	}}

	type step struct {
		replace []*graph.Subgraph
		remove  string
		wantErr error
	}
	tests := []struct {
		name  string
		steps []step
		want  []*graph.Subgraph
		gen   int64
	}{
		{name: "one source", steps: []step{{replace: []*graph.Subgraph{a1}}}, want: []*graph.Subgraph{a1}, gen: 1},
		{name: "replacing A leaves B untouched", steps: []step{
			{replace: []*graph.Subgraph{a1, b1}},
			{replace: []*graph.Subgraph{a2}},
		}, want: []*graph.Subgraph{a2, b1}, gen: 2},
		{name: "reload with small changes", steps: []step{
			{replace: []*graph.Subgraph{a2}},
			{replace: []*graph.Subgraph{a3}},
		}, want: []*graph.Subgraph{a3}, gen: 2},
		{name: "values of added quads lose references in the same write", steps: []step{
			{replace: []*graph.Subgraph{shrink1}},
			{replace: []*graph.Subgraph{shrink2}},
		}, want: []*graph.Subgraph{shrink2}, gen: 2},
		{name: "same content twice is still a new generation", steps: []step{
			{replace: []*graph.Subgraph{b1}},
			{replace: []*graph.Subgraph{b1}},
		}, want: []*graph.Subgraph{b1}, gen: 2},
		{name: "three sources in one step", steps: []step{{replace: []*graph.Subgraph{c1, a1, b1}}}, want: []*graph.Subgraph{a1, c1, b1}, gen: 1},
		{name: "remove one of two", steps: []step{
			{replace: []*graph.Subgraph{a1, b1}},
			{remove: "aws:1"},
		}, want: []*graph.Subgraph{b1}, gen: 2},
		{name: "remove unknown source changes nothing", steps: []step{
			{replace: []*graph.Subgraph{b1}},
			{remove: "nope", wantErr: ErrUnknownSource},
		}, want: []*graph.Subgraph{b1}, gen: 1},
		{name: "empty subgraph replaces a full one", steps: []step{
			{replace: []*graph.Subgraph{a1}},
			{replace: []*graph.Subgraph{{Source: "aws:1"}}},
		}, want: []*graph.Subgraph{{Source: "aws:1"}}, gen: 2},
	}
	for _, bc := range backends() {
		t.Run(bc.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					s := bc.open(t)
					for i, st := range tc.steps {
						var err error
						if st.remove != "" {
							err = s.Remove(ctx, st.remove)
						} else {
							err = s.Replace(ctx, st.replace...)
						}
						if !errors.Is(err, st.wantErr) {
							t.Fatalf("step %d: err = %v, want %v", i, err, st.wantErr)
						}
					}
					got := snap(t, s)
					var wantGraphs []*graph.Subgraph
					for _, w := range tc.want {
						wantGraphs = append(wantGraphs, want(w))
					}
					if d := diffGraphs(got.graphs, wantGraphs); d != "" {
						t.Fatal(d)
					}
					if got.gen != tc.gen {
						t.Errorf("generation %d, want %d", got.gen, tc.gen)
					}
					if len(got.sources) != len(wantGraphs) {
						t.Fatalf("Sources() = %v, want %d sources", got.sources, len(wantGraphs))
					}
					for i, si := range got.sources {
						w := wantGraphs[i]
						if si.Source != w.Source || si.Nodes != len(w.Nodes) || si.Edges != len(w.Edges) || si.LoadedAt.IsZero() {
							t.Errorf("Sources()[%d] = %+v, want source %q with %d nodes, %d edges", i, si, w.Source, len(w.Nodes), len(w.Edges))
						}
					}
				})
			}
		})
	}
}

func TestSourcesRecordLoadTime(t *testing.T) {
	ctx := context.Background()
	for _, bc := range backends() {
		t.Run(bc.name, func(t *testing.T) {
			s := bc.open(t)
			clock := withClock(s)
			if err := s.Replace(ctx, newGen(1).subgraph("a", 3), newGen(2).subgraph("b", 3)); err != nil {
				t.Fatal(err)
			}
			first := clock.t.UTC()
			if err := s.Replace(ctx, newGen(3).subgraph("b", 2)); err != nil {
				t.Fatal(err)
			}
			second := clock.t.UTC()
			got, err := s.Sources(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantSrc := []SourceInfo{
				{Source: "a", LoadedAt: first, Nodes: 3, Edges: len(want(newGen(1).subgraph("a", 3)).Edges)},
				{Source: "b", LoadedAt: second, Nodes: 2, Edges: len(want(newGen(3).subgraph("b", 2)).Edges)},
			}
			if fmt.Sprint(got) != fmt.Sprint(wantSrc) {
				t.Errorf("Sources() = %v\nwant %v", got, wantSrc)
			}
		})
	}
}

// TestFailedReplaceChangesNothing checks every way a Replace can fail
// before its write: the store afterwards is exactly what it was.
func TestFailedReplaceChangesNothing(t *testing.T) {
	good := newGen(21).subgraph("aws:1", 20)
	other := newGen(22).subgraph("k8s:prod", 20)
	invalid := newGen(23).subgraph("github:acme", 20)
	invalid.Edges = append(invalid.Edges, graph.Edge{From: "a", To: "", Kind: graph.EdgeMemberOf})
	badEdge := fmt.Sprintf("edge[%d].to: empty", len(invalid.Edges)-1)
	unencodable := newGen(24).subgraph("github:acme", 20)
	unencodable.Nodes[3].Attrs = map[string]string{"note": "nul\x00"}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name      string
		ctx       func(s *Store) context.Context
		sgs       []*graph.Subgraph
		wantErr   error
		wantInErr string
	}{
		{name: "invalid subgraph among valid ones", sgs: []*graph.Subgraph{other, invalid}, wantInErr: badEdge},
		{name: "unencodable string", sgs: []*graph.Subgraph{other, unencodable}, wantInErr: `node[3].attrs["note"]: contains a NUL byte`},
		{name: "same source twice", sgs: []*graph.Subgraph{other, other}, wantInErr: `source "k8s:prod" given twice`},
		{name: "nil subgraph", sgs: []*graph.Subgraph{other, nil}, wantInErr: "nil subgraph"},
		{name: "context cancelled before the call", sgs: []*graph.Subgraph{other},
			ctx: func(*Store) context.Context { return cancelled }, wantErr: context.Canceled},
		{name: "context cancelled after the read, before the write", sgs: []*graph.Subgraph{other},
			ctx: func(s *Store) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				s.testHookBeforeApply = cancel
				return ctx
			}, wantErr: context.Canceled},
	}
	for _, bc := range backends() {
		t.Run(bc.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					s := bc.open(t)
					if err := s.Replace(context.Background(), good); err != nil {
						t.Fatal(err)
					}
					before := snap(t, s)
					ctx := context.Background()
					if tc.ctx != nil {
						ctx = tc.ctx(s)
					}
					err := s.Replace(ctx, tc.sgs...)
					if err == nil {
						t.Fatal("Replace succeeded, want an error")
					}
					if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
						t.Errorf("err = %v, want %v", err, tc.wantErr)
					}
					if tc.wantInErr != "" && !strings.Contains(err.Error(), tc.wantInErr) {
						t.Errorf("err = %v, want it to mention %q", err, tc.wantInErr)
					}
					s.testHookBeforeApply = nil
					if d := diffSnapshot(snap(t, s), before); d != "" {
						t.Fatalf("store changed by a failed Replace: %s", d)
					}
					// and the store still takes writes
					if err := s.Replace(context.Background(), other); err != nil {
						t.Fatalf("Replace after failure: %v", err)
					}
					if got := snap(t, s); got.gen != before.gen+1 || len(got.graphs) != 2 {
						t.Fatalf("after a good Replace: generation %d with %d sources, want %d with 2", got.gen, len(got.graphs), before.gen+1)
					}
				})
			}
		})
	}
}

func TestBoltPersists(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "graph")
	sg := newGen(31).subgraph("aws:1", 50)
	s, err := Open(ctx, dir) // a plain path means bolt
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Replace(ctx, sg); err != nil {
		t.Fatal(err)
	}
	before := snap(t, s)
	if _, err := Open(ctx, "bolt:"+dir); err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("second Open of an open bolt store: err = %v, want a lock error", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, "bolt:"+dir)
	if d := diffSnapshot(snap(t, s2), before); d != "" {
		t.Fatalf("after reopen: %s", d)
	}
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, uri, want string
	}{
		{name: "empty", uri: "", want: "empty uri"},
		{name: "unknown scheme", uri: "mysql://root:hunter2@db/x", want: `unsupported scheme`},
		{name: "path is a file", uri: "bolt:" + file, want: "store: open bolt"},
		{name: "postgres refuses", uri: "postgres://steward:hunter2@127.0.0.1:1/none?sslmode=disable&connect_timeout=5", want: "store: open postgres://…@127.0.0.1:1/none"},
		{name: "password as a parameter", uri: "postgres://127.0.0.1:1/none?user=steward&password=hunter2&sslmode=disable", want: "password=…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), tc.uri)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("err leaks the password: %v", err)
			}
		})
	}
}

// TestPostgresReplicas runs two Stores over one database, as two Steward
// replicas would: each sees the other's writes through Generation and
// Load, and concurrent writes all land, each as its own generation.
func TestPostgresReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t).CreateDB(t, "replicas")
	r1, r2 := mustOpen(t, dsn), mustOpen(t, dsn)

	a := newGen(41).subgraph("aws:1", 20)
	if err := r1.Replace(ctx, a); err != nil {
		t.Fatal(err)
	}
	if gen, err := r2.Generation(ctx); err != nil || gen != 1 {
		t.Fatalf("replica 2 Generation = %d, %v; want 1", gen, err)
	}
	b := newGen(42).subgraph("k8s:prod", 20)
	if err := r2.Replace(ctx, b); err != nil {
		t.Fatal(err)
	}
	s1, s2 := snap(t, r1), snap(t, r2)
	if d := diffSnapshot(s1, s2); d != "" {
		t.Fatalf("replicas disagree: %s", d)
	}
	if gs, gen, err := r1.LoadGeneration(ctx); err != nil || gen != s2.gen || diffGraphs(gs, s2.graphs) != "" {
		t.Fatalf("LoadGeneration = generation %d, %v; want %d and the same graphs", gen, err, s2.gen)
	}
	if d := diffGraphs(s1.graphs, []*graph.Subgraph{want(a), want(b)}); d != "" || s1.gen != 2 {
		t.Fatalf("generation %d, %s", s1.gen, d)
	}

	// Both replicas write at once; every write must land exactly once.
	const rounds = 6
	var wg sync.WaitGroup
	errs := make(chan error, 2*rounds)
	for i, r := range []*Store{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < rounds; j++ {
				src := fmt.Sprintf("replica%d", i)
				errs <- r.Replace(ctx, newGen(uint64(100*i+j)).subgraph(src, 15))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Replace: %v", err)
		}
	}
	s1, s2 = snap(t, r1), snap(t, r2)
	if d := diffSnapshot(s1, s2); d != "" {
		t.Fatalf("replicas disagree after concurrent writes: %s", d)
	}
	if s1.gen != 2+2*rounds {
		t.Errorf("generation %d, want %d (one per successful write)", s1.gen, 2+2*rounds)
	}
	wantAll := []*graph.Subgraph{want(a), want(b),
		want(newGen(rounds-1).subgraph("replica0", 15)), want(newGen(100+rounds-1).subgraph("replica1", 15))}
	if d := diffGraphs(s1.graphs, wantAll); d != "" {
		t.Fatal(d)
	}
}

// TestStaleWriteIsRejected applies deltas planned against generation N
// after the store moved to N+1, as a replica that lost a race would: the
// backend must refuse the whole write (the generation quad it deletes is
// gone) and leave the store as it was, and the store must stay writable.
func TestStaleWriteIsRejected(t *testing.T) {
	ctx := context.Background()
	a1 := newGen(61).subgraph("aws:1", 20)
	a2 := newGen(62).subgraph("aws:1", 20)
	b1 := newGen(63).subgraph("k8s:prod", 20)
	for _, bc := range backends() {
		t.Run(bc.name, func(t *testing.T) {
			s := bc.open(t)
			if err := s.Replace(ctx, a1); err != nil {
				t.Fatal(err)
			}
			qs, err := encode(want(b1))
			if err != nil {
				t.Fatal(err)
			}
			stale, err := s.plan(ctx, map[string][]quad.Quad{b1.Source: qs}, map[string][2]int{b1.Source: {len(b1.Nodes), len(b1.Edges)}})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Replace(ctx, a2); err != nil {
				t.Fatal(err)
			}
			before := snap(t, s)
			err = s.b.apply(ctx, stale)
			if err == nil {
				t.Fatal("stale write applied")
			}
			if _, isPG := s.b.(*pgBackend); isPG && !s.b.conflict(err) {
				t.Errorf("stale write error %v not recognised as a lost race", err)
			}
			if d := diffSnapshot(snap(t, s), before); d != "" {
				t.Fatalf("rejected write changed the store: %s", d)
			}
			if err := s.Replace(ctx, b1); err != nil {
				t.Fatalf("Replace after the rejected write: %v", err)
			}
			got := snap(t, s)
			if d := diffGraphs(got.graphs, []*graph.Subgraph{want(a2), want(b1)}); d != "" || got.gen != 3 {
				t.Fatalf("after the rejected write and a good one: generation %d, %s", got.gen, d)
			}
		})
	}
}

// TestReadersSeeWholeWrites loads the store over and over while another
// goroutine flips two sources between two versions in single Replace
// calls; every load must return one version of both, never a mix, and
// the generation that version was written at.
func TestReadersSeeWholeWrites(t *testing.T) {
	ctx := context.Background()
	v1 := []*graph.Subgraph{newGen(71).subgraph("aws:1", 30), newGen(72).subgraph("k8s:prod", 30)}
	v2 := []*graph.Subgraph{newGen(73).subgraph("aws:1", 25), newGen(74).subgraph("k8s:prod", 35)}
	states := [][]*graph.Subgraph{
		{want(v1[0]), want(v1[1])},
		{want(v2[0]), want(v2[1])},
	}
	for _, bc := range backends() {
		t.Run(bc.name, func(t *testing.T) {
			s := bc.open(t)
			if err := s.Replace(ctx, v1...); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				var err error
				for i := 0; i < 10 && err == nil; i++ {
					if i%2 == 0 {
						err = s.Replace(ctx, v2...)
					} else {
						err = s.Replace(ctx, v1...)
					}
				}
				done <- err
			}()
			loads := 0
			for writing := true; writing; loads++ {
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("writer: %v", err)
					}
					writing = false
				default:
				}
				gs, gen, err := s.LoadGeneration(ctx)
				if err != nil {
					t.Fatalf("LoadGeneration: %v", err)
				}
				// v1 is written at odd generations, v2 at even ones.
				if d := diffGraphs(gs, states[1-gen%2]); d != "" {
					t.Fatalf("load %d at generation %d: not the version written at that generation: %s", loads, gen, d)
				}
			}
			t.Logf("%d loads during 10 writes", loads)
		})
	}
}

// TestBoltLabelIndex checks that new bolt stores index labels and that a
// bolt store created without the index (by cayley itself, or before the
// index existed) still works through a full scan.
func TestBoltLabelIndex(t *testing.T) {
	ctx := context.Background()
	plainCayley := func(t *testing.T, dir string) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		db, err := bolt.Open(filepath.Join(dir, boltFile), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ckv.Init(&boltKV{db: db}, kvOptions); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name        string
		setup       func(t *testing.T, dir string)
		wantIndexed bool
	}{
		{name: "created by the store", wantIndexed: true},
		{name: "created by plain cayley", setup: plainCayley, wantIndexed: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			s := mustOpen(t, "bolt:"+dir)
			if got := s.b.(*boltBackend).labelIndexed; got != tc.wantIndexed {
				t.Fatalf("labelIndexed = %v, want %v", got, tc.wantIndexed)
			}
			a, b, b2 := newGen(81).subgraph("aws:1", 20), newGen(82).subgraph("k8s:prod", 20), newGen(83).subgraph("k8s:prod", 15)
			if err := s.Replace(ctx, a, b); err != nil {
				t.Fatal(err)
			}
			if err := s.Replace(ctx, b2); err != nil {
				t.Fatal(err)
			}
			if err := s.Remove(ctx, "aws:1"); err != nil {
				t.Fatal(err)
			}
			got := snap(t, s)
			if d := diffGraphs(got.graphs, []*graph.Subgraph{want(b2)}); d != "" || got.gen != 3 {
				t.Fatalf("generation %d, %s", got.gen, d)
			}
		})
	}
}
