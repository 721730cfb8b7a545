// Package web is Steward's browser console, served by `steward serve`
// from assets embedded in the binary (no CDN, no inline script or style,
// a strict Content-Security-Policy). A user logs in by pasting an API
// key; the key is checked like the API's bearer key and becomes a
// random, server-side session held in an HttpOnly, SameSite=Strict
// cookie (Secure over TLS). The pages call the ordinary /v1 API with that
// cookie; every state-changing call must carry the session's CSRF token
// in X-CSRF-Token and come from the console's own origin.
package web

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

//go:embed assets
var assets embed.FS

// CSP is the Content-Security-Policy of every console response: scripts
// and styles only from the console's own files, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// CookieName is the session cookie.
const CookieName = "steward_session"

// CSRFHeader carries the session's CSRF token on state changes.
const CSRFHeader = "X-CSRF-Token"

// Options configure a Console.
type Options struct {
	// TTL is a session's lifetime (default 8h); MaxSessions bounds the
	// session map (default 1000; the oldest session goes first).
	TTL         time.Duration
	MaxSessions int
	// SecureCookie marks the cookie Secure even without TLS on this
	// listener (TLS ends at a proxy in front).
	SecureCookie bool
	Now          func() time.Time
	Logger       *slog.Logger
}

type session struct {
	key     string // the API key's name (its principal in the server)
	actor   string
	csrf    string
	created time.Time
	expires time.Time
}

// Console is the web console: its routes and its sessions.
type Console struct {
	o        Options
	verify   func(key string) (name, actor string, ok bool)
	mu       sync.Mutex
	sessions map[string]*session
}

// New returns a console; the server hands it its key check in Routes.
func New(o Options) (*Console, error) {
	if o.TTL <= 0 {
		o.TTL = 8 * time.Hour
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Console{o: o, sessions: map[string]*session{}}, nil
}

// Routes adds the console's routes to the root router: the pages and
// assets (public code, no data), login, logout and the session endpoint.
// verify is the server's key check. Its signature is server.WebConsole's.
func (c *Console) Routes(root *echo.Echo, verify func(key string) (name, actor string, ok bool)) {
	c.verify = verify
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	static := http.StripPrefix("/web/", http.FileServer(http.FS(sub)))
	g := root.Group("/web", headers)
	root.GET("/", func(ec echo.Context) error { return ec.Redirect(http.StatusFound, "/web/") })
	g.GET("/*", echo.WrapHandler(static))
	g.POST("/login", c.login)
	g.POST("/logout", c.logout)
	g.GET("/session", c.session)
}

// headers sets the console's security headers on every response.
func headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		h := ec.Response().Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		return next(ec)
	}
}

// problem is an RFC 9457 body like the API's.
func problem(ec echo.Context, status int, detail string) error {
	ec.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	ec.Response().WriteHeader(status)
	return json.NewEncoder(ec.Response()).Encode(map[string]any{"status": status, "title": http.StatusText(status), "detail": detail})
}

// sameOrigin says r's Origin is this server's own: a state change from
// another site (or without an Origin) is refused.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return o == scheme+"://"+r.Host
}

func token() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// LoginRequest is POST /web/login.
type LoginRequest struct {
	Key string `json:"key"`
}

// SessionInfo is GET /web/session and the login's reply.
type SessionInfo struct {
	Actor     string    `json:"actor"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (c *Console) login(ec echo.Context) error {
	r := ec.Request()
	if !sameOrigin(r) {
		return problem(ec, http.StatusForbidden, "login must come from the console's own origin")
	}
	var req LoginRequest
	if err := json.NewDecoder(http.MaxBytesReader(ec.Response(), r.Body, 4096)).Decode(&req); err != nil {
		return problem(ec, http.StatusBadRequest, "body: want {\"key\": \"<API key>\"}")
	}
	name, actor, ok := c.verify(strings.TrimSpace(req.Key))
	if !ok {
		c.o.Logger.Info("web login refused", "remote", r.RemoteAddr)
		return problem(ec, http.StatusUnauthorized, "unknown API key")
	}
	now := c.o.Now()
	s := &session{key: name, actor: actor, csrf: token(), created: now, expires: now.Add(c.o.TTL)}
	id := token()
	c.mu.Lock()
	c.evictLocked(now)
	c.sessions[id] = s
	c.mu.Unlock()
	// MaxAge, not Expires: the browser's clock need not match ours.
	http.SetCookie(ec.Response(), &http.Cookie{Name: CookieName, Value: id, Path: "/", MaxAge: int(c.o.TTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil || c.o.SecureCookie, SameSite: http.SameSiteStrictMode})
	c.o.Logger.Info("web login", "actor", actor)
	return ec.JSON(http.StatusOK, SessionInfo{Actor: s.actor, CSRFToken: s.csrf, ExpiresAt: s.expires})
}

// evictLocked drops expired sessions and, at the bound, the oldest.
func (c *Console) evictLocked(now time.Time) {
	for id, s := range c.sessions {
		if !now.Before(s.expires) {
			delete(c.sessions, id)
		}
	}
	for len(c.sessions) >= c.o.MaxSessions {
		oldest := ""
		for id, s := range c.sessions {
			if oldest == "" || s.created.Before(c.sessions[oldest].created) {
				oldest = id
			}
		}
		delete(c.sessions, oldest)
	}
}

// lookup returns r's live session and its id.
func (c *Console) lookup(r *http.Request) (string, *session) {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return "", nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[ck.Value]
	if s == nil {
		return "", nil
	}
	if !c.o.Now().Before(s.expires) {
		delete(c.sessions, ck.Value)
		return "", nil
	}
	return ck.Value, s
}

// checkChange refuses a state change without the session's CSRF token or
// from another origin.
func checkChange(r *http.Request, s *session) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if !sameOrigin(r) {
		return errors.New("web session: a change must come from the console's own origin")
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
		return errors.New("web session: missing or wrong " + CSRFHeader)
	}
	return nil
}

// SessionKey is server.WebConsole's session check: the key name.
func (c *Console) SessionKey(r *http.Request) (string, bool, error) {
	_, s := c.lookup(r)
	if s == nil {
		return "", false, nil
	}
	if err := checkChange(r, s); err != nil {
		return "", false, err
	}
	return s.key, true, nil
}

func (c *Console) session(ec echo.Context) error {
	_, s := c.lookup(ec.Request())
	if s == nil {
		return problem(ec, http.StatusUnauthorized, "no session: log in with an API key")
	}
	return ec.JSON(http.StatusOK, SessionInfo{Actor: s.actor, CSRFToken: s.csrf, ExpiresAt: s.expires})
}

func (c *Console) logout(ec echo.Context) error {
	r := ec.Request()
	id, s := c.lookup(r)
	if s == nil {
		return problem(ec, http.StatusUnauthorized, "no session")
	}
	if err := checkChange(r, s); err != nil {
		return problem(ec, http.StatusForbidden, err.Error())
	}
	c.mu.Lock()
	delete(c.sessions, id)
	c.mu.Unlock()
	http.SetCookie(ec.Response(), &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil || c.o.SecureCookie, SameSite: http.SameSiteStrictMode})
	return ec.NoContent(http.StatusNoContent)
}
