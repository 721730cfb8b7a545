// Package okta reads an Okta org's non-human identities: service apps
// (OAuth client-credentials), API tokens and the admins that hold them,
// service users, groups and admin role assignments.
//
// It reads a directory of recorded Okta API responses or the live API
// over plain net/http (SSWS token, Link-header pagination). The official
// okta-sdk-golang v5 is an OpenAPI-generated module of several hundred
// files with its own cache and JWT dependencies; this connector makes
// seven kinds of GET calls, so a small client is easier to audit and
// keeps the build light.
package okta

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:    "okta",
		Summary: "Okta org: service apps, API tokens, service users, groups, admin roles",
		Words:   []string{"okta"},
		Options: []connectors.Option{
			{Name: "org", Usage: "Okta org domain, e.g. example.okta.com (names the source)", Required: true},
			{Name: "from", Usage: "directory of recorded API responses (see README)"},
			{Name: "live", Usage: "read the live API instead of --from", Bool: true},
			{Name: "url", Usage: "API base URL (default https://ORG)"},
			{Name: "token-file", Usage: "file holding an Okta API token (live)"},
		},
		New: newReader,
	})
}

// Reader reads one Okta org.
type Reader struct {
	Org       string
	Dir       string
	Live      bool
	BaseURL   string
	TokenFile string
	env       connectors.Env
}

var _ connectors.Reader = (*Reader)(nil)

func newReader(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
	r := &Reader{Org: strings.ToLower(opts["org"]), BaseURL: opts["url"], TokenFile: opts["token-file"], env: env}
	var err error
	if r.Dir, r.Live, err = connectors.FromOrLive("okta", opts); err != nil {
		return nil, err
	}
	if r.Live && r.TokenFile == "" {
		return nil, fmt.Errorf("okta: --live needs --token-file")
	}
	if r.BaseURL == "" {
		r.BaseURL = "https://" + r.Org
	}
	if r.env.Logger == nil {
		r.env.Logger = slog.Default()
	}
	return r, nil
}

// Read loads or fetches the export and builds the subgraph; any error
// fails the whole read.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	var src source
	if r.Live {
		c, err := r.client()
		if err != nil {
			return nil, err
		}
		src = c
	} else {
		src = dirSource(r.Dir)
	}
	ex, err := load(ctx, src)
	if err != nil {
		return nil, err
	}
	sg, err := build(r.Org, ex)
	if err != nil {
		return nil, err
	}
	return []*graph.Subgraph{sg}, nil
}
