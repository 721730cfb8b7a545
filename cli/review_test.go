package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/review"
)

// TestReviewDemo drives the demo campaign from the command line: launch,
// a refused and an accepted keep, a revoke that opens a proposal, the
// deadline's default, a refused decision on the closed campaign and the
// three report formats.
func TestReviewDemo(t *testing.T) {
	dir := t.TempDir()
	common := []string{"--owners", "", "--store", filepath.Join(dir, "reviews.db"), "--approvals", filepath.Join(dir, "approvals.db"),
		"--audit-log", filepath.Join(dir, "audit.log")}
	cmd := func(args ...string) (int, string, string) {
		return run(t, append(append([]string{"review"}, args...), common...)...)
	}
	code, out, errs := cmd("launch", "--demo", "--format", "json")
	if code != 0 {
		t.Fatalf("launch: %d %s", code, errs)
	}
	var rep review.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Items == 0 || rep.Summary.Items != len(rep.Items) {
		t.Fatalf("launched %d items", rep.Summary.Items)
	}
	id := rep.Summary.ID
	var owned *review.Item
	for _, it := range rep.Items {
		if it.Reviewer != "" && it.Reviewer == it.Snapshot.Owner {
			owned = it
			break
		}
	}
	if owned == nil {
		t.Fatal("no item reviewed by its owner")
	}
	steps := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"keep without justification", []string{"decide", "--demo", id, owned.ID, "keep", "--as", owned.Reviewer}, 1, "justification is required"},
		{"not the reviewer", []string{"decide", "--demo", id, owned.ID, "keep", "--as", "nobody@example.com", "--justification", "x"}, 1, "not the reviewer"},
		{"no --as", []string{"decide", "--demo", id, owned.ID, "keep"}, 2, "--as"},
		{"keep", []string{"decide", "--demo", id, owned.ID, "keep", "--as", owned.Reviewer, "--justification", "nightly job", "--until", "2027-01-31"}, 0, "kept until 2027-01-31"},
		{"tick at the deadline", []string{"tick", "--demo", "--now", "2026-11-16T00:00:00Z"}, 0, "closed 1"},
		{"closed", []string{"decide", "--demo", id, owned.ID, "revoke", "--as", owned.Reviewer, "--now", "2026-11-16T00:00:00Z"}, 1, "closed"},
		{"list", []string{"list"}, 0, id},
		{"csv", []string{"report", id, "--format", "csv"}, 0, "campaign,item,identity"},
		{"html", []string{"report", id, "--format", "html"}, 0, "Access review evidence report"},
		{"report needs a format", []string{"report", id}, 2, "--format csv, json or html"},
	}
	for _, s := range steps {
		code, out, errs := cmd(s.args...)
		if code != s.code || !strings.Contains(out+errs, s.want) {
			t.Fatalf("%s: exit %d, want %d with %q\n%s%s", s.name, code, s.code, s.want, out, errs)
		}
	}
	code, out, _ = cmd("show", id, "--format", "json")
	if code != 0 {
		t.Fatal(code)
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.State != review.StateClosed || rep.Summary.Decided != rep.Summary.Items || rep.Summary.Defaults != rep.Summary.Items-1 {
		t.Fatalf("after the deadline: %+v", rep.Summary)
	}
}
