package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/slackbot/slackfake"
)

// TestSyncAlertsOnce: `steward sync` with Slack and changes.alert_channel
// configured posts the change alert of two syncs with a known difference
// (findings/changes/testdata, plus an access key whose id a source let
// through unmasked) exactly once to the alert channel, through the Slack
// Web API fake; an unchanged third sync posts nothing, and no message
// carries the key id or the bot token.
func TestSyncAlertsOnce(t *testing.T) {
	const rawKey, token = "AKIAIOSFODNN7EXAMPLE", "xoxb-1111-2222-steward-test-token"
	slack := slackfake.New(nil)
	defer slack.Stop()
	t.Setenv("STEWARD_TEST_SLACK_BOT", token)
	dir := t.TempDir()
	export := filepath.Join(dir, "export.jsonl")
	cfg := filepath.Join(dir, "steward.yaml")
	yaml := "graph: " + filepath.Join(dir, "graph.db") + "\naudit_log: " + filepath.Join(dir, "audit.log") +
		"\nconnectors:\n  - type: graph\n    options: {from: " + export + "}\n" +
		"slack:\n  bot_token_env: STEWARD_TEST_SLACK_BOT\n  api_url: " + slack.APIURL() + "\n" +
		"changes:\n  dir: " + filepath.Join(dir, "changes") + "\n  alert_channel: C0ALERTS\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	leak := `{"type": "node", "id": "aws:555566667777:access-key/admin-user/` + rawKey + `", "kind": "credential", "source": "aws:555566667777", "name": "` + rawKey + `", "props": {"subtype": "access_key", "status": "active", "created_at": "2026-02-01T00:00:00Z"}}
{"type": "edge", "from": "aws:555566667777:user/admin-user", "to": "aws:555566667777:access-key/admin-user/` + rawKey + `", "kind": "has_credential", "source": "aws:555566667777"}
`
	for i, f := range []string{"sync1.jsonl", "sync2.jsonl", "sync2.jsonl"} {
		b, err := os.ReadFile("../findings/changes/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			b = append(b, leak...)
		}
		if err := os.WriteFile(export, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := run(t, "sync", "--config", cfg); code != ExitOK {
			t.Fatalf("sync %d: exit %d %s", i+1, code, errs)
		}
		if n := len(slack.Calls("chat.postMessage")); (i == 0 && n != 0) || (i > 0 && n != 1) {
			t.Fatalf("after sync %d: %d messages, want %d", i+1, n, min(i, 1))
		}
	}
	post := slack.Calls("chat.postMessage")[0]
	text := post.Form.Get("text")
	if post.Form.Get("channel") != "C0ALERTS" || !strings.Contains(text, "5 change(s)") ||
		!strings.Contains(text, "new_escalation_path: app-svc") || !strings.Contains(text, "new_admin: ci-runner") ||
		!strings.Contains(text, "owner_departed: app-svc") || !strings.Contains(text, "new_long_lived_admin_key: admin-user") {
		t.Fatalf("alert %v", post.Form)
	}
	// The token authenticates the call (the form's token field); it
	// must not be in the message.
	if strings.Contains(string(post.Body), rawKey) || strings.Contains(text, token) || !strings.Contains(text, "AKIA…MPLE") {
		t.Fatalf("alert carries a secret or lost the masked key: %s", text)
	}
}

// TestSyncAlertNeedsToken: alert_channel with a bot token variable that
// is empty is a configuration error before any connector runs.
func TestSyncAlertNeedsToken(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "steward.yaml")
	t.Setenv("STEWARD_TEST_SLACK_BOT", "")
	yaml := "graph: " + filepath.Join(dir, "graph.db") + "\naudit_log: " + filepath.Join(dir, "audit.log") +
		"\nconnectors:\n  - type: graph\n    options: {from: " + filepath.Join(dir, "missing.jsonl") + "}\n" +
		"slack:\n  bot_token_env: STEWARD_TEST_SLACK_BOT\nchanges:\n  alert_channel: C0ALERTS\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, "sync", "--config", cfg)
	if code != ExitUsage || !strings.Contains(errs, "STEWARD_TEST_SLACK_BOT is empty") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "audit.log")); err == nil {
		t.Fatal("the sync ran (audit log written) despite the configuration error")
	}
}
