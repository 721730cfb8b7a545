package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

type askJSON struct {
	Plan struct {
		Changes *struct {
			Since    string `json:"since"`
			LastSync bool   `json:"last_sync"`
		} `json:"changes"`
	} `json:"plan"`
	Columns        []string `json:"columns"`
	Rows           [][]any  `json:"rows"`
	Total          int      `json:"total"`
	Interpretation string   `json:"interpretation"`
}

func askChanges(t *testing.T, args ...string) askJSON {
	t.Helper()
	code, out, errs := run(t, append([]string{"ask", "--format", "json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("ask %v: exit %d %s", args, code, errs)
	}
	var a askJSON
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return a
}

// TestAskChangesDemo: on the demo's fixed history (baseline Monday,
// syncs Wednesday and Sunday 06:00; now is Sunday 12:00) windows select
// exactly the syncs they cover.
func TestAskChangesDemo(t *testing.T) {
	tests := []struct {
		q, since, note string
		total          int
	}{
		{"what changed since yesterday", "2026-10-31T00:00:00Z", "14 changes from 1 sync (3 syncs recorded, the last at 2026-11-01T06:00:00Z)", 14},
		{"what changed since Monday", "2026-10-26T00:00:00Z", "21 changes from 2 syncs", 21},
		{"what changed since the last sync", "", "14 changes from 1 sync", 14},
		{"new admins this week", "2026-10-26T00:00:00Z", "1 change from 2 syncs", 1},
		{"what changed in github since the last sync", "", "Nothing changed in that window: the 1 sync in it found no matching change", 0},
		{"what changed in the last hour", "2026-11-01T11:00:00Z", "Nothing changed in that window: no sync ran in it", 0},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			a := askChanges(t, "--demo", "--owners", "", tt.q)
			if a.Plan.Changes == nil || a.Plan.Changes.Since != tt.since || a.Total != tt.total || len(a.Rows) != tt.total || !strings.Contains(a.Interpretation, tt.note) {
				t.Fatalf("plan %+v, total %d, interpretation %q", a.Plan.Changes, a.Total, a.Interpretation)
			}
			if strings.Join(a.Columns, ",") != "at,source,type,id,name,detail" {
				t.Fatalf("columns %v", a.Columns)
			}
		})
	}
}

// TestAskChangesSynced: `ask` reads the history `steward sync` records:
// a baseline alone says so; after the second sync, exactly the known
// difference of the two test syncs.
func TestAskChangesSynced(t *testing.T) {
	cfg, syncFrom := syncSetup(t)
	for i, f := range []string{"sync1.jsonl", "sync2.jsonl"} {
		syncFrom(f)
		a := askChanges(t, "--config", cfg, "what changed since the last sync")
		switch i {
		case 0:
			if a.Total != 0 || !strings.Contains(a.Interpretation, "Only the baseline sync is recorded") {
				t.Fatalf("after the baseline: total %d, %q", a.Total, a.Interpretation)
			}
		case 1:
			var got []string
			for _, r := range a.Rows {
				got = append(got, r[2].(string)+":"+r[4].(string))
			}
			want := "new_credential:admin-user new_long_lived_admin_key:admin-user grant_added:app-svc grant_added:app-svc grant_added:app-svc " +
				"new_escalation_path:app-svc owner_departed:app-svc grant_added:ci-runner new_admin:ci-runner identity_added:deploy-new identity_removed:old-bot"
			if strings.Join(got, " ") != want || !strings.Contains(a.Interpretation, "11 changes from 1 sync (2 syncs recorded") {
				t.Fatalf("changes:\n %s\nwant\n %s\n%s", strings.Join(got, " "), want, a.Interpretation)
			}
		}
	}
	// No history at all: a graph nobody synced (its changes directory
	// is empty) says so, and answers nothing.
	other := t.TempDir()
	if code, _, errs := run(t, "demo", "--size", "50", "--out", filepath.Join(other, "steward.db")); code != ExitOK {
		t.Fatalf("demo: %d %s", code, errs)
	}
	t.Setenv("STEWARD_CONFIG", "")
	a := askChanges(t, "--graph", filepath.Join(other, "steward.db"), "--audit-log", filepath.Join(other, "audit.log"), "what changed since yesterday")
	if a.Total != 0 || !strings.Contains(a.Interpretation, "No change history recorded yet") {
		t.Fatalf("no history: total %d, %q", a.Total, a.Interpretation)
	}
}
