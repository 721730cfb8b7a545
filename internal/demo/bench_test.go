package demo

import (
	"fmt"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
)

func discard(*graph.Subgraph) error { return nil }

// BenchmarkGenerate reports identities per second and, as the target is
// linear scaling, the cost per identity relative to a 1k-identity run
// measured in the same process (1.0: linear).
func BenchmarkGenerate(b *testing.B) {
	const baseSize, baseRuns = 1_000, 5
	start := time.Now()
	for range baseRuns {
		if err := Stream(Config{Seed: 1, Size: baseSize}, discard); err != nil {
			b.Fatal(err)
		}
	}
	basePerIdentity := float64(time.Since(start)) / (baseRuns * baseSize)
	for _, size := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", size/1000), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Stream(Config{Seed: 1, Size: size}, discard); err != nil {
					b.Fatal(err)
				}
			}
			perIdentity := float64(b.Elapsed()) / float64(b.N) / float64(size)
			b.ReportMetric(1e9/perIdentity, "identities/s")
			b.ReportMetric(perIdentity/basePerIdentity, "x-1k-cost/identity")
		})
	}
}
