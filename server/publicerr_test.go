package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/publicerr"
	"github.com/steward-oss/steward/internal/testgraph"
)

// failingChatter fails every question with err.
type failingChatter struct{ err error }

func (f failingChatter) Chat(context.Context, string, string, string, func(chat.Step)) (*chat.Answer, error) {
	return nil, f.err
}

func (f failingChatter) Conversation(context.Context, string, string) (*chat.Conversation, error) {
	return nil, f.err
}

// TestInternalDetailNeverInResponse checks that what a failure wraps (a
// path, SQL, a provider's reply) stays in the log, and that a public
// message is all the client sees of a public error.
func TestInternalDetailNeverInResponse(t *testing.T) {
	const secretPath = "/var/lib/steward/graph.db"
	const sql = `pq: relation "quads" does not exist (SELECT subject FROM quads)`
	internal := fmt.Errorf("agent: tool find_identities: store: open %q: %s", secretPath, sql)
	tests := []struct {
		name       string
		err        error
		stream     bool
		status     int
		code       string
		wantDetail string
	}{
		{"internal error", internal, false, 500, "internal", ""},
		{"internal error streamed", internal, true, 200, "internal", ""},
		{"public error", publicerr.Wrap("this question needs a loaded graph", internal), false, 422, "not_answerable", "this question needs a loaded graph"},
		{"public error streamed", publicerr.Wrap("this question needs a loaded graph", internal), true, 200, "not_answerable", "this question needs a loaded graph"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := New(Config{
				KeyHashes: map[string]string{"analyst": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}, // sha256("foo")
				Chatter:   failingChatter{tt.err},
				Graph:     testgraph.NewSource(graph.Build(testgraph.Read(t, "../query/testdata/small.jsonl"))),
				Now:       func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) },
				Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
			})
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			req, _ := http.NewRequest("POST", ts.URL+"/v1/chat", strings.NewReader(`{"message":"who is idle"}`))
			req.Header.Set("Authorization", "Bearer foo")
			req.Header.Set("Content-Type", "application/json")
			if tt.stream {
				req.Header.Set("Accept", "text/event-stream")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			if resp.StatusCode != tt.status || !strings.Contains(body, `"code":"`+tt.code+`"`) {
				t.Fatalf("status %d body %s, want %d code %s", resp.StatusCode, body, tt.status, tt.code)
			}
			for _, leak := range []string{secretPath, "SELECT", "pq:", "agent: tool"} {
				if strings.Contains(body, leak) {
					t.Errorf("response holds internal detail %q: %s", leak, body)
				}
			}
			if tt.wantDetail != "" && !strings.Contains(body, tt.wantDetail) {
				t.Errorf("public message missing: %s", body)
			}
			if tt.wantDetail == "" && !strings.Contains(logs.String(), "graph.db") {
				t.Errorf("the detail is not in the log: %s", logs.String())
			}
		})
	}
}

// TestHandleErrorPublic5xx checks a 5xx from any handler: the public
// message of a public error is shown, its wrapped detail never.
func TestHandleErrorPublic5xx(t *testing.T) {
	s := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	tests := []struct {
		name, want string
		err        error
	}{
		{"internal", "", fmt.Errorf("audit: append /var/log/steward/audit.jsonl: disk full")},
		{"public", "the audit log cannot be written; nothing was done", publicerr.Wrap("the audit log cannot be written; nothing was done", fmt.Errorf("audit: append /var/log/steward/audit.jsonl: disk full"))},
		{"problem 5xx keeps its detail out", "", NewProblem(503, "unavailable", "backend /var/log/steward down")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest("GET", "/v1/x", nil), rec)
			s.handleError(tt.err, c)
			body := rec.Body.String()
			if strings.Contains(body, "/var/log") || rec.Code < 500 {
				t.Errorf("status %d body %s", rec.Code, body)
			}
			if tt.want != "" && !strings.Contains(body, `"detail":"`+tt.want+`"`) || tt.want == "" && strings.Contains(body, `"detail"`) {
				t.Errorf("body %s, want detail %q", body, tt.want)
			}
		})
	}
}
