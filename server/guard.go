package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Key is one accepted API key: its name, the hex SHA-256 of the key, its
// role and the e-mail of the person holding it. With an e-mail, requests
// act as that person — the same principal as their Slack user — so
// separation of duties (no self-approval) holds across channels; without
// one they act as "api:<name>".
type Key struct {
	Name   string
	SHA256 string
	Role   string
	Email  string
}

// Roles, weakest first; each includes the ones before it.
const (
	RoleReader   = "reader"
	RoleApprover = "approver"
	RoleAdmin    = "admin"
)

var roleRank = map[string]int{RoleReader: 1, RoleApprover: 2, RoleAdmin: 3}

// routeRoles is the role each route needs beyond reading. Every GET (and
// HEAD) needs reader; a non-GET route not listed here needs admin, so a
// route added without thought is closed, not open.
var routeRoles = map[string]string{
	"POST /v1/chat":  RoleReader, // asking; proposals need a person (see chat)
	"POST /v1/query": RoleReader,
	// A reviewer's decision on an access-review item.
	"POST /v1/reviews/:id/items/:item/decision": RoleApprover,
	// An approver's decision on a remediation proposal (workflow).
	"POST /v1/proposals/:id/approve": RoleApprover,
	"POST /v1/proposals/:id/reject":  RoleApprover,
}

// RequiredRole is the role a request with method to route (echo's path
// pattern, "/v1/owners/:identity") needs.
func RequiredRole(method, route string) string {
	if r, ok := routeRoles[method+" "+route]; ok {
		return r
	}
	if method == http.MethodGet || method == http.MethodHead {
		return RoleReader
	}
	return RoleAdmin
}

// principal is an authenticated key.
type principal struct {
	name, role, actor, SHA256 string
}

// authenticate checks the bearer key against the configured hashes in
// constant time, then the key's role against the route's, and records
// the principal as the actor. Without a bearer key, a web console
// session (package web; its CSRF token checked on changes) stands for
// the key that opened it, under the same rate limit and role.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		var p *principal
		if h == "" && s.cfg.Web != nil {
			name, ok, err := s.cfg.Web.SessionKey(c.Request())
			if err != nil {
				return problem(http.StatusForbidden, "forbidden", err.Error())
			}
			for i := range s.keys {
				if ok && s.keys[i].name == name {
					p = &s.keys[i]
				}
			}
		}
		const prefix = "Bearer "
		if p == nil {
			if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
				return problem(http.StatusUnauthorized, "unauthenticated", "a bearer API key is required")
			}
			if p = s.keyPrincipal(h[len(prefix):]); p == nil {
				return problem(http.StatusUnauthorized, "unauthenticated", "unknown API key")
			}
		}
		if !s.limiter.allow(p.name, s.cfg.Now()) {
			c.Response().Header().Set("Retry-After", "1")
			return problem(http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("more than %g requests a second with this key", s.cfg.RatePerSecond))
		}
		c.Set(actorKey, p.actor)
		route := c.Path()
		if route == "" || strings.HasSuffix(route, "/*") {
			return next(c) // no such route: the 404 (or 405) follows
		}
		need := RequiredRole(c.Request().Method, route)
		if roleRank[p.role] < roleRank[need] {
			return problem(http.StatusForbidden, "forbidden", fmt.Sprintf("the key %q has the %s role; %s %s needs %s", p.name, p.role, c.Request().Method, route, need))
		}
		return next(c)
	}
}

// keyPrincipal is the principal of a plain key, compared by SHA-256 in
// constant time; nil when unknown.
func (s *Server) keyPrincipal(key string) *principal {
	sum := sha256.Sum256([]byte(key))
	got := []byte(hex.EncodeToString(sum[:]))
	var p *principal
	for i := range s.keys {
		if subtle.ConstantTimeCompare(got, []byte(strings.ToLower(s.keys[i].SHA256))) == 1 {
			p = &s.keys[i]
		}
	}
	return p
}

// verifyKey is the web console's login check: the bearer path's.
func (s *Server) verifyKey(key string) (name, actor string, ok bool) {
	if p := s.keyPrincipal(key); p != nil {
		return p.name, p.actor, true
	}
	return "", "", false
}

func principals(cfg Config) []principal {
	var out []principal
	for name, h := range cfg.KeyHashes {
		out = append(out, principal{name: name, role: RoleAdmin, actor: "api:" + name, SHA256: h})
	}
	for _, k := range cfg.Keys {
		role := k.Role
		if roleRank[role] == 0 {
			role = RoleReader
		}
		a := "api:" + k.Name
		if k.Email != "" {
			a = strings.ToLower(k.Email)
		}
		out = append(out, principal{name: k.Name, role: role, actor: a, SHA256: k.SHA256})
	}
	return out
}

// securityHeaders are set on every response: the API serves JSON to
// programs, never pages to frame or content to sniff or cache.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

// limitConcurrency answers 503 instead of queueing once max requests are
// in flight, so a flood cannot pile up goroutines and memory.
func limitConcurrency(max int) echo.MiddlewareFunc {
	sem := make(chan struct{}, max)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				return next(c)
			default:
				c.Response().Header().Set("Retry-After", "1")
				return problem(http.StatusServiceUnavailable, "overloaded", "too many requests in flight; retry shortly")
			}
		}
	}
}

// limiter is a token bucket per key name: rate tokens a second, at most
// burst saved. Keys are configured, so the map is bounded.
type limiter struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

func (l *limiter) allow(key string, now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = min(l.burst, b.tokens+el*l.rate)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// jsonError describes a decode error in the client's terms: JSON types
// and field names, never Go type names.
func jsonError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		want := jsonType(te.Type.Kind().String())
		if te.Field != "" {
			return fmt.Sprintf("field %q: got a JSON %s, want %s", te.Field, te.Value, want)
		}
		return fmt.Sprintf("got a JSON %s, want %s", te.Value, want)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: the body ends early"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return goTypes.ReplaceAllString(msg, "")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") || strings.HasPrefix(kind, "float") {
		return "a number"
	}
	return "another type"
}

// goTypes matches the Go type descriptions encoding/json puts in its
// messages, a safety net for 4xx details written by other packages.
var goTypes = regexp.MustCompile(` into Go (struct field \S+ of type|value of type) \S+`)

// cleanDetail removes Go type names from a client-facing detail.
func cleanDetail(d string) string {
	if !strings.Contains(d, " Go ") {
		return d
	}
	return goTypes.ReplaceAllString(d, "")
}

// allowed lists the methods with a route at the request's path, for a
// 405 instead of a 404 when only the method is wrong.
func (s *Server) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		c := s.e.NewContext(r, nil)
		s.e.Router().Find(m, r.URL.Path, c)
		if p := c.Path(); p != "" && !strings.HasSuffix(p, "/*") {
			out = append(out, m)
		}
	}
	return out
}
