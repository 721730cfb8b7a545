package changes

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

// loadSync reads one of the test syncs through the export-format reader, as
// `steward load graph` does.
func loadSync(t testing.TB, path string) *graph.Index {
	t.Helper()
	return testgraph.Load(t, path)
}

type notes struct {
	mu   sync.Mutex
	sent []string
}

func (n *notes) Alert(_ context.Context, channel, text string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, channel+"|"+text)
	return nil
}

var (
	t1 = time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	t2 = t1.Add(6 * time.Hour)
)

// want is exactly the difference testdata/README.md describes (a new
// identity is one identity_added, not one change per grant it holds).
var want = []string{
	"aws:555566667777 aws:555566667777:user/admin-user new_credential aws:555566667777:access-key/admin-user/AKIA…WXYZ",
	"aws:555566667777 aws:555566667777:user/admin-user new_long_lived_admin_key aws:555566667777:access-key/admin-user/AKIA…WXYZ",
	"aws:555566667777 aws:555566667777:user/app-svc grant_added allow iam:PassRole on arn:aws:iam::555566667777:role/lambda-admin",
	"aws:555566667777 aws:555566667777:user/app-svc grant_added allow lambda:CreateFunction on *",
	"aws:555566667777 aws:555566667777:user/app-svc grant_added allow lambda:InvokeFunction on *",
	"aws:555566667777 aws:555566667777:user/app-svc new_escalation_path aws:PassRole:lambda",
	"aws:555566667777 aws:555566667777:user/app-svc owner_departed ",
	"aws:555566667777 aws:555566667777:user/ci-runner grant_added policy aws:555566667777:aws-managed-policy/AdministratorAccess",
	"aws:555566667777 aws:555566667777:user/ci-runner new_admin ",
	"aws:555566667777 aws:555566667777:user/deploy-new identity_added ",
	"aws:555566667777 aws:555566667777:user/old-bot identity_removed ",
}

func TestTwoSyncs(t *testing.T) {
	dir := t.TempDir()
	n := &notes{}
	tr := &Tracker{Dir: dir, Channel: "#nhi-alerts", Notifier: n}
	ctx := context.Background()
	first, err := tr.Record(ctx, loadSync(t, "testdata/sync1.jsonl"), t1)
	if err != nil || len(first) != 0 {
		t.Fatalf("first sync is the baseline: %v %v", first, err)
	}
	got, err := tr.Record(ctx, loadSync(t, "testdata/sync2.jsonl"), t2)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		lines = append(lines, c.Source+" "+c.Identity+" "+c.Type+" "+c.Detail)
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// A third sync of the same data changes nothing and alerts nobody.
	if again, err := tr.Record(ctx, loadSync(t, "testdata/sync2.jsonl"), t2.Add(time.Hour)); err != nil || len(again) != 0 {
		t.Fatalf("unchanged sync: %v %v", again, err)
	}
	if len(n.sent) != 1 {
		t.Fatalf("%d alerts, want 1", len(n.sent))
	}
	for _, w := range []string{"#nhi-alerts|", "4 change(s)", "new_admin: ci-runner", "new_escalation_path: app-svc", "aws:PassRole:lambda",
		"new_long_lived_admin_key: admin-user", "owner_departed: app-svc"} {
		if !strings.Contains(n.sent[0], w) {
			t.Errorf("alert lacks %q:\n%s", w, n.sent[0])
		}
	}
	h, err := History(dir, t1)
	if err != nil || len(h) != len(want) {
		t.Fatalf("history: %d changes, %v", len(h), err)
	}
	if h2, _ := History(dir, t2.Add(time.Minute)); len(h2) != 0 {
		t.Fatalf("--since after the sync: %d", len(h2))
	}
}

func TestValidateAlerts(t *testing.T) {
	if err := ValidateAlerts([]string{"new_admin", "new_adminn"}); err == nil || !strings.Contains(err.Error(), `"new_adminn"`) {
		t.Fatalf("err = %v", err)
	}
}
