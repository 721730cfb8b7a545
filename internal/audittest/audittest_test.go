package audittest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/steward-oss/steward/audit"
)

func TestRecords(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		path := filepath.Join(t.TempDir(), "audit.log")
		l, err := audit.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if _, err := l.Append(context.Background(), audit.Record{Actor: "tester", Action: audit.ActionPlan, Where: audit.WhereCLI}); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		got := Records(t, path)
		if len(got) != n {
			t.Fatalf("%d records read back, want %d", len(got), n)
		}
		for _, r := range got {
			if r.Actor != "tester" || r.Action != audit.ActionPlan {
				t.Errorf("record %+v", r)
			}
		}
	}
}
