package review

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseCampaignRejects(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"unknown-key.yaml", "line 4: field reviewer_rules is unknown in the campaign"},
		{"bad-rule.yaml", `line 5: reviewers[1]: invalid campaign: "boss" is not owner, manager or {group: NAME}`},
		{"no-scope.yaml", "scope: invalid campaign: needs a question or a plan"},
		{"bad-default.yaml", `line 4: default_decision: invalid campaign: "delete" is not keep, revoke or none`},
		{"bad-duration.yaml", `line 4: bad duration "fortnight"`},
		{"group-member.yaml", `line 4: reviewers[0]: invalid campaign: members[0]: "sam" is not an e-mail address`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tt.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseCampaign(path, b)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error = %v, want %q naming %s", err, tt.want, path)
			}
		})
	}
}

func TestParseCampaignDefaults(t *testing.T) {
	tests := []struct {
		name  string
		check func(*Campaign) bool
	}{
		{"quarterly period", func(c *Campaign) bool { return c.Schedule == ScheduleQuarterly && c.Every == quarter }},
		{"chain", func(c *Campaign) bool {
			return len(c.Reviewers) == 3 && c.Reviewers[2].Group == "security" && len(c.Reviewers[2].Members) == 2
		}},
		{"owner may review by default", func(c *Campaign) bool { return c.OwnerMayReview }},
		{"justification default", func(c *Campaign) bool {
			return c.RequireJustification == JustifyPrivilegedOrIdle && c.IdleDays == DefaultIdleDays
		}},
		{"durations", func(c *Campaign) bool {
			return c.Duration == 14*24*time.Hour && c.EscalateAfter == 5*24*time.Hour && len(c.RemindBefore) == 1
		}},
		{"plan kept as JSON", func(c *Campaign) bool { return strings.Contains(string(c.Plan), `"privilege"`) && c.Question == "" }},
	}
	c := campaign(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.check(c) {
				t.Fatalf("%+v", c)
			}
		})
	}
}

func TestDemoCampaignParses(t *testing.T) {
	c, err := DemoCampaign()
	if err != nil {
		t.Fatal(err)
	}
	if c.Question == "" || c.Schedule != ScheduleQuarterly || c.DefaultDecision != DefaultRevoke {
		t.Fatalf("demo campaign %+v", c)
	}
}

func TestLoadCampaignsDuplicateName(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/campaigns/admins.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadCampaigns(dir); err == nil || !strings.Contains(err.Error(), "also the name of") {
		t.Fatalf("err = %v", err)
	}
}
