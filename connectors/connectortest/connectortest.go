// Package connectortest is the suite every connector runs: reading twice
// gives the same graph, the output is a valid subgraph, bad input is an
// error that names the place, and no secret reaches the output.
package connectortest

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// Read runs r once, fails the test on error, and returns the normalized
// subgraphs.
func Read(t testing.TB, r connectors.Reader) []*graph.Subgraph {
	t.Helper()
	sgs, err := r.Read(context.Background())
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	for _, sg := range sgs {
		sg.Normalize()
	}
	return sgs
}

// Suite checks the contract every connector keeps. newReader must return a
// fresh reader over the same input each call. secrets are values present in
// the input that must never appear in the output (passwords, key secrets,
// tokens); pass the real ones from the fixture. Whatever the list, the
// output must hold no credential by its form (CredentialShape).
func Suite(t *testing.T, newReader func() connectors.Reader, secrets []string) []*graph.Subgraph {
	t.Helper()
	first := Read(t, newReader())
	if len(first) == 0 {
		t.Fatal("reader returned no subgraph")
	}
	nodes := 0
	for _, sg := range first {
		if err := sg.Validate(); err != nil {
			t.Fatalf("invalid subgraph: %v", err)
		}
		nodes += len(sg.Nodes)
	}
	if nodes == 0 {
		t.Fatal("reader returned no nodes")
	}
	second := Read(t, newReader())
	if !reflect.DeepEqual(first, second) {
		t.Fatal("reading the same input twice gave different graphs")
	}
	out, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(string(out), s) {
			t.Fatalf("a secret value from the input (%d chars) reached the output", len(s))
		}
	}
	if shape := CredentialShape(string(out)); shape != "" {
		t.Fatalf("the output holds %s; a connector keeps masked ids and fingerprints, never the credential", shape)
	}
	return first
}

// credentialShapes are the credentials a connector may read but must
// never copy into the graph, recognised by form whatever the fixture.
var credentialShapes = []struct {
	name string
	re   *regexp.Regexp
}{
	{"a full AWS access key id", regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
	{"a GitHub token", regexp.MustCompile(`\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{40,}`)},
	{"a Slack token", regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`)},
	{"a JSON web token", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.`)},
}

// CredentialShape names the first credential form found in text, or
// returns "".
func CredentialShape(text string) string {
	for _, c := range credentialShapes {
		if c.re.MatchString(text) {
			return c.name
		}
	}
	return ""
}

// Bad checks that r fails, returning nothing to write, and that the
// error mentions every one of want (the file, the JSON path or CSV line,
// the field).
func Bad(t *testing.T, r connectors.Reader, want ...string) {
	t.Helper()
	sgs, err := r.Read(context.Background())
	if err == nil {
		t.Fatalf("read succeeded on bad input (%d subgraphs), want error", len(sgs))
	}
	if len(sgs) != 0 {
		t.Errorf("a failed read returned %d subgraphs; bad input must hand nothing on to be written", len(sgs))
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// Find returns the node with id across sgs, failing the test if absent.
func Find(t testing.TB, sgs []*graph.Subgraph, id string) graph.Node {
	t.Helper()
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			if n.ID == id {
				return n
			}
		}
	}
	t.Fatalf("node %q not found", id)
	return graph.Node{}
}

// Edges returns the edges of kind from -> to across sgs.
func Edges(sgs []*graph.Subgraph, kind graph.EdgeKind, from, to string) []graph.Edge {
	var out []graph.Edge
	for _, sg := range sgs {
		for _, e := range sg.Edges {
			if e.Kind == kind && (from == "" || e.From == from) && (to == "" || e.To == to) {
				out = append(out, e)
			}
		}
	}
	return out
}

// ActionEdges returns the edges of kind from -> to across sgs whose
// action is action.
func ActionEdges(sgs []*graph.Subgraph, kind graph.EdgeKind, from, to, action string) []graph.Edge {
	var out []graph.Edge
	for _, e := range Edges(sgs, kind, from, to) {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// CopyDir copies the tree of regular files under src into a new
// temporary directory and returns it, so a test can add or break one file
// of a real export without touching testdata.
func CopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// Corrupt rewrites file path replacing the first occurrence of old with
// repl, failing the test when old is not there, and returns the byte offset
// where repl starts.
func Corrupt(t testing.TB, path, old, repl string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), old)
	if i < 0 {
		t.Fatalf("%s: %q not found", path, old)
	}
	out := string(b[:i]) + repl + string(b[i+len(old):])
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return i
}

// BadDirEntries checks that a directory reader names, in its error, every
// entry it cannot use instead of skipping it: a dangling link, a
// directory named like an export, and a file of an unknown kind, each
// added to a copy of src. open returns the connector's reader for a
// directory.
func BadDirEntries(t *testing.T, src string, open func(t *testing.T, dir string) connectors.Reader) {
	t.Helper()
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string
	}{
		{"dangling link", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "zz-gone.json")
			if err := os.Symlink(filepath.Join(dir, "nowhere.json"), p); err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"directory named like an export", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "zz-more.json")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"unrecognised file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "zz-export.json.bak")
			if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := CopyDir(t, src)
			p := tc.setup(t, dir)
			Bad(t, open(t, dir), p)
		})
	}
}

// Rating is a node and the privilege the index must derive for it; the
// expected level comes from the source's documentation, not from the
// classifier.
type Rating struct {
	Name string // what the node holds (a role, a permission), for the subtest
	ID   string
	Want graph.Privilege
}

// Ratings builds the index of sgs, as a load does, and checks each
// node's derived privilege.
func Ratings(t *testing.T, sgs []*graph.Subgraph, cases []Rating) {
	t.Helper()
	ix := graph.Build(sgs)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			i, ok := ix.Lookup(c.ID)
			if !ok {
				t.Fatalf("no node %s", c.ID)
			}
			if got, _ := ix.Privilege(i); got != c.Want {
				t.Errorf("%s holding %s: privilege %q, want %q", c.ID, c.Name, got, c.Want)
			}
		})
	}
}

// EveryGrantRated fails when a grants edge leaves privilege to the
// graph's generic classification (the connector knows its source
// better), or when there is no grants edge at all.
func EveryGrantRated(t testing.TB, sgs []*graph.Subgraph) {
	t.Helper()
	n := 0
	for _, sg := range sgs {
		for _, e := range sg.Edges {
			if e.Kind != graph.EdgeGrants {
				continue
			}
			n++
			if e.Privilege == "" {
				t.Errorf("grants edge %s -[%s %s]-> %s has no privilege", e.From, e.Action, e.Resource, e.To)
			}
		}
	}
	if n == 0 {
		t.Error("no grants edges")
	}
}

// HasAttrs fails t for each key of want that got (a node's or an edge's
// Attrs) does not hold with the same value; other keys of got may be there.
func HasAttrs(t testing.TB, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attrs[%s] = %q, want %q", k, got[k], v)
		}
	}
}

// Refuses checks, in subtest name, that building connector typ from opts
// fails with an error that mentions want.
func Refuses(t *testing.T, name, typ string, opts connectors.Options, env connectors.Env, want string) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		_, err := connectors.New(typ, opts, env)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to mention %q", err, want)
		}
	})
}

// WriteTemp writes content to a file name in a new temporary directory
// (a token or password file, a broken export) and returns its path.
func WriteTemp(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// SameGraphs fails t, showing both as JSON, unless a live read and a read
// of the recorded export of the same source gave the same subgraphs.
func SameGraphs(t testing.TB, live, files []*graph.Subgraph) {
	t.Helper()
	if !reflect.DeepEqual(live, files) {
		a, _ := json.MarshalIndent(live, "", " ")
		b, _ := json.MarshalIndent(files, "", " ")
		t.Fatalf("live and file graphs differ:\nlive %s\nfile %s", a, b)
	}
}
