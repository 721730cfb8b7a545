package graph_test

import (
	"bytes"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
)

// BenchmarkOpenSnapshot measures opening a snapshot of the 20k demo next
// to building the same index from its subgraphs, in one run.
func BenchmarkOpenSnapshot(b *testing.B) {
	sgs := demo.Generate(demo.Config{Seed: 1, Size: 20000})
	var buf bytes.Buffer
	if err := graph.Build(sgs).WriteSnapshot(&buf, graph.SnapshotTag{}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := graph.OpenSnapshot(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			graph.Build(sgs)
		}
	})
}
