// Package opengraph is the connector for BloodHound OpenGraph JSON
// payloads (`steward load opengraph --from FILE.json`), such as those
// `steward export --format opengraph` writes; see package
// github.com/steward-oss/steward/opengraph for the mapping.
package opengraph

import (
	"context"
	"fmt"
	"os"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	og "github.com/steward-oss/steward/opengraph"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:    "opengraph",
		Summary: "a BloodHound OpenGraph JSON payload (as steward export --format opengraph writes)",
		Options: []connectors.Option{
			{Name: "from", Usage: "OpenGraph JSON file", Required: true},
			{Name: "source", Usage: "source name for nodes and edges without a steward_source property (default opengraph:SOURCE_KIND)"},
		},
		New: func(opts connectors.Options, _ connectors.Env) (connectors.Reader, error) {
			return &Reader{Path: opts["from"], Source: opts["source"]}, nil
		},
	})
}

// Reader reads one OpenGraph file.
type Reader struct {
	Path   string
	Source string
}

var _ connectors.Reader = (*Reader)(nil)

// Read parses the whole payload; any bad node or edge fails the read
// naming it, and nothing is returned.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	f, err := os.Open(r.Path)
	if err != nil {
		return nil, fmt.Errorf("opengraph: %w", err)
	}
	defer f.Close()
	sgs, err := og.Read(f, r.Path, og.ReadOptions{Source: r.Source})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sgs, nil
}
