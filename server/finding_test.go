package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

// TestFinding3SlowBodyIsCut: issue 12 finding 3. A client that announces a
// body and sends one byte is disconnected by the server's read timeout
// (old code: only ReadHeaderTimeout, the connection stayed open).
func TestFinding3SlowBodyIsCut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := New(Config{ReadTimeout: 300 * time.Millisecond, KeyHashes: map[string]string{"analyst": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, addr) }()
	t.Cleanup(func() { cancel(); <-done })
	var c net.Conn
	for range 100 {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatal(err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if c == nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{")
	// A hang guard, not a timing assertion: the server must end the
	// connection on its own; without a read timeout it never does.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("server kept a slow-body connection open (read %q)", b)
	}
	_ = strings.TrimSpace
}

// TestFinding10HeadersAndProblems: issue 12 finding 10 (HTTP part):
// security headers on every response, WWW-Authenticate on 401, 405 for a
// wrong method, and 4xx details without Go type names.
func TestFinding10HeadersAndProblems(t *testing.T) {
	ts := newTestServer(t)
	for _, path := range []string{"/healthz", "/v1/nothing"} {
		_, _, hdr := do(t, ts, "GET", path, "foo", "")
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
			if got := hdr.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, want)
			}
		}
		if !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy = %q", path, hdr.Get("Content-Security-Policy"))
		}
	}
	if status, _, hdr := do(t, ts, "POST", "/v1/chat", "", `{"message":"x"}`); status != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401: status %d, WWW-Authenticate %q", status, hdr.Get("WWW-Authenticate"))
	}
	if status, body, _ := do(t, ts, "GET", "/v1/chat", "foo", ""); status != 405 || body["code"] != "method_not_allowed" {
		t.Errorf("GET /v1/chat: %d %v, want 405", status, body)
	}
	for _, body := range []string{`{"message":5}`, `{"message":"x","stream":"yes"}`, `[1]`} {
		status, p, _ := do(t, ts, "POST", "/v1/chat", "foo", body)
		d, _ := p["detail"].(string)
		if status != 400 || strings.Contains(d, "Go ") || strings.Contains(d, "ChatRequest") || strings.Contains(d, "server.") {
			t.Errorf("POST /v1/chat %s: %d detail %q (a Go type name leaks)", body, status, d)
		}
	}
}

// TestFinding9KeysHaveRoles: issue 12 finding 9. A key without the admin
// role cannot change owners or policies (old code: every key could do
// everything).
func TestFinding9KeysHaveRoles(t *testing.T) {
	calls := 0
	h := func(c echo.Context) error { calls++; return c.NoContent(http.StatusNoContent) }
	s := New(Config{
		Keys:     []Key{{Name: "analyst", SHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}}, // sha256("foo"), no role: reader
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Workflow: &WorkflowHandlers{PutOwner: h, PutPolicy: h, ListOwners: h},
	})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, path := range []string{"/v1/owners/x", "/v1/policies/p"} {
		if status, body, _ := do(t, ts, "PUT", path, "foo", `{}`); status != http.StatusForbidden {
			t.Errorf("reader PUT %s: %d %v, want 403", path, status, body)
		}
	}
	if status, _, _ := do(t, ts, "GET", "/v1/owners", "foo", ""); status != http.StatusNoContent {
		t.Errorf("reader GET /v1/owners: %d", status)
	}
	if calls != 1 {
		t.Errorf("%d handler calls, want 1 (the read)", calls)
	}
}

// TestKeysActAsTheirHolder: a key with an e-mail acts as that person (the
// principal Slack resolves the same person to), and its role opens the
// routes it names.
func TestKeysActAsTheirHolder(t *testing.T) {
	var actors []string
	h := func(c echo.Context) error {
		actors = append(actors, Actor(c))
		return c.NoContent(http.StatusNoContent)
	}
	s := New(Config{
		Keys: []Key{{Name: "sam", SHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", Role: RoleAdmin, Email: "Sam@Example.com"},
			{Name: "rev", SHA256: "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9", Role: RoleApprover}}, // sha256("bar")
		Chatter:  &fakeChatter{convs: map[string]*chat.Conversation{}},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Workflow: &WorkflowHandlers{PutOwner: h},
		Reviews:  &ReviewHandlers{Decide: h},
	})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	tests := []struct {
		method, path, key string
		status            int
	}{
		{"PUT", "/v1/owners/x", "foo", 204},
		{"PUT", "/v1/owners/x", "bar", 403},
		{"POST", "/v1/reviews/r/items/i/decision", "bar", 204},
		{"POST", "/v1/reviews/r/items/i/decision", "foo", 204},
	}
	for _, tt := range tests {
		if status, body, _ := do(t, ts, tt.method, tt.path, tt.key, `{}`); status != tt.status {
			t.Errorf("%s %s with %s: %d %v, want %d", tt.method, tt.path, tt.key, status, body, tt.status)
		}
	}
	if strings.Join(actors, ",") != "sam@example.com,api:rev,sam@example.com" {
		t.Errorf("actors %v", actors)
	}
	_, body, _ := do(t, ts, "POST", "/v1/chat", "foo", `{"message":"hi"}`)
	if !strings.Contains(body["answer"].(string), "asked by sam@example.com") {
		t.Errorf("chat actor: %v", body["answer"])
	}
}

func TestRequiredRole(t *testing.T) {
	for _, tt := range []struct{ method, route, want string }{
		{"GET", "/v1/owners", RoleReader},
		{"POST", "/v1/chat", RoleReader},
		{"PUT", "/v1/owners/:identity", RoleAdmin},
		{"PUT", "/v1/policies/:name", RoleAdmin},
		{"DELETE", "/v1/policies/:name", RoleAdmin},
		{"POST", "/v1/reviews", RoleAdmin},
		{"POST", "/v1/reviews/:id/items/:item/decision", RoleApprover},
		{"POST", "/v1/something/new", RoleAdmin},
	} {
		if got := RequiredRole(tt.method, tt.route); got != tt.want {
			t.Errorf("RequiredRole(%s %s) = %s, want %s", tt.method, tt.route, got, tt.want)
		}
	}
}

func TestRateLimitPerKey(t *testing.T) {
	l := newLimiter(2, 3)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var got []bool
	for range 4 {
		got = append(got, l.allow("a", t0))
	}
	got = append(got, l.allow("b", t0), l.allow("a", t0.Add(500*time.Millisecond)), l.allow("a", t0.Add(500*time.Millisecond)))
	if fmt.Sprint(got) != "[true true true false true true false]" {
		t.Fatalf("allow sequence %v", got)
	}
}

func TestConcurrencyBound(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	s := New(Config{MaxConcurrent: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.e.GET("/slow", func(c echo.Context) error { entered <- struct{}{}; <-release; return c.NoContent(204) })
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	done := make(chan int)
	go func() {
		resp, err := http.Get(ts.URL + "/slow")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-entered
	resp, err := http.Get(ts.URL + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	close(release)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second request in flight: %d, want 503", resp.StatusCode)
	}
	if first := <-done; first != 204 {
		t.Errorf("first request: %d", first)
	}
}

type recAudit struct {
	recs []audit.Record
	err  error
}

func (a *recAudit) Append(_ context.Context, r audit.Record) (audit.Record, error) {
	if a.err != nil {
		return audit.Record{}, a.err
	}
	a.recs = append(a.recs, r)
	return r, nil
}

// TestPlanRunsAudited: POST /v1/query writes a plan record, and fails
// when it cannot.
func TestPlanRunsAudited(t *testing.T) {
	for _, tt := range []struct {
		name   string
		a      *recAudit
		status int
	}{{"audited", &recAudit{}, 200}, {"audit fails", &recAudit{err: errors.New("disk full")}, 500}} {
		t.Run(tt.name, func(t *testing.T) {
			sgs := testgraph.Read(t, "../query/testdata/small.jsonl")
			s := New(Config{Keys: []Key{{Name: "a", SHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", Email: "ann@example.com"}},
				Graph: testgraph.NewSource(graph.Build(sgs)), Audit: tt.a, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			status, body, _ := do(t, ts, "POST", "/v1/query", "foo", `{"plan":{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}]}}`)
			if status != tt.status {
				t.Fatalf("status %d %v", status, body)
			}
			if tt.a.err == nil && (len(tt.a.recs) != 1 || tt.a.recs[0].Action != audit.ActionPlan || tt.a.recs[0].Actor != "ann@example.com" || tt.a.recs[0].Details["rows"] != "2") {
				t.Fatalf("records %+v", tt.a.recs)
			}
		})
	}
}
