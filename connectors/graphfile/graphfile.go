// Package graphfile is the generic connector: it loads nodes and edges in
// Steward's own JSON-lines export format (see graph/jsonl.go) as the
// sources they name, for systems Steward has no connector for yet — an
// open graph upload. Export followed by load gives the same graph.
package graphfile

import (
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
type Reader struct {
	Path string
	// Progress, when set, is called every few thousand lines with the
	// bytes read so far and the file's size (-1 when not known).
	Progress func(read, size int64)
}

var _ connectors.Reader = (*Reader)(nil)

// progressEvery is how many lines pass between Progress calls and
// checks for cancellation.
const progressEvery = 1 << 14

// Read parses the file a line at a time, so it never holds the file's
// bytes, only what they decode to; any bad line fails the read with its
// line number and nothing is returned.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	ls, err := input.OpenLines(r.Path)
	if err != nil {
		return nil, fmt.Errorf("graphfile: %w", err)
	}
	defer ls.Close()
	d := graph.NewJSONLDecoder(r.Path)
	for ls.Next() {
		if err := d.Decode(ls.Line(), ls.Bytes()); err != nil {
			return nil, fmt.Errorf("graphfile: %w", err)
		}
		if ls.Line()%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if r.Progress != nil {
				r.Progress(ls.Progress())
			}
		}
	}
	if err := ls.Err(); err != nil {
		return nil, fmt.Errorf("graphfile: %w", err)
	}
	sgs, err := d.Subgraphs()
	if err != nil {
		return nil, fmt.Errorf("graphfile: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sgs, nil
}
