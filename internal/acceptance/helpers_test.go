package acceptance

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/steward-oss/steward/cli"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/pgtest"
	"github.com/steward-oss/steward/query"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// now is the fixed reference time of every question: the fixtures' dates
// (Entra secrets ending 2026-12-10, AWS keys used 2026-11-23, ...) are
// written around it.
const now = "2026-11-24T12:00:00Z"

// env is one graph store plus the owner-corrections file next to it.
type env struct {
	t      *testing.T
	dir    string
	db     string
	owners string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	return &env{t: t, dir: dir, db: filepath.Join(dir, "steward.db"), owners: filepath.Join(dir, "owners.json")}
}

// with returns e bound to the (sub)test t, so failures stop the right
// goroutine.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// run runs the CLI in-process.
func (e *env) run(args ...string) (int, string, string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// must runs the CLI and fails the test on a non-zero exit.
func (e *env) must(args ...string) string {
	e.t.Helper()
	code, out, errs := e.run(args...)
	if code != cli.ExitOK {
		e.t.Fatalf("steward %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

// load runs `steward load NAME args... --graph DB`.
func (e *env) load(name string, args ...string) {
	e.t.Helper()
	e.must(append(append([]string{"load", name}, args...), "--graph", e.db)...)
}

func (e *env) readFlags() []string {
	return []string{"--graph", e.db, "--owners", e.owners, "--now", now, "--format", "json"}
}

// ask asks question through the offline planner; ok is false when the
// planner refused it (exit 1).
func (e *env) ask(question string) (cli.Answer, bool) {
	e.t.Helper()
	code, out, errs := e.run(append(append([]string{"ask"}, e.readFlags()...), question)...)
	if code != cli.ExitOK {
		e.t.Logf("ask %q: exit %d: %s", question, code, firstLine(errs))
		return cli.Answer{}, false
	}
	return decodeAnswer(e.t, out), true
}

// mustAsk asks question and fails the test when the planner refuses it.
func (e *env) mustAsk(question string) cli.Answer {
	e.t.Helper()
	a, ok := e.ask(question)
	if !ok {
		e.t.Fatalf("the planner refused %q", question)
	}
	return a
}

// query runs the plan file testdata/plans/NAME.
func (e *env) query(name string) cli.Answer {
	e.t.Helper()
	return decodeAnswer(e.t, e.must(append([]string{"query", "--plan", filepath.Join("testdata", "plans", name)}, e.readFlags()...)...))
}

func (e *env) export() string {
	e.t.Helper()
	return e.must("export", "--graph", e.db, "--owners", e.owners)
}

func decodeAnswer(t *testing.T, out string) cli.Answer {
	t.Helper()
	var a cli.Answer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("decode answer: %v\n%s", err, out)
	}
	if len(a.Evidence) != len(a.Rows) {
		t.Fatalf("answer has %d rows but %d evidence lists", len(a.Rows), len(a.Evidence))
	}
	if a.Total != len(a.Rows) {
		t.Fatalf("answer truncated: %d of %d rows", len(a.Rows), a.Total)
	}
	return a
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// col returns the index of column name.
func col(t *testing.T, a cli.Answer, name string) int {
	t.Helper()
	i := slices.Index(a.Columns, name)
	if i < 0 {
		t.Fatalf("no column %q in %v", name, a.Columns)
	}
	return i
}

// cell returns row r's value of column name as a string.
func cell(t *testing.T, a cli.Answer, r int, name string) string {
	t.Helper()
	s, _ := a.Rows[r][col(t, a, name)].(string)
	return s
}

// ids returns the sorted id column.
func ids(t *testing.T, a cli.Answer) []string {
	t.Helper()
	var out []string
	for r := range a.Rows {
		out = append(out, cell(t, a, r, "id"))
	}
	sort.Strings(out)
	return out
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	got = append([]string(nil), got...)
	want = append([]string(nil), want...)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		var missing, extra []string
		for _, w := range want {
			if !slices.Contains(got, w) {
				missing = append(missing, w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				extra = append(extra, g)
			}
		}
		t.Errorf("%s:\n  missing %q\n  unexpected %q", what, missing, extra)
	}
}

// exported is a parsed `steward export`.
type exported struct {
	nodes map[string]graph.Line
	edges map[string]bool // edgeKey
}

func parseExport(t *testing.T, s string) exported {
	t.Helper()
	x := exported{nodes: map[string]graph.Line{}, edges: map[string]bool{}}
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		var line graph.Line
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("export line %q: %v", l, err)
		}
		switch line.Type {
		case "node":
			x.nodes[line.ID] = line
		case "edge":
			x.edges[edgeKey(line.From, line.To, line.Kind, line.Props)] = true
		}
	}
	return x
}

func edgeKey(from, to, kind string, props map[string]any) string {
	b, _ := json.Marshal(props)
	return from + "|" + to + "|" + kind + "|" + string(b)
}

// checkEvidenceExported fails when an evidence edge is not in the graph:
// evidence must be facts a source wrote (or, for owns edges, the ownership
// step derived from HR people), never something the query made up.
func checkEvidenceExported(t *testing.T, a cli.Answer, x exported) {
	t.Helper()
	for r, ev := range a.Evidence {
		for _, e := range ev {
			if e.Kind == graph.EdgeOwns {
				// Owners are derived on every index build and not
				// exported; the owner must be a person of the HR roster.
				if h, ok := x.nodes[e.From]; !ok || h.Kind != string(graph.KindHuman) || h.Source != "hr" {
					t.Errorf("row %s: owner %s is not an HR person", cell(t, a, r, "id"), e.From)
				}
				if _, ok := x.nodes[e.To]; !ok {
					t.Errorf("row %s: owns edge to unknown node %s", cell(t, a, r, "id"), e.To)
				}
				continue
			}
			if !x.edges[edgeKey(e.From, e.To, string(e.Kind), e.Props)] {
				t.Errorf("row %s: evidence edge %s -%s-> %s is not in the export", cell(t, a, r, "id"), e.From, e.Kind, e.To)
			}
		}
	}
}

// grantPath checks that row r's evidence leads from its identity to an
// allow grant of at least priv: through groups and roles it belongs to or
// can assume, the policies attached to any of them, and for a credential
// the identity holding it. It returns the nodes passed on the way.
func grantPath(t *testing.T, a cli.Answer, r int, priv graph.Privilege) map[string]bool {
	t.Helper()
	id := cell(t, a, r, "id")
	reach := map[string]bool{id: true}
	ev := a.Evidence[r]
	for changed := true; changed; {
		changed = false
		for _, e := range ev {
			from, to := e.From, e.To
			switch e.Kind {
			case graph.EdgeMemberOf, graph.EdgeCanAssume:
			case graph.EdgeAttachedTo:
				from, to = to, from // a policy or binding attached to the principal
			case graph.EdgeHasCredential:
				from, to = to, from // the credential acts as its holder
			default:
				continue
			}
			if reach[from] && !reach[to] {
				reach[to], changed = true, true
			}
		}
	}
	for _, e := range ev {
		if e.Kind != graph.EdgeGrants || !reach[e.From] {
			continue
		}
		p, _ := e.Props["privilege"].(string)
		if eff, _ := e.Props["effect"].(string); eff != graph.EffectDeny && graph.Privilege(p).Rank() >= priv.Rank() {
			return reach
		}
	}
	t.Errorf("row %s: evidence %s does not lead to a %s grant", id, evString(ev), priv)
	return reach
}

// ownsEdge returns the owns edge of row r's evidence that names its owner
// (directly, or of the identity holding a credential), checking it carries
// a reason and a confidence.
func ownsEdge(t *testing.T, a cli.Answer, r int) query.EdgeRef {
	t.Helper()
	id := cell(t, a, r, "id")
	targets := map[string]bool{id: true}
	for _, e := range a.Evidence[r] {
		if e.Kind == graph.EdgeHasCredential && e.To == id {
			targets[e.From] = true
		}
	}
	for _, e := range a.Evidence[r] {
		if e.Kind != graph.EdgeOwns || !targets[e.To] {
			continue
		}
		attrs, _ := e.Props["attrs"].(map[string]any)
		if s, _ := attrs["reason"].(string); s == "" {
			t.Errorf("row %s: owns edge from %s has no reason: %v", id, e.From, e.Props)
		}
		if s, _ := attrs["confidence"].(string); s == "" {
			t.Errorf("row %s: owns edge from %s has no confidence: %v", id, e.From, e.Props)
		}
		return e
	}
	t.Errorf("row %s: no owns edge in evidence %s", id, evString(a.Evidence[r]))
	return query.EdgeRef{}
}

func evString(ev []query.EdgeRef) string {
	var b strings.Builder
	for _, e := range ev {
		b.WriteString("\n    " + e.From + " -" + string(e.Kind) + "-> " + e.To)
	}
	return b.String()
}

// fixture is a path under testdata/world.
func fixture(parts ...string) string {
	return filepath.Join(append([]string{"testdata", "world"}, parts...)...)
}

// loadWorld loads every file-based fixture of the acceptance world into
// e's graph, each through its connector's real export format.
func loadWorld(e *env) {
	e.t.Helper()
	e.load("hr", "--from", fixture("hr", "roster.csv"))
	e.load("aws", "--authorization-details", fixture("aws", "authz-details.json"), "--credential-report", fixture("aws", "credential-report.csv"))
	e.load("k8s", "--from", fixture("k8s"), "--cluster", "prod", "--audit-log", fixture("k8s-audit.log"))
	e.load("gcp", "--from", fixture("gcp"))
	e.load("entra", "--tenant", "contoso", "--from", fixture("entra"))
	e.load("github", "--org", "octokit-fixture-org", "--from", fixture("github"))
	e.load("ldap", "--from", fixture("ldap", "ad-export.ldif"))
	e.load("gitleaks", "--from", fixture("secretscan", "gitleaks-report.json"), "--repo", "https://github.com/octokit-fixture-org/deploy-infra")
}
