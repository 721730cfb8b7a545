package opengraph

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
)

// schemas compiles BloodHound's published node, edge and metadata
// schemas (testdata/SOURCES.md).
func schemas(t *testing.T) (node, edge, meta *jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	compile := func(file string) *jsonschema.Schema {
		f, err := os.Open("testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(file, doc); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(file)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return compile("bloodhound-node.schema.json"), compile("bloodhound-edge.schema.json"), compile("bloodhound-metadata.schema.json")
}

var lowerProp = regexp.MustCompile(`^[a-z0-9_]+$`)

// validate checks a payload as BloodHound's upload does: the envelope,
// the metadata, every node and edge against the published schemas, and
// the documented naming rules.
func validate(t *testing.T, payload []byte) (nodes, edges int) {
	t.Helper()
	nodeS, edgeS, metaS := schemas(t)
	var top map[string]any
	if err := json.Unmarshal(payload, &top); err != nil {
		t.Fatal(err)
	}
	g, ok := top["graph"].(map[string]any)
	if !ok {
		t.Fatal("no graph object")
	}
	ns, ok1 := g["nodes"].([]any)
	es, ok2 := g["edges"].([]any)
	if !ok1 || !ok2 {
		t.Fatal("graph.nodes or graph.edges is not an array")
	}
	if m, ok := top["metadata"]; ok {
		if err := metaS.Validate(m); err != nil {
			t.Fatalf("metadata: %v", err)
		}
	}
	for i, n := range ns {
		if err := nodeS.Validate(n); err != nil {
			t.Fatalf("graph.nodes[%d]: %v", i, err)
		}
		props, _ := n.(map[string]any)["properties"].(map[string]any)
		for k := range props {
			if !lowerProp.MatchString(k) {
				t.Fatalf("graph.nodes[%d]: property %q is not lower case", i, k)
			}
		}
	}
	for i, e := range es {
		if err := edgeS.Validate(e); err != nil {
			t.Fatalf("graph.edges[%d]: %v", i, err)
		}
		if k := e.(map[string]any)["kind"].(string); strings.Contains(k, "-") {
			t.Fatalf("graph.edges[%d]: kind %q has a dash", i, k)
		}
		props, _ := e.(map[string]any)["properties"].(map[string]any)
		for k := range props {
			if !lowerProp.MatchString(k) {
				t.Fatalf("graph.edges[%d]: property %q is not lower case", i, k)
			}
		}
	}
	return len(ns), len(es)
}

func TestDemoExportValidatesAndRoundTrips(t *testing.T) {
	sgs := demo.Generate(demo.Config{Seed: 1, Size: 400})
	var jl1 bytes.Buffer
	if err := graph.WriteJSONL(&jl1, sgs); err != nil {
		t.Fatal(err)
	}
	var og bytes.Buffer
	if err := Write(&og, sgs); err != nil {
		t.Fatal(err)
	}
	nodes, edges := validate(t, og.Bytes())
	wantN, wantE := 0, 0
	for _, sg := range sgs {
		wantN += len(sg.Nodes)
		wantE += len(sg.Edges)
	}
	if nodes != wantN || edges > wantE || edges == 0 {
		t.Fatalf("payload has %d nodes, %d edges; graph %d, %d", nodes, edges, wantN, wantE)
	}
	back, err := Read(bytes.NewReader(og.Bytes()), "demo.json", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var jl2 bytes.Buffer
	if err := graph.WriteJSONL(&jl2, back); err != nil {
		t.Fatal(err)
	}
	if jl1.String() != jl2.String() {
		a, b := strings.Split(jl1.String(), "\n"), strings.Split(jl2.String(), "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("round trip differs at line %d:\n%s\n%s", i+1, a[i], b[i])
			}
		}
		t.Fatalf("round trip differs: %d vs %d lines", len(a), len(b))
	}
	if !strings.Contains(og.String(), `"kinds":["SWServiceAccount","SWNHI"]`) || !strings.Contains(og.String(), `"kind":"SWMemberOf"`) {
		t.Fatal("Steward kinds not written as SW PascalCase kinds")
	}
}

// The validator is not vacuous: payloads breaking BloodHound's schema
// are rejected.
func TestSchemaRejectsBadPayloads(t *testing.T) {
	nodeS, edgeS, _ := schemas(t)
	tests := []struct {
		name string
		s    *jsonschema.Schema
		doc  string
	}{
		{"nested object property", nodeS, `{"id":"a","kinds":["X"],"properties":{"tags":{"k":"v"}}}`},
		{"null property", nodeS, `{"id":"a","kinds":["X"],"properties":{"tags":null}}`},
		{"four kinds", nodeS, `{"id":"a","kinds":["A","B","C","D"]}`},
		{"no kinds", nodeS, `{"id":"a","kinds":[]}`},
		{"edge without end", edgeS, `{"start":{"value":"a"},"kind":"K"}`},
		{"bad match_by", edgeS, `{"start":{"value":"a","match_by":"sid"},"end":{"value":"b"},"kind":"K"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			json.Unmarshal([]byte(tt.doc), &v)
			if err := tt.s.Validate(v); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestReadForeignPayload(t *testing.T) {
	f, err := os.Open("testdata/bloodhound-minimal.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, _ := os.ReadFile("testdata/bloodhound-minimal.json")
	validate(t, data)
	sgs, err := Read(f, "bloodhound-minimal.json", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sgs) != 1 || sgs[0].Source != "opengraph:EXBase" || len(sgs[0].Nodes) != 2 || len(sgs[0].Edges) != 1 {
		t.Fatalf("got %+v", sgs)
	}
	e := sgs[0].Edges[0]
	if e.From != "123" || e.To != "234" || e.Kind != graph.EdgeMemberOf {
		t.Fatalf("edge matched by name: %+v", e)
	}
	for _, n := range sgs[0].Nodes {
		if n.ID == "123" && (n.Kind != graph.KindServiceAccount || n.Name != "BOB" || n.Attrs["team"] != "payments" || n.Attrs["mfa"] != "false") {
			t.Fatalf("node 123: %+v", n)
		}
	}
}

func TestReadErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"not json", `{"graph":`, "x.json"},
		{"no graph", `{"nodes":[]}`, "x.json: graph: missing"},
		{"no edges", `{"graph":{"nodes":[]}}`, "graph: want an object"},
		{"foreign kind", `{"graph":{"nodes":[{"id":"a","kinds":["User"]}],"edges":[]}}`, "graph.nodes[0].kinds"},
		{"too many kinds", `{"graph":{"nodes":[{"id":"a","kinds":["SWBot","A","B","C"]}],"edges":[]}}`, "graph.nodes[0].kinds: want 1 to 3"},
		{"duplicate", `{"graph":{"nodes":[{"id":"a","kinds":["SWBot"]},{"id":"a","kinds":["SWBot"]}],"edges":[]}}`, "graph.nodes[1].id: duplicate"},
		{"bad time", `{"graph":{"nodes":[{"id":"a","kinds":["SWBot"],"properties":{"created_at":"yesterday"}}],"edges":[]}}`, "graph.nodes[0].properties.created_at"},
		{"edge kind", `{"graph":{"nodes":[{"id":"a","kinds":["SWBot"]}],"edges":[{"start":{"value":"a"},"end":{"value":"a"},"kind":"AdminTo"}]}}`, "graph.edges[0].kind"},
		{"name miss", `{"graph":{"nodes":[{"id":"a","kinds":["SWBot"]}],"edges":[{"start":{"value":"a"},"end":{"value":"nobody","match_by":"name"},"kind":"SWOwns"}]}}`, "graph.edges[0].end: match_by name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.doc), "x.json", ReadOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}
