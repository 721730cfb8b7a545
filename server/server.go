// Package server is Steward's HTTP API (echo v4): chat with the agent,
// raw query plans, conversations, health, Prometheus metrics and the
// OpenAPI document. Every route but /healthz needs a bearer API key;
// keys are compared by their SHA-256, so the server never holds a plain
// key. Handlers only bind, call a service and return a value or an error;
// one error handler renders every error as RFC 9457 problem+json.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/graph"
)

// Chatter answers messages in conversations (*chat.Service is one).
type Chatter interface {
	Chat(ctx context.Context, conversation, actor, message string, onStep func(chat.Step)) (*chat.Answer, error)
	// Conversation returns the conversation when actor owns it, else
	// chat.ErrNotFound.
	Conversation(ctx context.Context, id, actor string) (*chat.Conversation, error)
}

var _ Chatter = (*chat.Service)(nil)

// IndexSource gives the current graph index.
type IndexSource interface {
	Index() *graph.Index
}

// Auditor appends audit records; *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, r audit.Record) (audit.Record, error)
}

// Config configures the server.
type Config struct {
	// KeyHashes are hex SHA-256 hashes of accepted API keys, by name,
	// for embedding and tests: each has the admin role and acts as
	// "api:<name>". Configured keys come through Keys (default reader).
	KeyHashes map[string]string
	// Keys are accepted API keys with their roles and holders.
	Keys []Key
	// ReadTimeout, WriteTimeout and IdleTimeout bound a connection's
	// request read (body included), response write and keep-alive idle
	// time (defaults 30s, 3m — a chat may take the agent's minute — and
	// 2m).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConcurrent bounds requests in flight (default 64); the next one
	// gets 503.
	MaxConcurrent int
	// RatePerSecond and RateBurst bound each key's requests (defaults 10
	// a second, bursts of 40); over it, 429.
	RatePerSecond float64
	RateBurst     int
	Chatter       Chatter
	Graph         IndexSource
	Now           func() time.Time
	Logger        *slog.Logger
	// MaxBody bounds request bodies ("1M").
	MaxBody string
	// Registry receives the server's metrics; nil makes a new one.
	Registry *prometheus.Registry
	// Findings runs GET /v1/findings; nil means the default checks
	// (findings.New with the built-in rules).
	Findings FindingsReporter
	// Audit receives one record per POST /v1/query (a plan run); when it
	// cannot be written the request fails. Nil: plan runs are not
	// audited (embedding, tests).
	Audit Auditor
	// Workflow, Reviews and Slack serve the route groups of other
	// packages; routes.go mounts them (nil: the group is not served).
	Workflow *WorkflowHandlers
	Reviews  *ReviewHandlers
	Slack    *SlackHandlers
	// Web is the browser console (package web); nil serves no console.
	Web WebConsole
	// History gives GET /v1/overview its sync runs and change trend; nil
	// shows counts only.
	History History
}

// WebConsole is the browser console: its own routes (login, assets) and
// the session check that lets its pages call the API with a cookie
// instead of a bearer key.
type WebConsole interface {
	// Routes adds the console's routes; verify checks a pasted key as the
	// bearer path does and returns its key name and actor.
	Routes(root *echo.Echo, verify func(key string) (name, actor string, ok bool))
	// SessionKey returns the key name of r's session cookie; ok is false
	// when r carries no valid session, err refuses a session request (a
	// state change without its CSRF token or from another origin).
	SessionKey(r *http.Request) (name string, ok bool, err error)
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	e       *echo.Echo
	metrics *metrics
	keys    []principal
	limiter *limiter
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
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 3 * time.Minute
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 64
	}
	if cfg.RatePerSecond == 0 {
		cfg.RatePerSecond = 10
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = 40
	}
	s := &Server{cfg: cfg, e: echo.New(), metrics: newMetrics(cfg.Registry), keys: principals(cfg),
		limiter: newLimiter(cfg.RatePerSecond, cfg.RateBurst)}
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
	// Every phase of a connection is bounded: a client announcing a body
	// and sending a byte a minute is cut at ReadTimeout.
	srv := &http.Server{Addr: addr, Handler: s.e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.WriteTimeout, IdleTimeout: s.cfg.IdleTimeout, MaxHeaderBytes: 64 << 10}
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

const actorKey = "steward.actor"

func actor(c echo.Context) string {
	a, _ := c.Get(actorKey).(string)
	return a
}
