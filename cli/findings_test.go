package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFindingsCommand(t *testing.T) {
	code, out, errs := run(t, "findings", "--demo", "--size", "1000", "--check", "SOD", "-o", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var rep struct {
		Checks   []struct{ ID string }
		Findings []struct {
			Check, Identity, Detail string
			Evidence                []map[string]any
		}
		Total int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// The demo plants 4 separation-of-duties violations at size 1000.
	if rep.Total != 4 || len(rep.Checks) != 1 || rep.Checks[0].ID != "SOD" {
		t.Fatalf("report %+v", rep)
	}
	for _, f := range rep.Findings {
		if !strings.HasPrefix(f.Detail, "SOD-") || len(f.Evidence) < 2 {
			t.Errorf("finding %+v", f)
		}
	}
	if code, _, errs := run(t, "findings", "--demo", "--check", "NHI42"); code != ExitUsage || !strings.Contains(errs, "unknown check") {
		t.Fatalf("unknown check: exit %d %s", code, errs)
	}
	if code, out, _ := run(t, "findings", "--list"); code != ExitOK || !strings.Contains(out, "NHI10") {
		t.Fatalf("--list: exit %d %s", code, out)
	}
}
