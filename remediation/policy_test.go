package remediation

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/remediation/action"
)

func validatePlan(raw json.RawMessage) error {
	_, err := query.Parse(raw)
	return err
}

func TestLoadPolicies(t *testing.T) {
	pols, err := LoadPolicies("testdata/policies", validatePlan)
	if err != nil {
		t.Fatal(err)
	}
	if len(pols) != 2 {
		t.Fatalf("loaded %d policies, want 2", len(pols))
	}
	dep, idle := pols[0], pols[1]

	t.Run("idle-admin-keys", func(t *testing.T) {
		if idle.Name != "idle-admin-keys" || idle.OnExpiry != approval.ExpiryEscalate || idle.Expiry != 72*time.Hour {
			t.Errorf("policy = %+v", idle)
		}
		var plan query.Plan
		if err := json.Unmarshal(idle.Plan, &plan); err != nil || len(plan.Filters) != 2 || plan.Filters[1].Field != "idle_days" {
			t.Errorf("plan = %s (%v)", idle.Plan, err)
		}
		want := []struct {
			after     time.Duration
			action    action.Kind
			approvers Approvers
		}{
			{0, ActionNotifyOwner, Approvers{}},
			{7 * 24 * time.Hour, ActionDisableCredential, Approvers{Required: 2, Group: "secops", EscalateTo: "security-leads"}},
			{30 * 24 * time.Hour, ActionDelete, Approvers{Required: 2, Group: "secops", EscalateTo: "security-leads"}},
		}
		if len(idle.Stages) != len(want) {
			t.Fatalf("%d stages", len(idle.Stages))
		}
		for i, w := range want {
			s := idle.Stages[i]
			if s.After != w.after || s.Action != w.action || s.Approvers != w.approvers {
				t.Errorf("stage %d = %+v, want %+v", i, s, w)
			}
		}
	})
	t.Run("departed-owner", func(t *testing.T) {
		if dep.OnExpiry != approval.ExpiryCancel || dep.Expiry != DefaultExpiry || dep.RestartAfter != 90*24*time.Hour {
			t.Errorf("defaults not applied: %+v", dep)
		}
		if got := dep.Stages[0].Approvers; got.Required != 1 || !got.owner() || got.Group != "" {
			t.Errorf("default approvers = %+v, want the owner alone", got)
		}
		if dep.Stages[0].Params["reason"] != "owner departed" {
			t.Errorf("params = %v", dep.Stages[0].Params)
		}
		if !strings.HasPrefix(string(dep.Plan), `{"filters":`) {
			t.Errorf("plan = %s", dep.Plan)
		}
	})
}

func TestBadPolicies(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings of the error, besides the file name
	}{
		{"unknown-key.yaml", []string{"line 5", `field afterr is unknown in a stage`}},
		{"unknown-top-key.yaml", []string{"line 3", "field onexpiry is unknown in the policy"}},
		{"unknown-approver-key.yaml", []string{"line 5", "field requried is unknown in approvers"}},
		{"bad-duration.yaml", []string{"line 5", `bad duration "7 days"`}},
		{"unknown-action.yaml", []string{"stages[0].action", `unknown action "nuke"`}},
		{"first-stage-after.yaml", []string{"stages[0].after", "takes no after"}},
		{"missing-after.yaml", []string{"stages[1].after", "required"}},
		{"zero-approvers.yaml", []string{"stages[0].approvers.required", "at least 1"}},
		{"notify-approvers.yaml", []string{"stages[0].approvers", "needs no approval"}},
		{"bad-on-expiry.yaml", []string{"on_expiry", `"ignore"`}},
		{"escalate-nowhere.yaml", []string{"escalate_to", "stages[0]"}},
		{"no-plan.yaml", []string{"plan: ", "missing"}},
		{"plan-list.yaml", []string{"plan: ", "line 2", "mapping"}},
		{"bad-plan-field.yaml", []string{"plan: ", "filters[0].field", "idle_dayz"}},
		{"bad-name.yaml", []string{"name: ", `"Idle Keys!"`}},
		{"no-stages.yaml", []string{"stages: ", "empty"}},
		{"two-docs.yaml", []string{"more than one YAML document"}},
		{"empty.yaml", []string{"empty file"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata/bad", tt.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParsePolicy(path, b, validatePlan)
			if err == nil {
				t.Fatalf("parsed: %+v", p)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range append([]string{path}, tt.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}

	t.Run("directory load fails whole", func(t *testing.T) {
		dir := t.TempDir()
		good, _ := os.ReadFile("testdata/policies/idle-admin-keys.yaml")
		bad, _ := os.ReadFile("testdata/bad/unknown-key.yaml")
		os.WriteFile(filepath.Join(dir, "a.yaml"), good, 0o600)
		os.WriteFile(filepath.Join(dir, "b.yaml"), bad, 0o600)
		pols, err := LoadPolicies(dir, nil)
		if err == nil || pols != nil || !strings.Contains(err.Error(), "b.yaml") {
			t.Fatalf("LoadPolicies = %v, %v; want error naming b.yaml and no policies", pols, err)
		}
	})
	t.Run("duplicate names", func(t *testing.T) {
		dir := t.TempDir()
		good, _ := os.ReadFile("testdata/policies/idle-admin-keys.yaml")
		os.WriteFile(filepath.Join(dir, "a.yaml"), good, 0o600)
		os.WriteFile(filepath.Join(dir, "b.yml"), good, 0o600)
		_, err := LoadPolicies(dir, nil)
		if err == nil || !strings.Contains(err.Error(), "a.yaml") || !strings.Contains(err.Error(), "b.yml") {
			t.Fatalf("LoadPolicies = %v; want duplicate-name error naming both files", err)
		}
	})
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"7d", 7 * 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"0", 0, false},
		{"", 0, true},
		{"7", 0, true},
		{"7 d", 0, true},
		{"-1d", 0, true},
		{"1y", 0, true},
		{"99999999999d", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if (err != nil) != tt.bad || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}
