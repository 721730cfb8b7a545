package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
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
