// Package graphfile is the generic connector: it loads nodes and edges in
// Steward's own JSON-lines export format (see graph/jsonl.go) as the
// sources they name, for systems Steward has no connector for yet — an
// open graph upload. Export followed by load gives the same graph.
package graphfile

import (
	"bytes"
	"context"
	"fmt"

	"github.com/steward-oss/steward/connectors/input"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:    "graph",
		Summary: "nodes and edges in Steward's JSON-lines export format",
		Options: []connectors.Option{{Name: "from", Usage: "JSON-lines file (steward export format)", Required: true}},
		New: func(opts connectors.Options, _ connectors.Env) (connectors.Reader, error) {
			return &Reader{Path: opts["from"]}, nil
		},
	})
}

// Reader reads one JSON-lines file.
type Reader struct{ Path string }

var _ connectors.Reader = (*Reader)(nil)

// Read parses the whole file; any bad line fails the read with its line
// number and nothing is returned.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	data, err := input.ReadFile(r.Path, input.JSONL)
	if err != nil {
		return nil, fmt.Errorf("graphfile: %w", err)
	}
	sgs, err := graph.ReadJSONL(bytes.NewReader(data), r.Path)
	if err != nil {
		return nil, fmt.Errorf("graphfile: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sgs, nil
}
