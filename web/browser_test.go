package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/cli"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
)

// chromium finds the Debian package's browser. Under CI=true a missing
// browser fails the test (.ci/test.sh installs it); elsewhere it skips.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH: apt-get install -y chromium")
	}
	t.Skip("no chromium on PATH (apt-get install -y chromium)")
	return ""
}

// artefacts is where screenshots go: $STEWARD_ARTIFACTS, else a temp dir.
func artefacts(t *testing.T) string {
	dir := os.Getenv("STEWARD_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserConsole drives the console in headless Chromium against
// `steward serve --demo`: log in, ask "admins idle 30 days", a follow-up,
// open a row's evidence graph and click a node, be refused approving as
// the requester, approve as an approver. Any JavaScript exception,
// console error or browser error log (a CSP violation is one) fails it.
func TestBrowserConsole(t *testing.T) {
	exe := chromium(t)
	art := artefacts(t)
	dir := t.TempDir()
	t.Chdir(dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	store := filepath.Join(dir, "approvals.db")
	auditPath := filepath.Join(dir, "audit.log")
	cfg := fmt.Sprintf(`listen: %q
audit_log: %q
api_keys:
  - name: requester
    sha256: %s
    role: approver
  - name: approver
    sha256: %s
    role: approver
approvers:
  secops: ["api:approver"]
remediation:
  store: %q
`, addr, auditPath, config.HashKey("key-requester"), config.HashKey("key-approver"), store)
	cfgPath := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	propID := seedProposal(t, store, auditPath)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--demo", "--owners", "", "--config", cfgPath}, &bytes.Buffer{}, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d: %s", code, stderr.String())
		}
	}()
	base := "http://" + addr
	waitUp(t, base, done, &stderr)

	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	bctx, tcancel := context.WithTimeout(bctx, 3*time.Minute)
	defer tcancel()

	// The tab exists once something ran; then every console message,
	// exception and browser log entry is collected.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var mu sync.Mutex
	var jsErrors []string
	expected := 0 // refusals the test provokes: their failed-resource log lines
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				jsErrors = append(jsErrors, m.String()+" "+m.URL)
				mu.Unlock()
			}
		}
	}()
	fatal := func(step string, err error) {
		t.Helper()
		t.Fatalf("%s: %v\nserver: %s", step, err, tail(stderr.String()))
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			fatal(step, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS(sel)))
		if err != nil {
			fatal("text "+sel, err)
		}
		return strings.TrimSpace(v)
	}
	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			fatal("screenshot", err)
		}
		if err := os.WriteFile(filepath.Join(art, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	clearQuestion := chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`(document.getElementById("question").value = "") === ""`)(ctx, tg)
		return chromedp.Void{}, err
	})
	login := func(key string) {
		t.Helper()
		do("login "+key,
			chromedp.Navigate(base+"/web/login.html"),
			chromedp.WaitVisible(chromedp.CSS("#key")),
			chromedp.SendKeys(chromedp.CSS("#key"), key),
			chromedp.Click(chromedp.CSS("#login-button")),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		)
	}

	// Without a session the console sends the browser to the login page;
	// a wrong key is refused there.
	do("wrong key",
		chromedp.Navigate(base+"/web/"),
		chromedp.WaitVisible(chromedp.CSS("#key")),
		chromedp.SendKeys(chromedp.CSS("#key"), "not-a-key"),
		chromedp.Click(chromedp.CSS("#login-button")),
		chromedp.WaitVisible(chromedp.CSS("#login-error:not(:empty)")),
	)
	if got := text("#login-error"); !strings.Contains(got, "unknown API key") {
		t.Errorf("wrong key: %q", got)
	}
	expected += 2 // the /web/session 401 and the login 401

	login("key-requester")
	do("ask",
		chromedp.SendKeys(chromedp.CSS("#question"), "admins idle 30 days"),
		chromedp.Click(chromedp.CSS("#ask-button")),
		chromedp.WaitVisible(chromedp.CSS(".evidence-button")),
	)
	who, info, conv := text("#who"), text("#page-info"), text("#conversation")
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#answer-table tbody tr").length`))
	if err != nil {
		fatal("rows", err)
	}
	shot("1-ask.png")
	if who != "api:requester" || rows == 0 || !strings.Contains(info, "page 1 of") || !strings.Contains(conv, "Conversation ") {
		t.Fatalf("ask: who %q rows %d info %q conv %q", who, rows, info, conv)
	}
	t.Logf("ask: %d rows shown, %q; interpretation %q", rows, info, text("#interpretation"))
	// Sorting: a click on a header sorts and says so in aria-sort.
	do("sort", chromedp.Click(chromedp.CSS("#answer-table thead th:first-child")))
	if got, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS("#answer-table thead th:first-child"), "aria-sort")); err != nil || got.Value != "ascending" {
		t.Errorf("sort: aria-sort %+v %v", got, err)
	}
	// A follow-up in the same conversation narrows the answer.
	do("follow-up",
		clearQuestion,
		chromedp.SendKeys(chromedp.CSS("#question"), "and which of those are in prod?"),
		chromedp.Click(chromedp.CSS("#ask-button")),
	)
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById("page-info").textContent !== `+jsString(info))); err != nil {
		fatal("follow-up", err)
	}
	if got := text("#conversation"); got != conv {
		t.Errorf("follow-up left the conversation: %q then %q", conv, got)
	}
	t.Logf("follow-up: %q", text("#page-info"))
	// A refusal is shown with its reason.
	do("refusal",
		clearQuestion,
		chromedp.SendKeys(chromedp.CSS("#question"), "delete all admins"),
		chromedp.Click(chromedp.CSS("#ask-button")),
		chromedp.WaitVisible(chromedp.CSS("#refusal:not(:empty)")),
	)
	if got := text("#refusal"); !strings.HasPrefix(got, "Refused: ") || len(got) < 20 {
		t.Errorf("refusal: %q", got)
	} else {
		t.Logf("refusal: %q", got)
	}
	expected++ // the 422

	// The evidence graph of the first row; a real click on a node shows
	// its properties.
	do("evidence",
		chromedp.Click(chromedp.CSS(".evidence-button")),
		chromedp.WaitVisible(chromedp.CSS("#graph canvas")),
	)
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`window.stewardGraph && window.stewardGraph.nodes().length > 0`)); err != nil {
		fatal("graph", err)
	}
	nodes, err := chromedp.Run(bctx, chromedp.Evaluate[int](`window.stewardGraph.nodes().length`))
	if err != nil {
		fatal("nodes", err)
	}
	xy, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`(() => { document.getElementById("graph").scrollIntoView(); const n = window.stewardGraph.nodes()[0]; const r = document.getElementById("graph").getBoundingClientRect(); const p = n.renderedPosition(); return [r.left + p.x, r.top + p.y]; })()`))
	if err != nil || len(xy) != 2 {
		fatal("node position", err)
	}
	hit, _ := chromedp.Run(bctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const e = document.elementFromPoint(%f, %f); return e ? e.tagName + " " + e.parentElement.id + " scrollY=" + window.scrollY + " h=" + window.innerHeight : "none"; })()`, xy[0], xy[1])))
	t.Logf("clicking node at %v: %s", xy, hit)
	do("click node", chromedp.MouseEvent(chromedp.MouseMoved, xy[0], xy[1]), chromedp.MouseClickXY(xy[0], xy[1]))
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById("props").textContent.includes('"node"')`)); err != nil {
		shot("2-evidence-failed.png")
		fatal("node properties", err)
	}
	props := text("#props")
	shot("2-evidence.png")
	if nodes < 2 || !strings.Contains(props, `"node"`) {
		t.Errorf("evidence: %d nodes, props %q", nodes, props)
	}
	t.Logf("evidence: %d nodes; clicked node: %s", nodes, props)

	// Approvals: the requester is refused, the approver approves.
	row := `tr[data-id="` + propID + `"]`
	decide := func(who string) string {
		t.Helper()
		do("approve as "+who,
			chromedp.Click(chromedp.CSS("#nav-approvals")),
			chromedp.WaitVisible(chromedp.CSS(row+" .approve-button")),
			chromedp.SendKeys(chromedp.CSS("#reason"), "idle admin, owner agreed"),
			chromedp.Click(chromedp.CSS(row+" .approve-button")),
			chromedp.WaitVisible(chromedp.CSS("#decision-result:not(:empty)")),
		)
		return text("#decision-result")
	}
	if got := decide("requester"); !strings.Contains(got, "Refused:") || !strings.Contains(got, "requester cannot approve") {
		t.Errorf("requester's approval: %q", got)
	} else {
		t.Logf("requester: %q", got)
	}
	shot("3-refused.png")
	expected++ // the 403
	do("logout", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#key")))
	login("key-approver")
	got := decide("approver")
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`(document.querySelector('`+row+` td:nth-child(2)') || {}).textContent === "approved"`)); err != nil {
		t.Errorf("approver: %q; state not approved: %v", got, err)
	}
	shot("4-approved.png")
	if !strings.Contains(got, "approve recorded") {
		t.Errorf("approver: %q", got)
	}
	t.Logf("approver: %q", got)
	// Let the console goroutine drain what the page wrote.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`true`)); err != nil {
		fatal("drain", err)
	}
	mu.Lock()
	defer mu.Unlock()
	var unexpected []string
	refusals := 0
	for _, e := range jsErrors {
		if isRefusal(e) {
			refusals++
			continue
		}
		unexpected = append(unexpected, e)
	}
	if len(unexpected) > 0 || refusals > expected {
		t.Errorf("JavaScript errors (%d refusals logged, %d expected):\n%s", refusals, expected, strings.Join(jsErrors, "\n"))
	}
	t.Logf("screenshots in %s", art)
}

// isRefusal is Chromium's "Failed to load resource" line for a refusal
// the test provokes on purpose (401 wrong key or no session, 403, 422).
func isRefusal(e string) bool {
	return strings.Contains(e, "Failed to load resource") &&
		(strings.Contains(e, "401") || strings.Contains(e, "403") || strings.Contains(e, "422"))
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

func waitUp(t *testing.T, base string, done chan int, stderr *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
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
}

// seedProposal opens one proposal by api:requester for the secops group
// (one approval needed) in the store serve then opens.
func seedProposal(t *testing.T, store, auditPath string) string {
	t.Helper()
	ctx := context.Background()
	st, err := approval.OpenStore(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.Open(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := approval.NewService(approval.Options{Store: st, Audit: alog,
		Groups: approval.StaticGroups(map[string][]string{"secops": {"api:approver"}})})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Propose(ctx, &approval.Proposal{Justification: "admin idle for 30 days",
		Actions: []connectors.Action{{Type: "disable_credential", Target: "aws:123456789012:user/ci-deploy"}},
		Rule:    approval.Rule{Required: 1, Group: "secops"}, OnExpiry: approval.ExpiryCancel,
		ExpiresAt: time.Now().Add(24 * time.Hour)}, approval.Actor{ID: "api:requester", Where: audit.WhereHTTP})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	alog.Close()
	return p.ID
}
