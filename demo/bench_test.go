package demo

import (
	"fmt"
	"testing"

	"github.com/steward-oss/steward/graph"
)

func BenchmarkGenerate(b *testing.B) {
	for _, size := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", size/1000), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Stream(Config{Seed: 1, Size: size}, func(*graph.Subgraph) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "identities/s")
		})
	}
}
