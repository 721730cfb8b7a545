package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

type fakeChatter struct{ convs map[string]*chat.Conversation }

func (f *fakeChatter) Chat(_ context.Context, conv, actor, msg string, onStep func(chat.Step)) (*chat.Answer, error) {
	if conv == "" {
		conv = "c1"
	}
	if onStep != nil {
		onStep(chat.Step{Tool: "find_identities", Summary: "1 row"})
	}
	a := &chat.Answer{ConversationID: conv, Answer: "1 identity (asked by " + actor + ")", Total: 1}
	c := f.convs[conv]
	if c == nil {
		c = &chat.Conversation{ID: conv}
		f.convs[conv] = c
	}
	c.Turns = append(c.Turns, chat.Turn{Message: msg, Answer: a})
	return a, nil
}

func (f *fakeChatter) Conversation(_ context.Context, id, _ string) (*chat.Conversation, error) {
	if c, ok := f.convs[id]; ok {
		return c, nil
	}
	return nil, chat.ErrNotFound
}

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	sgs := testgraph.Read(t, "../query/testdata/small.jsonl")
	s := New(Config{
		KeyHashes: map[string]string{"analyst": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}, // sha256("foo")
		Chatter:   &fakeChatter{convs: map[string]*chat.Conversation{}},
		Graph:     testgraph.NewSource(graph.Build(sgs)),
		Now:       func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxBody:   "2K",
	})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func do(t *testing.T, ts *httptest.Server, method, path, key, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &m)
	return resp.StatusCode, m, resp.Header
}

func TestAuthAndErrors(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, method, path, key, body string
		status                        int
		code                          string
	}{
		{"health needs no key", "GET", "/healthz", "", "", 200, ""},
		{"chat without key", "POST", "/v1/chat", "", `{"message":"hi"}`, 401, "unauthenticated"},
		{"chat wrong key", "POST", "/v1/chat", "bar", `{"message":"hi"}`, 401, "unauthenticated"},
		{"metrics need a key", "GET", "/metrics", "", "", 401, "unauthenticated"},
		{"openapi needs a key", "GET", "/v1/openapi.json", "", "", 401, "unauthenticated"},
		{"chat ok", "POST", "/v1/chat", "foo", `{"message":"admins idle 30 days"}`, 200, ""},
		{"chat empty", "POST", "/v1/chat", "foo", `{"message":"  "}`, 400, "bad_request"},
		{"chat unknown field", "POST", "/v1/chat", "foo", `{"msg":"x"}`, 400, "bad_request"},
		{"chat too large", "POST", "/v1/chat", "foo", `{"message":"` + strings.Repeat("a", 3000) + `"}`, 413, "too_large"},
		{"conversation unknown", "GET", "/v1/conversations/nope", "foo", "", 404, "not_found"},
		{"query bad plan", "POST", "/v1/query", "foo", `{"plan":{"version":1,"filters":[{"field":"idle_days","op":"contains","value":1}]}}`, 400, "invalid_plan"},
		{"query unknown entity", "POST", "/v1/query", "foo", `{"plan":{"version":1,"reach":{"from":"ci-deploer"}}}`, 422, "unknown_entity"},
		{"query change plan", "POST", "/v1/query", "foo", `{"plan":{"version":1,"changes":{"last_sync":true}}}`, 400, "invalid_plan"},
		{"query ok", "POST", "/v1/query", "foo", `{"plan":{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}]}}`, 200, ""},
		{"no route", "GET", "/v1/nothing", "foo", "", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, hdr := do(t, ts, tt.method, tt.path, tt.key, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, body)
			}
			if tt.code != "" {
				if body["code"] != tt.code || body["request_id"] == "" || !strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") {
					t.Fatalf("problem %v (content-type %s), want code %s", body, hdr.Get("Content-Type"), tt.code)
				}
			}
		})
	}
	// The query answer names the fixture's admins.
	_, body, _ := do(t, ts, "POST", "/v1/query", "foo", `{"plan":{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}]}}`)
	if body["total"].(float64) != 2 {
		t.Fatalf("query total %v", body["total"])
	}
}

func TestChatStreamAndConversation(t *testing.T) {
	ts := newTestServer(t)
	req, _ := http.NewRequest("POST", ts.URL+"/v1/chat", strings.NewReader(`{"message":"admins idle 30 days","conversation_id":"t1"}`))
	req.Header.Set("Authorization", "Bearer foo")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			events = append(events, ev)
		}
	}
	if strings.Join(events, ",") != "step,answer" {
		t.Fatalf("events %v", events)
	}
	status, body, _ := do(t, ts, "GET", "/v1/conversations/t1", "foo", "")
	if status != 200 || len(body["turns"].([]any)) != 1 {
		t.Fatalf("conversation %d %v", status, body)
	}
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	status, doc, _ := do(t, ts, "GET", "/v1/openapi.json", "foo", "")
	if status != 200 {
		t.Fatal(status)
	}
	paths := doc["paths"].(map[string]any)
	s := New(Config{})
	for _, r := range s.e.Routes() {
		p := r.Path
		if strings.Contains(p, ":id") {
			p = strings.ReplaceAll(p, ":id", "{id}")
		}
		if strings.HasSuffix(p, "/*") || strings.HasPrefix(r.Method, "echo_") {
			continue
		}
		if _, ok := paths[p]; !ok {
			t.Errorf("route %s %s missing from openapi.json", r.Method, r.Path)
		}
	}
}
