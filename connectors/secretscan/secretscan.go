// Package secretscan imports secret-scanner reports (gitleaks JSON and
// TruffleHog JSON lines) as leak findings, without ever keeping a secret.
//
// Each finding becomes a credential node in the report's own subgraph
// carrying only non-secret facts: the rule, where it was found, a masked
// id and, where the secret has a public id part, attrs.fingerprint = hex
// SHA-256 of that id (an AWS access key id, an SSH public key derived from
// a leaked private key, a whole high-entropy token). A leaked_in edge runs
// from the finding to the file it was found in. The graph joins a finding
// to the real credential (an AWS access key, a GitHub deploy key) at query
// time by equal fingerprint, so no connector guesses at another source's
// node ids.
//
// One package registers both "gitleaks" and "trufflehog": the part that
// matters for safety (recognising key ids, deriving public keys, masking)
// is shared, and two packages would have had to duplicate it.
package secretscan

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
	for _, s := range []struct {
		name, summary string
		parse         func(file string, data []byte) ([]finding, error)
	}{
		{"gitleaks", "gitleaks detect --report-format json report: leaked credentials, fingerprinted, never stored", parseGitleaks},
		{"trufflehog", "TruffleHog --json (JSON lines) report: leaked credentials, fingerprinted, never stored", parseTrufflehog},
	} {
		s := s
		connectors.Register(connectors.Registration{
			Name:    s.name,
			Summary: s.summary,
			Finding: true,
			Options: []connectors.Option{
				{Name: "from", Usage: "path of the report file", Required: true},
				{Name: "repo", Usage: "repository the report scanned (URL or graph node id), when the report does not say"},
			},
			New: func(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
				return &Reader{Tool: s.name, Path: opts["from"], Repo: opts["repo"], parse: s.parse}, nil
			},
		})
	}
}

// Reader reads one report file.
type Reader struct {
	Tool  string // "gitleaks" or "trufflehog"
	Path  string
	Repo  string
	parse func(file string, data []byte) ([]finding, error)
}

var _ connectors.Reader = (*Reader)(nil)

// Read parses the report; a bad finding fails the whole read.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	format := input.JSON
	if r.Tool == "trufflehog" {
		format = input.JSONL
	}
	data, err := input.ReadFile(r.Path, format)
	if err != nil {
		return nil, fmt.Errorf("%s: read report: %w", r.Tool, err)
	}
	file := filepath.Base(r.Path)
	fs, err := r.parse(file, data)
	if err != nil {
		return nil, err
	}
	sg := build(SourceName(r.Tool, r.Path), r.Repo, fs)
	if err := sg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", r.Tool, file, err)
	}
	return []*graph.Subgraph{sg}, nil
}

// SourceName is "<tool>:<report file name without extension>".
func SourceName(tool, path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".jsonl", ".json", ".ndjson"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			base = base[:len(base)-len(ext)]
			break
		}
	}
	return tool + ":" + base
}
