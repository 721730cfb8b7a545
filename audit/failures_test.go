package audit

import (
	"context"
	"path/filepath"
	"testing"
)

// Failures counts every append that did not write (it feeds the
// steward_audit_append_failures_total metric).
func TestFailuresCounted(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Append(ctx, Record{Actor: "a", Action: "x", Where: WhereCLI}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, Record{Actor: "a", Action: "x", Where: "nowhere"}); err == nil {
		t.Fatal("bad where accepted")
	}
	l.Close()
	if _, err := l.Append(ctx, Record{Actor: "a", Action: "x", Where: WhereCLI}); err == nil {
		t.Fatal("append after close accepted")
	}
	if n := l.Failures(); n != 2 {
		t.Fatalf("failures %d, want 2", n)
	}
}
