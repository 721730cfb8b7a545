package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/pgtest"
)

var benchTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// benchGraph returns a subgraph shaped like a cloud account (principals
// with a few attributes, memberships, grants) that encodes to roughly
// quads quads, and its exact quad count.
func benchGraph(tb testing.TB, source string, quads int) (*graph.Subgraph, int) {
	sg := &graph.Subgraph{Source: source}
	// Per principal: node (kind, name, status, created_at, attr:arn = 5),
	// one member_of (1), one grant (kind, from, to, action, resource,
	// effect, privilege = 7): 13 quads.
	n := max(quads/13, 1)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s:user/u%d", source, i)
		sg.AddNode(graph.Node{ID: id, Kind: graph.KindServiceAccount, Name: fmt.Sprintf("u%d", i),
			CreatedAt: benchTime.Add(time.Duration(i) * time.Minute), Attrs: map[string]string{"arn": "arn:aws:iam::1:user/" + id}})
		sg.AddEdge(graph.Edge{From: id, To: fmt.Sprintf("%s:group/g%d", source, i%50), Kind: graph.EdgeMemberOf})
		sg.AddEdge(graph.Edge{From: id, To: fmt.Sprintf("%s:bucket/b%d", source, i%200), Kind: graph.EdgeGrants,
			Action: "s3:GetObject", Resource: fmt.Sprintf("arn:aws:s3:::b%d/*", i%200), Effect: graph.EffectAllow, Privilege: graph.PrivRead})
	}
	qs, err := encode(normalized(sg))
	if err != nil {
		tb.Fatal(err)
	}
	return sg, len(qs)
}

var benchSizes = []struct {
	name  string
	quads int
}{{"1k", 1000}, {"10k", 10000}, {"100k", 100000}}

// benchOpen opens an empty store of the named backend outside the timer.
func benchOpen(b *testing.B, backend string) *Store {
	b.Helper()
	var uri string
	switch backend {
	case "memory":
		uri = "memory"
	case "bolt":
		uri = "bolt:" + filepath.Join(b.TempDir(), "db")
	case "postgres":
		uri = pgtest.Start(b).CreateDB(b, "bench")
	}
	s, err := Open(context.Background(), uri)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkReplace loads one source into an empty store: the write path
// of a first load. quads/s is the backend's write rate through cayley.
func BenchmarkReplace(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []string{"memory", "bolt", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			for _, size := range benchSizes {
				b.Run(size.name, func(b *testing.B) {
					sg, n := benchGraph(b, "aws:1", size.quads)
					b.ReportAllocs()
					b.StopTimer()
					for i := 0; i < b.N; i++ {
						s := benchOpen(b, backend)
						b.StartTimer()
						if err := s.Replace(ctx, sg); err != nil {
							b.Fatal(err)
						}
						b.StopTimer()
						if err := s.Close(); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "quads/s")
				})
			}
		})
	}
}

// BenchmarkReload replaces a loaded source with a version in which a
// tenth of the principals changed: the steady state of periodic loads,
// where only the difference is written. source-quads/s counts the whole
// source, changed-quads/s the quads added or deleted.
func BenchmarkReload(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []string{"memory", "bolt", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			for _, size := range benchSizes {
				b.Run(size.name, func(b *testing.B) {
					v1, n := benchGraph(b, "aws:1", size.quads)
					v2 := normalized(v1)
					for i := 0; i < len(v2.Nodes); i += 10 {
						v2.Nodes[i].Name += "-changed"
					}
					q1, err1 := encode(normalized(v1))
					q2, err2 := encode(v2)
					if err1 != nil || err2 != nil {
						b.Fatal(err1, err2)
					}
					changed := len(appendDiff(nil, q1, q2))
					s := benchOpen(b, backend)
					defer s.Close()
					if err := s.Replace(ctx, v1); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						sg := v2
						if i%2 == 1 {
							sg = v1
						}
						if err := s.Replace(ctx, sg); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "source-quads/s")
					b.ReportMetric(float64(changed*b.N)/b.Elapsed().Seconds(), "changed-quads/s")
				})
			}
		})
	}
}

// BenchmarkLoad reads the whole store back into subgraphs.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []string{"memory", "bolt", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			for _, size := range benchSizes {
				b.Run(size.name, func(b *testing.B) {
					sg, n := benchGraph(b, "aws:1", size.quads)
					s := benchOpen(b, backend)
					defer s.Close()
					if err := s.Replace(ctx, sg); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						gs, err := s.Load(ctx)
						if err != nil {
							b.Fatal(err)
						}
						if len(gs) != 1 || len(gs[0].Nodes) != len(sg.Nodes) {
							b.Fatalf("Load returned %d sources", len(gs))
						}
					}
					b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "quads/s")
				})
			}
		})
	}
}

// BenchmarkBulk writes one source into an empty store through the bulk
// path (batched transactions into a fresh file, one rename): the write
// path of `steward load graph` and `steward demo --out`.
func BenchmarkBulk(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []string{"bolt", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			for _, size := range benchSizes {
				b.Run(size.name, func(b *testing.B) {
					sg, n := benchGraph(b, "aws:1", size.quads)
					b.ReportAllocs()
					b.StopTimer()
					for i := 0; i < b.N; i++ {
						s := benchOpen(b, backend)
						b.StartTimer()
						w, err := s.BeginBulk(ctx)
						if err == nil {
							err = w.Add(sg)
						}
						if err == nil {
							err = w.Commit()
						}
						b.StopTimer()
						if err != nil {
							b.Fatal(err)
						}
						if err := s.Close(); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "quads/s")
				})
			}
		})
	}
}
