package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
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
	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
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

// TestBrowserConsole drives every page of the console in headless
// Chromium against `steward serve --demo`: log in; ask "admins idle 30
// days", sort, page, download, follow up, ask what changed since
// yesterday (the demo's change history as a table), be refused (the old table
// goes); open a row's evidence graph and click a node; open that
// identity's page; the overview; findings filtered with evidence; a
// launched access review's items with evidence; the approvals queue with
// a proposal's dry run, decisions, execution results and rollback; be
// refused approving as the requester and approve as an approver. Then
// keyboard navigation (skip link, focus ring, labels), colour contrast
// (WCAG AA 4.5:1 measured on the rendered pages) and a narrow viewport.
// Any JavaScript exception, console error or browser error log (a CSP
// violation is one) fails it. Screenshots go to $STEWARD_ARTIFACTS.
func TestBrowserConsole(t *testing.T) {
	exe := chromium(t)
	art := artefacts(t)
	campaign, err := os.ReadFile(filepath.Join("testdata", "admins-review.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var syncs [][]*graph.Subgraph
	for _, f := range []string{"sync1.jsonl", "sync2.jsonl"} {
		b, err := os.Open(filepath.Join("..", "findings", "changes", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		sgs, err := graph.ReadJSONL(b, f)
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		syncs = append(syncs, sgs)
	}
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
  - name: admin
    sha256: %s
    role: admin
approvers:
  secops: ["api:approver"]
remediation:
  store: %q
reviews:
  store: %q
`, addr, auditPath, config.HashKey("key-requester"), config.HashKey("key-approver"), config.HashKey("key-admin"), store,
		filepath.Join(dir, "reviews.db"))
	cfgPath := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// The pending proposal targets a real identity of the demo serve
	// generates (same seed and size), so its identity page lists it.
	target := ""
	for _, sg := range demo.Generate(demo.Config{Seed: 1, Size: 2000}) {
		for _, n := range sg.Nodes {
			if target == "" && n.Kind == graph.KindServiceAccount && strings.HasPrefix(n.ID, "aws:") {
				target = n.ID
			}
		}
	}
	if target == "" {
		t.Fatal("the demo has no AWS service account")
	}
	propID, rolledBackID := seedProposals(t, store, auditPath, target)
	seedHistory(t, auditPath, syncs)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--demo", "--seed", "1", "--size", "2000", "--owners", "", "--config", cfgPath}, &bytes.Buffer{}, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d: %s", code, stderr.String())
		}
	}()
	base := "http://" + addr
	waitUp(t, base, done, &stderr)
	reviewID := launchReview(t, base, campaign)

	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	bctx, tcancel := context.WithTimeout(bctx, 4*time.Minute)
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
	eval := func(step, js string) int {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[int](js))
		if err != nil {
			fatal(step, err)
		}
		return v
	}
	poll := func(step, js string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](js)); err != nil {
			fatal(step, err)
		}
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
	setQuestion := func(q string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
				_, err := chromedp.Evaluate[bool](`(document.getElementById("question").value = "") === ""`)(ctx, tg)
				return chromedp.Void{}, err
			}),
			chromedp.SendKeys(chromedp.CSS("#question"), q),
			chromedp.Click(chromedp.CSS("#ask-button")))
	}
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
	rowCount := func(table string) int {
		t.Helper()
		return eval("rows of "+table, `document.querySelectorAll("#`+table+` tbody tr").length`)
	}
	nodeCount := func(step string) int {
		t.Helper()
		poll(step, `window.stewardGraph && window.stewardGraph.nodes().length > 0 && !document.getElementById("evidence").hidden`)
		return eval(step, `window.stewardGraph.nodes().length`)
	}
	// contrast measures every visible text element of the shown page
	// against its effective background (WCAG 2 relative luminance).
	contrast := func(page string) {
		t.Helper()
		bad, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](contrastJS))
		if err != nil {
			fatal("contrast "+page, err)
		}
		for _, b := range bad {
			t.Errorf("contrast on %s below 4.5:1: %s", page, b)
		}
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
	contrast("login")

	// ---- Ask ----
	login("key-requester")
	do("ask", setQuestion("admins idle 30 days"), chromedp.WaitVisible(chromedp.CSS(".evidence-button")))
	who, info, conv := text("#who"), text("#page-info"), text("#conversation")
	rows := rowCount("answer-table")
	shot("1-ask.png")
	if who != "api:requester" || rows == 0 || !strings.Contains(info, "page 1 of") || !strings.Contains(conv, "Conversation ") {
		t.Fatalf("ask: who %q rows %d info %q conv %q", who, rows, info, conv)
	}
	t.Logf("ask: %d rows shown, %q; interpretation %q", rows, info, text("#interpretation"))
	total := eval("answer rows", `JSON.parse(window.stewardDownloads.json()).length`)
	// Sorting: a click on a header sorts and says so in aria-sort; a
	// second click reverses.
	do("sort", chromedp.Click(chromedp.CSS("#answer-table thead th:nth-child(2)")))
	if got, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS("#answer-table thead th:nth-child(2)"), "aria-sort")); err != nil || got.Value != "ascending" {
		t.Errorf("sort: aria-sort %+v %v", got, err)
	}
	asc, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("#answer-table tbody tr td:nth-child(2)").textContent`))
	do("sort down", chromedp.Click(chromedp.CSS("#answer-table thead th:nth-child(2)")))
	desc, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("#answer-table tbody tr td:nth-child(2)").textContent`))
	if got, _ := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS("#answer-table thead th:nth-child(2)"), "aria-sort")); got.Value != "descending" || (total > 1 && asc == desc) {
		t.Errorf("sort down: aria-sort %q, first %q then %q", got.Value, asc, desc)
	}
	// Paging: 25 rows a page; the last page holds the rest.
	pages := (total + 24) / 25
	if pages > 1 {
		do("next page", chromedp.Click(chromedp.CSS("#next-page")))
		if got := text("#page-info"); !strings.HasPrefix(got, fmt.Sprintf("page 2 of %d", pages)) {
			t.Errorf("next page: %q (total %d)", got, total)
		}
		do("prev page", chromedp.Click(chromedp.CSS("#prev-page")))
	}
	// Downloads: every row of every page, in display order, as CSV and JSON.
	csvLines := eval("csv", `window.stewardDownloads.csv().trim().split("\r\n").length`)
	header, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`window.stewardDownloads.csv().split("\r\n")[0]`))
	cols, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#answer-table thead th")).slice(0, -1).map(th => th.textContent).join(",")`))
	if csvLines != total+1 || header != cols || total < rows {
		t.Errorf("downloads: csv %d lines, json %d rows, %d shown; header %q, columns %q", csvLines, total, rows, header, cols)
	}
	t.Logf("ask: %d rows in %d pages; sorted by column 2: %q first, reversed %q first; csv %d lines", total, pages, asc, desc, csvLines)

	// ---- Evidence graph, then the identity of a clicked node ----
	do("evidence", chromedp.Click(chromedp.CSS(".evidence-button")), chromedp.WaitVisible(chromedp.CSS("#graph canvas")))
	nodes := nodeCount("graph")
	xy, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`(() => { document.getElementById("graph").scrollIntoView(); const n = window.stewardGraph.nodes()[0]; const r = document.getElementById("graph").getBoundingClientRect(); const p = n.renderedPosition(); return [r.left + p.x, r.top + p.y]; })()`))
	if err != nil || len(xy) != 2 {
		fatal("node position", err)
	}
	do("click node", chromedp.MouseEvent(chromedp.MouseMoved, xy[0], xy[1]), chromedp.MouseClickXY(xy[0], xy[1]))
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById("props").textContent.includes('"node"')`)); err != nil {
		shot("2-evidence-failed.png")
		fatal("node properties", err)
	}
	props := text("#props")
	edgeButtons := eval("edge list", `document.querySelectorAll("#edge-list li button").length`)
	shot("2-evidence.png")
	if nodes < 2 || !strings.Contains(props, `"node"`) || edgeButtons == 0 {
		t.Errorf("evidence: %d nodes, %d edges listed, props %q", nodes, edgeButtons, props)
	}
	t.Logf("evidence: %d nodes; clicked node: %s", nodes, props)
	// The row's identity page (the id column links to it).
	do("identity",
		chromedp.Click(chromedp.CSS("#answer-table tbody tr .identity-link")),
		chromedp.WaitVisible(chromedp.CSS(`body:not([data-identity=""])[data-identity]`)))
	ident, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.dataset.identity`))
	facts := text("#id-facts")
	owners, creds, grants, usage := rowCount("id-owners"), rowCount("id-creds"), rowCount("id-grants"), eval("usage", `document.querySelectorAll("#id-usage li").length`)
	if !strings.Contains(facts, "Privilegeadmin") || owners == 0 || grants == 0 || usage == 0 || rowCount("id-findings") == 0 || rowCount("id-proposals") == 0 {
		t.Errorf("identity %s: facts %q owners %d creds %d grants %d usage %d", ident, facts, owners, creds, grants, usage)
	}
	do("identity graph", chromedp.Click(chromedp.CSS("#id-graph-button")))
	idNodes := nodeCount("identity graph")
	shot("4-identity.png")
	t.Logf("identity %s: %d owners, %d credentials, %d grants, %d usage entries, %d findings rows, graph of %d nodes; findings: %q",
		ident, owners, creds, grants, usage, rowCount("id-findings"), idNodes, text("#id-findings tbody"))
	contrast("identity")

	// ---- Follow-up and refusal on the Ask page ----
	do("back to ask", chromedp.Click(chromedp.CSS("#nav-ask")), chromedp.WaitVisible(chromedp.CSS("#question")))
	do("follow-up", setQuestion("and which of those are in prod?"))
	poll("follow-up", `document.getElementById("page-info").textContent !== `+jsString(info))
	if got := text("#conversation"); got != conv {
		t.Errorf("follow-up left the conversation: %q then %q", conv, got)
	}
	t.Logf("follow-up: %q", text("#page-info"))
	contrast("ask")
	// A change question: the demo's change history, as a table.
	do("changes", setQuestion("what changed since yesterday"))
	// The previous answer's table is still shown until this one arrives.
	poll("changes", `document.getElementById("interpretation").textContent.includes("changes between syncs")`)
	changeCols, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#answer-table thead th")).map(th => th.textContent).join(",")`))
	if n := rowCount("answer-table"); n != 14 || changeCols != "at,source,type,id,name,detail,Evidence" || !strings.Contains(text("#interpretation"), "since Sat 2026-10-31 00:00 UTC") ||
		!strings.Contains(text("#answer-text"), "14 changes from 1 sync") {
		t.Errorf("changes: %d rows, columns %q, interpretation %q, answer %q", n, changeCols, text("#interpretation"), text("#answer-text"))
	}
	shot("3b-changes.png")
	// A refusal is shown with its reason, and the previous answer goes.
	do("refusal", setQuestion("delete all admins"), chromedp.WaitVisible(chromedp.CSS("#refusal:not(:empty)")))
	if got := text("#refusal"); !strings.HasPrefix(got, "Refused: ") || len(got) < 20 {
		t.Errorf("refusal: %q", got)
	} else {
		t.Logf("refusal: %q", got)
	}
	if n, hidden := rowCount("answer-table"), eval("tools", `getComputedStyle(document.getElementById("answer-tools")).display === "none" ? 1 : 0`); n != 0 || hidden != 1 || text("#interpretation") != "" {
		t.Errorf("refusal left the previous answer: %d rows, tools not displayed %d, interpretation %q", n, hidden, text("#interpretation"))
	}
	shot("3-refusal.png")
	expected++ // the 422

	// ---- Overview ----
	do("overview", chromedp.Click(chromedp.CSS("#nav-overview")), chromedp.WaitVisible(chromedp.CSS(`body[data-overview="loaded"]`)))
	if rowCount("ov-sources") == 0 || rowCount("ov-kinds") == 0 || rowCount("ov-privileges") == 0 || rowCount("ov-owners") == 0 {
		t.Errorf("overview: %q", text("#page-overview"))
	}
	syncText, trendRows := text("#ov-syncs tbody"), rowCount("ov-trend")
	if !strings.Contains(syncText, "aws-prod") || !strings.Contains(syncText, "AccessDenied") || !strings.Contains(syncText, "github-org") || trendRows != 1 {
		t.Errorf("overview history: syncs %q, %d trend rows", syncText, trendRows)
	}
	t.Logf("overview syncs: %q; trend: %q", syncText, text("#ov-trend tbody"))
	shot("5-overview.png")
	t.Logf("overview: %s", text("#ov-totals"))
	contrast("overview")

	// ---- Findings: filter, open evidence ----
	do("findings", chromedp.Click(chromedp.CSS("#nav-findings")), chromedp.WaitVisible(chromedp.CSS("#findings tbody tr")))
	all := rowCount("findings")
	checks := eval("checks", `document.getElementById("f-check").options.length - 1`)
	eval("filter", `(() => { const s = document.getElementById("f-check"); s.value = s.options[1].value; s.dispatchEvent(new Event("change")); return 1; })()`)
	filtered := rowCount("findings")
	picked, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("f-check").value`))
	wrong := eval("filter", `Array.from(document.querySelectorAll("#findings tbody tr td:nth-child(2)")).filter(td => !td.textContent.startsWith(document.getElementById("f-check").value)).length`)
	if all == 0 || checks == 0 || filtered == 0 || filtered > all || wrong != 0 {
		t.Errorf("findings: %d rows, %d checks; filtered by %s: %d rows, %d of another check", all, checks, picked, filtered, wrong)
	}
	do("finding evidence", chromedp.Click(chromedp.CSS("#findings tbody tr .finding-evidence")))
	fNodes := nodeCount("finding graph")
	shot("6-findings.png")
	t.Logf("findings: %d rows over %d checks; %s: %d rows; evidence graph of %d nodes; %s", all, checks, picked, filtered, fNodes, text("#f-count"))
	contrast("findings")

	// ---- Reviews: the launched campaign's items and an item's evidence ----
	do("reviews", chromedp.Click(chromedp.CSS("#nav-reviews")), chromedp.WaitVisible(chromedp.CSS("#reviews .review-open")))
	if got := text("#reviews tbody"); !strings.Contains(got, reviewID) {
		t.Errorf("reviews list lacks %s: %q", reviewID, got)
	}
	do("open review", chromedp.Click(chromedp.CSS("#reviews .review-open")), chromedp.WaitVisible(chromedp.CSS("#review-items tbody tr")))
	items := rowCount("review-items")
	eval("pending only", `(() => { const s = document.getElementById("r-filter"); s.value = "pending"; s.dispatchEvent(new Event("change")); return 1; })()`)
	pending := rowCount("review-items")
	do("review evidence", chromedp.Click(chromedp.CSS("#review-items .review-evidence")))
	rNodes := nodeCount("review graph")
	shot("7-reviews.png")
	if items == 0 || pending != items || rNodes < 2 {
		t.Errorf("review %s: %d items, %d pending, graph %d nodes", reviewID, items, pending, rNodes)
	}
	t.Logf("review %s: %d items (all pending), item graph of %d nodes", reviewID, items, rNodes)
	contrast("reviews")

	// ---- The proposal's target: its identity page lists it as open ----
	do("target identity", chromedp.Navigate(base+"/web/#identity/"+url.PathEscape(target)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-identity=`+jsString(target)+`]`)))
	if got := text("#id-proposals tbody"); !strings.Contains(got, propID) || !strings.Contains(got, "proposed") {
		t.Errorf("identity %s: open proposals %q, want %s", target, got, propID)
	}
	t.Logf("identity %s: open proposals %q", target, text("#id-proposals tbody"))

	// ---- Approvals: details, dry run, results and rollback ----
	do("approvals", chromedp.Click(chromedp.CSS("#nav-approvals")), chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+rolledBackID+`"] .details-button`)))
	do("details", chromedp.Click(chromedp.CSS(`tr[data-id="`+rolledBackID+`"] .details-button`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-proposal="`+rolledBackID+`"]`)))
	journal := text("#proposal-journal tbody")
	preview := text("#preview-status")
	if !strings.Contains(journal, "done") || !strings.Contains(journal, "undo_done") || !strings.Contains(journal, "UpdateAccessKey") ||
		!strings.Contains(text("#proposal-title"), "rolled_back") || !strings.Contains(text("#proposal-decisions"), "api:approver approve") {
		t.Errorf("results: title %q journal %q decisions %q", text("#proposal-title"), journal, text("#proposal-decisions"))
	}
	// serve --demo has no actuators: the dry run shows the server's 503
	// (whose detail the server keeps in its log).
	if preview != "Dry run unavailable: Service Unavailable (unavailable)" {
		t.Errorf("preview: %q", preview)
	}
	expected++ // the 503 of the preview
	shot("8-proposal-results.png")
	t.Logf("proposal %s: %s; journal %q", rolledBackID, preview, journal)
	contrast("approvals")

	// The requester is refused, the approver approves.
	row := `tr[data-id="` + propID + `"]`
	decide := func(who string) string {
		t.Helper()
		do("approve as "+who,
			chromedp.Click(chromedp.CSS("#nav-ask")),
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
	shot("9-requester-refused.png")
	expected++ // the 403

	// ---- Keyboard: skip link first, then into the page; labels ----
	do("keyboard", chromedp.Navigate(base+"/web/#ask"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)), chromedp.KeyEvent("\t"))
	if id, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.activeElement.id`)); id != "skip-link" {
		t.Errorf("first Tab focuses %q, want the skip link", id)
	}
	ring, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + " " + s.outlineWidth + " " + s.outlineColor; })()`))
	if !strings.HasPrefix(ring, "solid 3px") {
		t.Errorf("focused skip link outline %q", ring)
	}
	shot("10-keyboard.png")
	do("skip", chromedp.KeyEvent("\r"), chromedp.KeyEvent("\t"))
	if id, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.activeElement.id`)); id != "question" {
		t.Errorf("after the skip link, Tab focuses %q, want the question box", id)
	}
	// Enter on a focused column header sorts (the headers are in the tab order).
	do("keyboard ask", chromedp.SendKeys(chromedp.CSS("#question"), "admins idle 30 days\r"), chromedp.WaitVisible(chromedp.CSS(".evidence-button")),
		chromedp.Focus(chromedp.CSS("#answer-table thead th:first-child")), chromedp.KeyEvent("\r"))
	if got, _ := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS("#answer-table thead th:first-child"), "aria-sort")); got.Value != "ascending" {
		t.Errorf("Enter on a header: aria-sort %q", got.Value)
	}
	unlabelled, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("input, select, button")).filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim()).map(e => e.outerHTML)`))
	if err != nil || len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v %v", unlabelled, err)
	}

	// ---- Narrow viewport: no page-wide horizontal scroll ----
	do("narrow", chromedp.EmulateViewport(375, 812))
	wide := eval("narrow", `document.documentElement.scrollWidth`)
	shot("11-narrow.png")
	if wide > 376 {
		t.Errorf("at 375px wide the page is %dpx wide", wide)
	}
	do("wide", chromedp.EmulateViewport(1280, 900))

	do("logout", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#key")))
	login("key-approver")
	got := decide("approver")
	poll("approved", `(document.querySelector('`+row+` td:nth-child(2)') || {}).textContent === "approved"`)
	shot("12-approved.png")
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

// contrastJS lists each visible element with its own text whose colour
// on its effective background (the nearest opaque ancestor background)
// is below WCAG AA's 4.5:1.
const contrastJS = `(() => {
  const rgb = (s) => { const m = s.match(/[\d.]+/g) || []; return m.map(Number); };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c; } return [255, 255, 255]; };
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!el.offsetParent && getComputedStyle(el).position !== "fixed") continue;
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest("canvas") || el.closest(".sr-only")) continue;
    const r = el.getBoundingClientRect();
    if (r.bottom < 0 || r.width === 0) continue;
    const fg = rgb(getComputedStyle(el).color), b = bg(el);
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    if (ratio < 4.5) bad.push(el.tagName + "#" + el.id + "." + el.className + " " + ratio.toFixed(2) + ":1 " + getComputedStyle(el).color + " on " + b.join(","));
  }
  return bad;
})()`

// launchReview launches the campaign over the API as the admin key and
// returns the review's id.
func launchReview(t *testing.T, base string, campaign []byte) string {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/v1/reviews", bytes.NewReader(campaign))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer key-admin")
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var in struct {
		ID    string `json:"id"`
		Items []any  `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || resp.StatusCode != http.StatusCreated || in.ID == "" {
		t.Fatalf("launch review: %d %v %+v", resp.StatusCode, err, in)
	}
	t.Logf("review %s launched with %d items", in.ID, len(in.Items))
	return in.ID
}

// seedHistory writes what serve's scheduled syncs leave behind: two
// connector runs in the audit log (one failed), and the change history of
// two syncs (the changes package's fixtures) in ./steward-changes, where
// serve --demo looks for it.
func seedHistory(t *testing.T, auditPath string, syncs [][]*graph.Subgraph) {
	t.Helper()
	ctx := context.Background()
	alog, err := audit.Open(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	defer alog.Close()
	at := time.Now().UTC().Add(-time.Hour)
	for _, r := range []audit.Record{
		{Time: at, Actor: "steward", Action: "sync", Target: "github-org", Where: audit.WhereScheduler, Outcome: "loaded",
			Details: map[string]string{"type": "github", "sources": "github:acme", "nodes": "12", "edges": "30", "duration": "1.2s"}},
		{Time: at, Actor: "steward", Action: "sync", Target: "aws-prod", Where: audit.WhereScheduler, Outcome: "failed",
			Details: map[string]string{"type": "aws", "sources": "", "nodes": "0", "edges": "0", "duration": "300ms",
				"error": "aws: list users: AccessDenied: not authorized to perform iam:ListUsers"}},
	} {
		if _, err := alog.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tr := &changes.Tracker{Dir: "steward-changes"}
	for i, sgs := range syncs {
		if _, err := tr.Record(ctx, graph.Build(sgs), at.Add(time.Duration(i-2)*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
}

// testActuator stands in for a source system: it records the call it
// would make and its undo, so a proposal can be executed and rolled
// back without a cloud account.
type testActuator struct{}

func (testActuator) Execute(_ context.Context, a connectors.Action) (connectors.Step, error) {
	return connectors.Step{Call: "iam.UpdateAccessKey " + a.Target + " Status=Inactive", Undo: map[string]string{"status": "Active"}}, nil
}

func (testActuator) Rollback(context.Context, connectors.Action, connectors.Step) error { return nil }

// isRefusal is Chromium's "Failed to load resource" line for a refusal
// the test provokes on purpose (401 wrong key or no session, 403, 422,
// 503 dry run without actuators).
func isRefusal(e string) bool {
	return strings.Contains(e, "Failed to load resource") &&
		(strings.Contains(e, "401") || strings.Contains(e, "403") || strings.Contains(e, "422") || strings.Contains(e, "503"))
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

// seedProposals opens, in the store serve then opens, one proposal by
// api:requester for the secops group (one approval needed), and a second
// one that api:approver approved, that ran and was rolled back.
func seedProposals(t *testing.T, store, auditPath, target string) (open, rolledBack string) {
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
	defer alog.Close()
	defer st.Close()
	svc, err := approval.NewService(approval.Options{Store: st, Audit: alog,
		Groups: approval.StaticGroups(map[string][]string{"secops": {"api:approver"}})})
	if err != nil {
		t.Fatal(err)
	}
	requester := approval.Actor{ID: "api:requester", Where: audit.WhereHTTP}
	propose := func(target string) *approval.Proposal {
		p, err := svc.Propose(ctx, &approval.Proposal{Justification: "admin idle for 30 days",
			Actions: []connectors.Action{{Type: "disable_credential", Target: target}},
			Rule:    approval.Rule{Required: 1, Group: "secops"}, OnExpiry: approval.ExpiryCancel,
			ExpiresAt: time.Now().Add(24 * time.Hour)}, requester)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := propose(target)
	q := propose("aws:123456789012:user/old-batch")
	approver := approval.Actor{ID: "api:approver", Where: audit.WhereHTTP}
	if _, err := svc.Approve(ctx, q.ID, approver, "owner confirmed it is unused"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Execute(ctx, q.ID, testActuator{}, approver); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Rollback(ctx, q.ID, testActuator{}, approver); err != nil {
		t.Fatal(err)
	}
	return p.ID, q.ID
}
