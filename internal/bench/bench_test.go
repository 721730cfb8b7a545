package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
)

var sizes = []int{1_000, 10_000, 100_000, 1_000_000}

// BenchmarkQuestions loads the demo per size (reporting load rate and
// heap), then times each question through planner+executor with b.N and
// reports the plain scan of the same data, measured in the same run, as
// the scan/steward ratio.
func BenchmarkQuestions(b *testing.B) {
	ctx := context.Background()
	for _, size := range sizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			// The cayley memstore holds every quad; at 1M identities the
			// index is measured alone (see indexOnly).
			uri := "memory"
			if size > 100_000 {
				uri = "none"
			}
			l, err := Load(ctx, size, 1, uri)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			b.Logf("size %d: load %s (%.0f identities/s), heap %.0f MiB", size, l.Report.LoadTime, l.Report.LoadRate, float64(l.Report.HeapBytes)/(1<<20))
			for _, q := range Questions {
				scan := median(3, func() { q.Scan(l.Oracle, demo.Reference) })
				b.Run(strings.ReplaceAll(q.Text, " ", "_"), func(b *testing.B) {
					b.ReportAllocs()
					for range b.N {
						p, err := planner.Plan(q.Text, nil)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := query.Execute(ctx, l.Index, p, demo.Reference); err != nil {
							b.Fatal(err)
						}
					}
					per := b.Elapsed() / time.Duration(b.N)
					b.ReportMetric(float64(scan.Microseconds()), "scan-µs")
					b.ReportMetric(float64(scan)/float64(max(per, 1)), "scan/steward")
				})
			}
		})
	}
}

// TestRunAgrees checks the harness: both sides find the same number of
// rows for every question.
func TestRunAgrees(t *testing.T) {
	r, err := Run(context.Background(), 2000, 1, "memory", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range r.Questions {
		if q.Rows != q.ScanRows {
			t.Errorf("%s: steward %d rows, scan %d", q.Text, q.Rows, q.ScanRows)
		}
	}
}
