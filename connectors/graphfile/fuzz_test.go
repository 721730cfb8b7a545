package graphfile

import (
	"bytes"
	"os"
	"testing"

	"github.com/steward-oss/steward/connectors/input"
	"github.com/steward-oss/steward/graph"
)

// FuzzJSONL is the JSONL parser family: whatever the bytes, the input
// check and the graph reader return an error or subgraphs, never panic.
func FuzzJSONL(f *testing.F) {
	seed, err := os.ReadFile("testdata/small.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte(`{"type":"edge","from":"a","to":"b","kind":"member_of"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		data, err := input.Check("fuzz.jsonl", data, input.JSONL)
		if err != nil {
			return
		}
		_, _ = graph.ReadJSONL(bytes.NewReader(data), "fuzz.jsonl")
	})
}
