package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkAppend measures one durable append (write + fsync).
func BenchmarkAppend(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "audit.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rec := Record{Actor: "sam@example.com", Action: ActionApproval, Target: "aws:123456789012:user/etl", Where: WhereSlack,
		Outcome: "approved", Details: map[string]string{"proposal": "p-1", "digest": "ab12"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(context.Background(), rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures a full chain check, reported per record.
func BenchmarkVerify(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var buf bytes.Buffer
			prev := GenesisHash
			for i := 1; i <= n; i++ {
				r := Record{Seq: int64(i), Actor: "a", Action: ActionQuestion, Where: WhereCLI, Outcome: "ok",
					Details: map[string]string{"q": "which keys are idle"}, PrevHash: prev}
				r.Hash, _ = r.ComputeHash()
				prev = r.Hash
				line, _ := json.Marshal(r)
				buf.Write(append(line, '\n'))
			}
			data := buf.Bytes()
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if got, err := Verify(bytes.NewReader(data)); err != nil || got != n {
					b.Fatalf("Verify = %d, %v", got, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
		})
	}
}
