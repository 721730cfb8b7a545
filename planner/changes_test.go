package planner

import (
	"strings"
	"testing"
	"time"
)

// TestChangeQuestions: change questions plan to the change history, with
// relative times resolved against the injected clock (Sunday 2026-11-01
// 12:00 UTC); graph questions with similar words stay graph questions.
func TestChangeQuestions(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		q, want string // want: the plan's JSON, or "refuse: WORD"
	}{
		{"what changed since yesterday", `{"version":1,"changes":{"since":"2026-10-31T00:00:00Z","window":"since yesterday"},"limit":200}`},
		{"What changed since the last sync?", `{"version":1,"changes":{"last_sync":true,"window":"since the last sync"},"limit":200}`},
		{"what changed", `{"version":1,"changes":{"last_sync":true,"window":"since the last sync"},"limit":200}`},
		{"new admins this week", `{"version":1,"changes":{"since":"2026-10-26T00:00:00Z","types":["new_admin"],"window":"this week"},"limit":200}`},
		{"what changed in aws since Monday", `{"version":1,"sources":["aws"],"changes":{"since":"2026-10-26T00:00:00Z","window":"since monday"},"limit":200}`},
		// Today is Sunday: "since Sunday" is a week ago, not today.
		{"what changed since sunday", `{"version":1,"changes":{"since":"2026-10-25T00:00:00Z","window":"since sunday"},"limit":200}`},
		{"what changed since thursday", `{"version":1,"changes":{"since":"2026-10-29T00:00:00Z","window":"since thursday"},"limit":200}`},
		{"new escalation paths in the last 7 days", `{"version":1,"changes":{"since":"2026-10-25T12:00:00Z","types":["new_escalation_path"],"window":"last 7 days"},"limit":200}`},
		{"new credentials in the last 24 hours", `{"version":1,"changes":{"since":"2026-10-31T12:00:00Z","types":["new_credential"],"window":"last 24 hours"},"limit":200}`},
		{"what changed today", `{"version":1,"changes":{"since":"2026-11-01T00:00:00Z","window":"today"},"limit":200}`},
		{"what changed since 2026-10-28", `{"version":1,"changes":{"since":"2026-10-28T00:00:00Z","window":"since 2026-10-28"},"limit":200}`},
		{"anything new since yesterday?", `{"version":1,"changes":{"since":"2026-10-31T00:00:00Z","window":"since yesterday"},"limit":200}`},
		{"what's new since yesterday, any new identities?", `{"version":1,"changes":{"since":"2026-10-31T00:00:00Z","types":["identity_added"],"window":"since yesterday"},"limit":200}`},
		{"new privilege escalation paths since yesterday", `{"version":1,"changes":{"since":"2026-10-31T00:00:00Z","types":["new_escalation_path"],"window":"since yesterday"},"limit":200}`},
		{"privilege grants added since yesterday", `{"version":1,"changes":{"since":"2026-10-31T00:00:00Z","types":["grant_added"],"window":"since yesterday"},"limit":200}`},
		{"identities added or removed since yesterday", `{"version":1,"changes":{"since":"2026-10-31T00:00:00Z","types":["identity_added","identity_removed"],"window":"since yesterday"},"limit":200}`},
		{"which identities lost their owner this week", `{"version":1,"changes":{"since":"2026-10-26T00:00:00Z","types":["owner_lost"],"window":"this week"},"limit":200}`},
		{"identities whose owner left since monday", `{"version":1,"changes":{"since":"2026-10-26T00:00:00Z","types":["owner_departed"],"window":"since monday"},"limit":200}`},
		{"grants added since the last sync", `{"version":1,"changes":{"last_sync":true,"types":["grant_added"],"window":"since the last sync"},"limit":200}`},
		{"any new long-lived admin keys since yesterday", `{"version":1,"changes":{"since":"2026-10-31T00:00:00Z","types":["new_long_lived_admin_key"],"window":"since yesterday"},"limit":200}`},
		// A condition a change plan cannot express is refused, not dropped.
		{"new service accounts since monday", "refuse: service"},
		{"what changed in the eu-west-1 region since yesterday", "refuse: eu-west-1 region"},
		// Graph questions with time or owner words stay graph questions.
		{"admins idle 30 days", `"idle_days"`},
		{"tokens expiring this week", `"expires_in_days"`},
		{"identities whose owner left", `"owner_status","op":"eq","value":"departed"`},
		{"who can become admin", `"admin_via_escalation"`},
		{"GitHub bots whose owner is gone", `"owner_status"`},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			p, err := PlanWith(tt.q, nil, Options{Now: now})
			if word, ok := strings.CutPrefix(tt.want, "refuse: "); ok {
				if err == nil || !strings.Contains(err.Error(), `"`+word+`"`) {
					t.Fatalf("plan %s, err %v; want a refusal naming %q", js(p), err, word)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := js(p); !strings.Contains(got, tt.want) || (strings.HasPrefix(tt.want, "{") && got != tt.want) {
				t.Fatalf("plan %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestChangeFollowUp narrows a change answer by source and type.
func TestChangeFollowUp(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	prev, err := PlanWith("what changed since yesterday", nil, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"only in aws":             `{"version":1,"sources":["aws"],"changes":{"since":"2026-10-31T00:00:00Z","window":"since yesterday"},"limit":200}`,
		"and just the new admins": `{"version":1,"changes":{"since":"2026-10-31T00:00:00Z","types":["new_admin"],"window":"since yesterday"},"limit":200}`,
	} {
		p, err := PlanWith(q, prev, Options{Now: now})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := js(p); got != want {
			t.Errorf("%s: plan %s\nwant %s", q, got, want)
		}
	}
}

func TestDescribeChanges(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for q, want := range map[string]string{
		"new admins since yesterday":       "changes between syncs of type new_admin, recorded since Sat 2026-10-31 00:00 UTC (since yesterday)",
		"what changed since the last sync": "changes between syncs, found by the last sync",
		"what changed in aws this week":    "changes between syncs, recorded since Mon 2026-10-26 00:00 UTC (this week); in aws",
	} {
		p, err := PlanWith(q, nil, Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if got := Describe(p, DescribeOptions{}); got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
}
