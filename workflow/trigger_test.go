package workflow

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/internal/testgraph"
	"github.com/steward-oss/steward/remediation"
)

// TestFindingTrigger: a policy with `trigger: {finding: ESC}` targets the
// identities the escalation check reports (on the change tracker's second
// sync: app-svc, which can pass an admin role to a new Lambda), each with
// its path as the target's evidence.
func TestFindingTrigger(t *testing.T) {
	ix := testgraph.Load(t, "../findings/changes/testdata/sync2.jsonl")
	const doc = "name: escalation-paths\ntrigger: {finding: ESC}\nstages:\n  - action: notify_owner\n"
	pol, err := remediation.ParsePolicy("esc.yaml", []byte(doc), ValidatePlan)
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&Finder{Graph: testgraph.NewSource(ix)}).Find(context.Background(), pol.Plan, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "aws:555566667777:user/app-svc" || len(got[0].Why) == 0 {
		t.Fatalf("targets %+v", got)
	}
	bad := []struct{ doc, want string }{
		{"name: x\ntrigger: {finding: NHI42}\nstages:\n  - action: notify_owner\n", `unknown check "NHI42"`},
		{"name: x\ntrigger: {finding: ESC}\nplan: {version: 1}\nstages:\n  - action: notify_owner\n", "plan and trigger are exclusive"},
		{"name: x\ntrigger: {}\nstages:\n  - action: notify_owner\n", "trigger.finding: invalid: missing"},
	}
	for _, b := range bad {
		if _, err := remediation.ParsePolicy("x.yaml", []byte(b.doc), ValidatePlan); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: err = %v, want %q", b.doc, err, b.want)
		}
	}
}
