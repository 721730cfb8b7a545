package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/internal/fakeclock"
	"github.com/steward-oss/steward/server"
	"github.com/steward-oss/steward/web"
)

// newServer is the API with the console, one key "analyst" = "k-analyst".
func newServer(t *testing.T, tlsOn bool, o web.Options) (*httptest.Server, *fakeclock.Clock) {
	t.Helper()
	keys := map[string]string{"analyst": config.HashKey("k-analyst")}
	clk := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	o.Now = clk.Now
	con, err := web.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Config{KeyHashes: keys, Web: con}).Handler()
	var ts *httptest.Server
	if tlsOn {
		ts = httptest.NewTLSServer(h)
	} else {
		ts = httptest.NewServer(h)
	}
	t.Cleanup(ts.Close)
	return ts, clk
}

type client struct {
	t    *testing.T
	ts   *httptest.Server
	http *http.Client
}

func newClient(t *testing.T, ts *httptest.Server) *client {
	jar, _ := cookiejar.New(nil)
	hc := *ts.Client() // a copy: each client its own jar
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: t, ts: ts, http: &hc}
}

func (c *client) do(method, path, body string, hdr map[string]string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.ts.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) login(key string) (*http.Response, string) {
	return c.do("POST", "/web/login", `{"key":"`+key+`"}`, map[string]string{"Origin": c.ts.URL})
}

var csrfRe = regexp.MustCompile(`"csrf_token":"([^"]+)"`)

// TestPagesCSP: every page and asset carries the strict CSP, and the
// pages have no inline script, inline style or off-site resource.
func TestPagesCSP(t *testing.T) {
	ts, _ := newServer(t, false, web.Options{})
	c := newClient(t, ts)
	for _, p := range []string{"/web/", "/web/login.html", "/web/app.js", "/web/login.js", "/web/style.css", "/web/vendor/cytoscape.min.js"} {
		resp, body := c.do("GET", p, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != web.CSP {
			t.Errorf("%s: CSP %q", p, got)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, resp.Header)
		}
		if strings.HasSuffix(p, "/") || strings.HasSuffix(p, ".html") {
			for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), regexp.MustCompile(`\sstyle=`), regexp.MustCompile(`<style`), regexp.MustCompile(`\son[a-z]+=`), regexp.MustCompile(`(?:src|href)="(?:https?:)?//`)} {
				if m := bad.FindString(body); m != "" {
					t.Errorf("%s: inline or off-site content %q", p, m)
				}
			}
			for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
				if !strings.Contains(tag, ` src="/web/`) {
					t.Errorf("%s: script without a console src: %s", p, tag)
				}
			}
		}
	}
	resp, _ := c.do("GET", "/", "", nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/web/" {
		t.Errorf("/: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestLoginCookie checks the session cookie's flags over plain HTTP and
// TLS, and the refusals of a bad key or a cross-origin login.
func TestLoginCookie(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    bool
		secure bool
	}{{"http", false, false}, {"tls", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := newServer(t, tc.tls, web.Options{})
			c := newClient(t, ts)
			if resp, _ := c.login("wrong"); resp.StatusCode != 401 || len(resp.Cookies()) != 0 {
				t.Fatalf("wrong key: %d %v", resp.StatusCode, resp.Cookies())
			}
			if resp, _ := c.do("POST", "/web/login", `{"key":"k-analyst"}`, map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != 403 {
				t.Fatalf("cross-origin login: %d", resp.StatusCode)
			}
			if resp, _ := c.do("POST", "/web/login", `{"key":"k-analyst"}`, nil); resp.StatusCode != 403 {
				t.Fatalf("login without Origin: %d", resp.StatusCode)
			}
			resp, body := c.login("k-analyst")
			if resp.StatusCode != 200 {
				t.Fatalf("login: %d %s", resp.StatusCode, body)
			}
			var ck *http.Cookie
			for _, k := range resp.Cookies() {
				if k.Name == web.CookieName {
					ck = k
				}
			}
			if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure != tc.secure || ck.Path != "/" || ck.MaxAge != 8*3600 || len(ck.Value) < 40 {
				t.Fatalf("cookie %+v", ck)
			}
			if strings.Contains(body, "k-analyst") || !strings.Contains(body, `"actor":"api:analyst"`) {
				t.Errorf("login body %s", body)
			}
		})
	}
}

// TestSessionCSRF: the session cookie authenticates API reads; a change
// needs the CSRF token and the console's origin; logout ends it.
func TestSessionCSRF(t *testing.T) {
	ts, _ := newServer(t, false, web.Options{})
	c := newClient(t, ts)
	if resp, _ := c.do("GET", "/web/session", "", nil); resp.StatusCode != 401 {
		t.Fatalf("session before login: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/v1/openapi.json", "", nil); resp.StatusCode != 401 {
		t.Fatalf("API before login: %d", resp.StatusCode)
	}
	_, body := c.login("k-analyst")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token in %s", body)
	}
	tok := m[1]
	if resp, b := c.do("GET", "/v1/openapi.json", "", nil); resp.StatusCode != 200 {
		t.Fatalf("API read with session: %d %s", resp.StatusCode, b)
	}
	chat := `{"message":"admins idle 30 days"}`
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"no token", map[string]string{"Origin": ts.URL}, 403},
		{"wrong token", map[string]string{"Origin": ts.URL, web.CSRFHeader: tok + "x"}, 403},
		{"other origin", map[string]string{"Origin": "https://evil.example", web.CSRFHeader: tok}, 403},
		{"no origin", map[string]string{web.CSRFHeader: tok}, 403},
		// Authenticated: the test server has no agent, so 503 not 401/403.
		{"token and origin", map[string]string{"Origin": ts.URL, web.CSRFHeader: tok}, 503},
	} {
		if resp, b := c.do("POST", "/v1/chat", chat, tc.hdr); resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
	}
	if resp, _ := c.do("POST", "/web/logout", "", map[string]string{"Origin": ts.URL}); resp.StatusCode != 403 {
		t.Fatalf("logout without token: %d", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/web/logout", "", map[string]string{"Origin": ts.URL, web.CSRFHeader: tok}); resp.StatusCode != 204 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/v1/openapi.json", "", nil); resp.StatusCode != 401 {
		t.Fatalf("API after logout: %d", resp.StatusCode)
	}
	// The bearer key path is unchanged.
	if resp, _ := c.do("GET", "/v1/openapi.json", "", map[string]string{"Authorization": "Bearer k-analyst"}); resp.StatusCode != 200 {
		t.Fatalf("bearer: %d", resp.StatusCode)
	}
}

// TestSessionBounds: sessions expire after TTL and the map keeps at most
// MaxSessions (the oldest goes).
func TestSessionBounds(t *testing.T) {
	ts, clk := newServer(t, false, web.Options{TTL: time.Hour, MaxSessions: 2})
	cs := make([]*client, 3)
	for i := range cs {
		cs[i] = newClient(t, ts)
		if resp, _ := cs[i].login("k-analyst"); resp.StatusCode != 200 {
			t.Fatal(resp.StatusCode)
		}
		clk.Advance(time.Minute)
	}
	for i, want := range []int{401, 200, 200} {
		if resp, _ := cs[i].do("GET", "/web/session", "", nil); resp.StatusCode != want {
			t.Errorf("session %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	clk.Advance(time.Hour)
	if resp, _ := cs[2].do("GET", "/web/session", "", nil); resp.StatusCode != 401 {
		t.Errorf("expired session: %d", resp.StatusCode)
	}
}
