// Package server is Steward's HTTP API (echo v4): chat with the agent,
// raw query plans, conversations, health, Prometheus metrics and the
// OpenAPI document. Every route but /healthz needs a bearer API key;
// keys are compared by their SHA-256, so the server never holds a plain
// key. Handlers only bind, call a service and return a value or an error;
// one error handler renders every error as RFC 9457 problem+json.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// Chatter answers messages in conversations (the agent).
type Chatter interface {
	Chat(ctx context.Context, conversation, actor, message string, onStep func(Step)) (*Answer, error)
	// Conversation returns the conversation when actor owns it, else
	// ErrNotFound.
	Conversation(ctx context.Context, id, actor string) (*Conversation, error)
}

// IndexSource gives the current graph index.
type IndexSource interface {
	Index() *graph.Index
}

// Step is one thing the agent did while answering (a tool call).
type Step struct {
	Tool    string          `json:"tool"`
	Args    json.RawMessage `json:"args,omitempty"`
	Summary string          `json:"summary,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// Answer is the chat reply: the JSON of POST /v1/chat (fields are only
// ever added).
type Answer struct {
	ConversationID string            `json:"conversation_id"`
	Answer         string            `json:"answer"`
	Plan           *query.Plan       `json:"plan,omitempty"`
	Columns        []string          `json:"columns,omitempty"`
	Rows           [][]any           `json:"rows,omitempty"`
	Evidence       [][]query.EdgeRef `json:"evidence,omitempty"`
	Total          int               `json:"total"`
	Steps          []Step            `json:"steps,omitempty"`
	// Interpretation says in words how the question was read: kinds,
	// conditions with their numbers, scope, row limit (planner.Describe).
	Interpretation string `json:"interpretation,omitempty"`
}

// Turn is one exchange of a conversation.
type Turn struct {
	Message string    `json:"message"`
	Answer  *Answer   `json:"answer"`
	At      time.Time `json:"at"`
	// Truncated says the answer's rows and evidence were not kept (the
	// conversation reached its size bound).
	Truncated bool `json:"truncated,omitempty"`
}

// Conversation is GET /v1/conversations/{id}.
type Conversation struct {
	ID    string `json:"id"`
	Turns []Turn `json:"turns"`
}

// ErrNotFound is returned by Chatter.Conversation for unknown ids.
var ErrNotFound = errors.New("not found")

// Config configures the server.
type Config struct {
	// KeyHashes are hex SHA-256 hashes of the accepted API keys, by name.
	KeyHashes map[string]string
	Chatter   Chatter
	Graph     IndexSource
	Now       func() time.Time
	Logger    *slog.Logger
	// MaxBody bounds request bodies ("1M").
	MaxBody string
	// Registry receives the server's metrics; nil makes a new one.
	Registry *prometheus.Registry
	// Findings runs GET /v1/findings; nil means the default checks
	// (findings.New with the built-in rules).
	Findings FindingsReporter
	// Extra lets other packages (Slack, approvals) add routes; it gets
	// the authenticated API group and the root (for signed webhooks).
	Extra []func(api *echo.Group, root *echo.Echo)
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	e       *echo.Echo
	metrics *metrics
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody == "" {
		cfg.MaxBody = "1M"
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, e: echo.New(), metrics: newMetrics(cfg.Registry)}
	s.e.HideBanner = true
	s.e.HidePort = true
	s.e.HTTPErrorHandler = s.handleError
	s.routes()
	return s
}

// Handler is the server as an http.Handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.e }

// Serve listens on addr until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, addr string) error {
	srv := &http.Server{Addr: addr, Handler: s.e, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// authenticate checks the bearer key against the configured hashes in
// constant time and records the key's name as the actor.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		const prefix = "Bearer "
		if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
			return problem(http.StatusUnauthorized, "unauthenticated", "a bearer API key is required")
		}
		sum := sha256.Sum256([]byte(h[len(prefix):]))
		got := hex.EncodeToString(sum[:])
		name := ""
		for n, want := range s.cfg.KeyHashes {
			if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
				name = n
			}
		}
		if name == "" {
			return problem(http.StatusUnauthorized, "unauthenticated", "unknown API key")
		}
		c.Set(actorKey, "api:"+name)
		return next(c)
	}
}

const actorKey = "steward.actor"

func actor(c echo.Context) string {
	a, _ := c.Get(actorKey).(string)
	return a
}
