// Package gcp reads Google Cloud IAM: the service accounts of a project, their
// keys, and the IAM policies of the organization, folders, project and
// service accounts, either from a directory of gcloud / REST JSON exports or
// live through the official Google API client.
//
// Bindings become grants from the member to the resource the policy is set
// on (not grants from a shared role node), because one role bound at two
// scopes must not leak the wider scope to the narrower binding's members.
package gcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:    "gcp",
		Summary: "Google Cloud IAM: service accounts, keys and IAM policies (org, folder, project, service account)",
		Words:   []string{"gcp", "google cloud", "gke"},
		Options: []connectors.Option{
			{Name: "from", Usage: "directory of gcloud/IAM API JSON exports"},
			{Name: "live", Usage: "read the project through the Google APIs (application default credentials)", Bool: true},
			{Name: "project", Usage: "project id; the source is gcp:<project> (inferred from the export when absent)"},
			{Name: "endpoint", Usage: "override the API base URL (private endpoint or test server)"},
			{Name: "project-only", Usage: "live: skip the IAM policies of the project's folders and organization", Bool: true},
		},
		New: newReader,
	})
}

// Reader reads one GCP project and the policies above it.
type Reader struct {
	from        string
	live        bool
	projectOnly bool
	project     string
	endpoint    string
	log         *slog.Logger
	// httpClient, when set, is handed to the API client instead of the
	// default credentials transport (tests point it at a local server).
	httpClient *http.Client
}

var _ connectors.Reader = (*Reader)(nil)

func newReader(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
	r := &Reader{from: opts["from"], project: opts["project"], endpoint: opts["endpoint"], log: env.Logger}
	if r.log == nil {
		r.log = slog.Default()
	}
	for name, dst := range map[string]*bool{"live": &r.live, "project-only": &r.projectOnly} {
		b, err := opts.Bool(name)
		if err != nil {
			return nil, fmt.Errorf("gcp: %w", err)
		}
		*dst = b
	}
	switch {
	case r.live && r.from != "":
		return nil, errors.New("gcp: options from and live are exclusive")
	case !r.live && r.from == "":
		return nil, errors.New("gcp: one of the options from or live is required")
	case r.live && r.project == "":
		return nil, errors.New("gcp: option project is required with live")
	}
	return r, nil
}

// Read loads the export or the live project and returns one subgraph,
// source "gcp:<project>".
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	var (
		in  *inventory
		err error
	)
	if r.live {
		in, err = r.readLive(ctx)
	} else {
		in, err = readDir(r.from, r.project)
	}
	if err != nil {
		return nil, err
	}
	for _, why := range in.skipped {
		r.log.Warn("gcp: file skipped", "why", why)
	}
	project := r.project
	if project == "" {
		project = in.inferProject()
	}
	if project == "" {
		return nil, fmt.Errorf("gcp: %s: cannot tell the project from the export; set the project option", r.from)
	}
	sg := build(project, in, r.log)
	if err := sg.Validate(); err != nil {
		return nil, fmt.Errorf("gcp: %w", err)
	}
	return []*graph.Subgraph{sg}, nil
}
