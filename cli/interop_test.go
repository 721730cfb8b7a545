package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// export --format opengraph → load opengraph → export gives the graph
// back byte for byte (the payload's schema checks are in package
// opengraph, on the same demo).
func TestExportLoadOpenGraphRoundTrip(t *testing.T) {
	dir := t.TempDir()
	code, jl1, errs := run(t, "export", "--demo", "--size", "300", "--owners", "")
	if code != 0 {
		t.Fatal(errs)
	}
	code, og, errs := run(t, "export", "--demo", "--size", "300", "--owners", "", "-o", "opengraph")
	if code != 0 {
		t.Fatal(errs)
	}
	var p struct {
		Metadata struct {
			SourceKind string `json:"source_kind"`
		} `json:"metadata"`
		Graph struct {
			Nodes []json.RawMessage `json:"nodes"`
			Edges []json.RawMessage `json:"edges"`
		} `json:"graph"`
	}
	if err := json.Unmarshal([]byte(og), &p); err != nil || p.Metadata.SourceKind != "Steward" || len(p.Graph.Nodes) == 0 {
		t.Fatalf("payload: %v %+v", err, p.Metadata)
	}
	file := filepath.Join(dir, "steward-opengraph.json")
	os.WriteFile(file, []byte(og), 0o600)
	db := filepath.Join(dir, "g.db")
	if code, _, errs := run(t, "load", "opengraph", "--from", file, "--graph", db); code != 0 {
		t.Fatalf("load opengraph: %s", errs)
	}
	_, jl2, _ := run(t, "export", "--graph", db, "--owners", "")
	if jl1 != jl2 {
		t.Fatalf("round trip differs: %d vs %d bytes", len(jl1), len(jl2))
	}
	code, gml, _ := run(t, "export", "--graph", db, "--format", "graphml")
	if code != 0 || !strings.HasPrefix(gml, "<?xml") || !strings.Contains(gml, "<graphml") {
		t.Fatalf("graphml: %d %.200s", code, gml)
	}
	if code, _, errs := run(t, "export", "--demo", "--format", "dot"); code != ExitUsage || !strings.Contains(errs, "opengraph") {
		t.Fatalf("bad format: %d %s", code, errs)
	}
}
