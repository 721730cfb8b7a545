// Package github reads a GitHub organization's non-human identities: GitHub
// App installations and what they may do, deploy keys, fine-grained and
// classic personal access tokens granted to the org, Actions secrets
// (metadata only: the API never returns values) and bot accounts among the
// outside collaborators.
//
// It reads either a directory of recorded REST responses (see README.md
// for the file names) or the live API through go-github. Both paths decode
// into go-github's types and share one graph builder, so a recorded export
// and a live read of the same org give the same subgraph.
package github

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:     "github",
		Summary:  "GitHub organization: app installations, deploy keys, PATs, Actions secrets, bots",
		Actuator: actuatorRegistration,
		Expect:   expect,
		Words:    words,
		Options: []connectors.Option{
			{Name: "org", Usage: "organization login", Required: true},
			{Name: "from", Usage: "directory of recorded REST responses (see README)"},
			{Name: "live", Usage: "read the live API instead of --from", Bool: true},
			{Name: "url", Usage: "API base URL (default https://api.github.com/; GHES: https://HOST/api/v3/)"},
			{Name: "token-file", Usage: "file holding the API token (live)"},
		},
		New: newReader,
	})
}

// Reader reads one organization.
type Reader struct {
	Org       string
	Dir       string // recorded responses; used when Live is false
	Live      bool
	BaseURL   string
	TokenFile string
	env       connectors.Env
}

var _ connectors.Reader = (*Reader)(nil)

func newReader(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
	r := &Reader{Org: opts["org"], BaseURL: opts["url"], TokenFile: opts["token-file"], env: env}
	var err error
	if r.Dir, r.Live, err = connectors.FromOrLive("github", opts); err != nil {
		return nil, err
	}
	if r.Live && r.TokenFile == "" {
		return nil, fmt.Errorf("github: --live needs --token-file")
	}
	if r.env.Logger == nil {
		r.env.Logger = slog.Default()
	}
	return r, nil
}

// Read fetches or loads the export, then builds the subgraph. Any error
// fails the whole read.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	var (
		ex  *Export
		err error
	)
	if r.Live {
		ex, err = r.fetch(ctx)
	} else {
		ex, err = LoadDir(r.Dir)
	}
	if err != nil {
		return nil, err
	}
	for _, f := range ex.Unrecognised {
		r.env.Logger.Warn("github: skipped a file that is no recorded response nor known webhook payload", "file", f)
	}
	sg, err := Build(r.Org, ex)
	if err != nil {
		return nil, err
	}
	return []*graph.Subgraph{sg}, nil
}
