// Package testgraph loads the small graph exports tests run on and hands
// the index out the way the running service does. It is imported by
// tests only.
package testgraph

import (
	"os"
	"testing"

	"github.com/steward-oss/steward/graph"
)

// Read decodes the JSONL graph export at path (relative to the test's
// package directory), failing t on any error.
func Read(t testing.TB, path string) []*graph.Subgraph {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sgs, err := graph.ReadJSONL(f, path)
	if err != nil {
		t.Fatal(err)
	}
	return sgs
}

// Load reads the export at path and builds its index.
func Load(t testing.TB, path string) *graph.Index {
	t.Helper()
	return graph.Build(Read(t, path))
}

// Source hands out one fixed index, as the loaded graph does in serve.
type Source struct{ ix *graph.Index }

// NewSource returns a Source of ix.
func NewSource(ix *graph.Index) Source { return Source{ix} }

// Index returns the fixed index.
func (s Source) Index() *graph.Index { return s.ix }
