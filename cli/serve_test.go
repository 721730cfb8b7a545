package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeDemoChat drives `steward serve --demo` over real HTTP: a chat
// without a key is refused, with a key "admins idle 30 days" is answered,
// and a follow-up in the same conversation narrows the previous result.
func TestServeDemoChat(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Chdir(t.TempDir()) // serve keeps its approval store in the working directory
	t.Setenv("STEWARD_API_KEYS", "test-key-1")
	t.Setenv("STEWARD_AUDIT_LOG", filepath.Join(t.TempDir(), "audit.log"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		done <- Run(ctx, []string{"serve", "--demo", "--owners", "", "--listen", addr}, &bytes.Buffer{}, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d: %s", code, stderr.String())
		}
	}()
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %s", stderr.String())
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	chat := func(key, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", base+"/v1/chat", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, _ := chat("", `{"message":"admins idle 30 days"}`); code != http.StatusUnauthorized {
		t.Fatalf("without key: %d", code)
	}
	code, first := chat("test-key-1", `{"message":"admins idle 30 days","conversation_id":"c1"}`)
	if code != 200 {
		t.Fatalf("chat: %d %v", code, first)
	}
	total1 := first["total"].(float64)
	if total1 == 0 || len(first["rows"].([]any)) == 0 {
		t.Fatalf("no rows: %v", first)
	}
	code, second := chat("test-key-1", `{"message":"and which of those are in prod?","conversation_id":"c1"}`)
	if code != 200 {
		t.Fatalf("follow-up: %d %v", code, second)
	}
	total2 := second["total"].(float64)
	if !(total2 > 0 && total2 < total1) {
		t.Fatalf("follow-up did not narrow: %v then %v", total1, total2)
	}
	plan, _ := json.Marshal(second["plan"])
	for _, want := range []string{`"idle_days"`, `"admin"`, `"prod"`} {
		if !strings.Contains(string(plan), want) {
			t.Errorf("follow-up plan %s lacks %s", plan, want)
		}
	}
	t.Logf("admins idle 30 days: %v rows; in prod: %v", total1, total2)
}

// TestRunParts: serve's parts run as one group; the first failure, named
// by its part, is the result and stops the others; parts that end with
// the context are no failure.
func TestRunParts(t *testing.T) {
	boom := errors.New("socket closed by peer")
	untilDone := func(ctx context.Context) error { <-ctx.Done(); return nil }
	tests := []struct {
		name    string
		fail    func(ctx context.Context) error // the second part
		cancel  bool                            // the caller's context ends
		wantErr string
	}{
		{name: "a part fails", fail: func(context.Context) error { return boom }, wantErr: "slack: socket closed by peer"},
		{name: "a part fails after the others stopped", fail: func(ctx context.Context) error { <-ctx.Done(); return boom }, cancel: true, wantErr: "slack: socket closed by peer"},
		{name: "stopped by the caller", fail: untilDone, cancel: true},
		{name: "a part reports the cancellation", fail: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, cancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			stopped := make(chan struct{})
			err := runParts(ctx, []servePart{
				{"http", func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil }},
				{"slack", tt.fail},
			})
			<-stopped // the other part was stopped, not left running
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("runParts = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestServeExitsWhenSlackSocketFails: a Slack app token the API refuses
// ends Socket Mode, and with it `steward serve`, non-zero and naming the
// Slack part (it used to stop the server and exit 0).
func TestServeExitsWhenSlackSocketFails(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/apps.connections.open") {
			io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer api.Close()
	dir := t.TempDir()
	t.Chdir(dir) // serve keeps its approval store in the working directory
	secret := filepath.Join(dir, "webhook.secret")
	if err := os.WriteFile(secret, []byte("a-webhook-secret-of-some-length"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "steward.yaml")
	yaml := "listen: 127.0.0.1:0\naudit_log: " + filepath.Join(dir, "audit.log") + "\n" +
		"api_keys:\n  - {name: test, sha256: 1255558df586ae279007fffa27ec17451d1507f7ac5442add9ffbc070f9f623b}\n" +
		"actuators:\n  - {source: demo, type: webhook, options: {url: \"http://127.0.0.1:9/\", secret-file: " + secret + "}}\n" +
		"slack:\n  bot_token_env: STEWARD_TEST_SLACK_BOT\n  app_token_env: STEWARD_TEST_SLACK_APP\n  api_url: " + api.URL + "/\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STEWARD_TEST_SLACK_BOT", "xoxb-1111-2222-steward-test-token")
	t.Setenv("STEWARD_TEST_SLACK_APP", "xapp-1-steward-test-app-token")
	code, _, errs := run(t, "serve", "--config", cfg, "--demo", "--owners", "", "--size", "300")
	if code == ExitOK || !strings.Contains(errs, "steward serve: slack: ") || !strings.Contains(errs, "invalid_auth") {
		t.Fatalf("serve exit %d, stderr:\n%s", code, errs)
	}
}
