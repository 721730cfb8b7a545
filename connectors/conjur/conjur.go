// Package conjur reads CyberArk Conjur policy files: the YAML documents
// that declare hosts (machine identities), layers and groups, users,
// variables (stored secrets) and who may do what with them.
//
// Policy YAML relies on custom tags (!host, !permit, ...), which yaml.v3's
// Node API keeps, so the file is walked as nodes rather than decoded into
// structs, and every error names the file, line and column.
package conjur

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/steward-oss/steward/connectors/input"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:    "conjur",
		Summary: "CyberArk Conjur policy YAML: hosts, layers, groups, variables, permits, grants",
		Words:   []string{"conjur", "cyberark"},
		Options: []connectors.Option{
			{Name: "from", Usage: "policy YAML file", Required: true},
			{Name: "account", Usage: "Conjur account (names the source)", Required: true},
			{Name: "branch", Usage: "policy branch the file is loaded into (default root)"},
		},
		New: func(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
			branch := strings.Trim(opts["branch"], "/")
			if branch == "root" {
				branch = ""
			}
			return &Reader{Path: opts["from"], Account: opts["account"], Branch: branch}, nil
		},
	})
}

// Reader reads one policy file.
type Reader struct {
	Path    string
	Account string
	Branch  string // "" for root
}

var _ connectors.Reader = (*Reader)(nil)

// Read parses the policy; any error fails the whole read.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := input.ReadFile(r.Path, input.YAML)
	if err != nil {
		return nil, fmt.Errorf("conjur: read policy: %w", err)
	}
	sg, err := Parse(filepath.Base(r.Path), data, r.Account, r.Branch)
	if err != nil {
		return nil, err
	}
	return []*graph.Subgraph{sg}, nil
}
