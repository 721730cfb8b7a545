package vault

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:    "vault",
		Summary: "HashiCorp Vault: auth roles, ACL policies, token accessors",
		Words:   []string{"vault"},
		Options: []connectors.Option{
			{Name: "url", Usage: "Vault address, e.g. https://vault.example.com:8200 (its host names the source)"},
			{Name: "org", Usage: "source scope to use instead of the url host"},
			{Name: "from", Usage: "directory of recorded API responses (see README)"},
			{Name: "live", Usage: "read the live API instead of --from", Bool: true},
			{Name: "token-file", Usage: "file holding a Vault token (live)"},
			{Name: "namespace", Usage: "Vault Enterprise namespace (live)"},
			{Name: "k8s-cluster", Usage: "cluster name of the k8s connector, to link Kubernetes auth roles to service accounts k8s:<cluster>:sa/<ns>/<name>"},
		},
		New: newReader,
	})
}

// Reader reads one Vault cluster.
type Reader struct {
	Scope      string
	Addr       string
	Dir        string
	Live       bool
	TokenFile  string
	Namespace  string
	K8sCluster string
	env        connectors.Env
}

var _ connectors.Reader = (*Reader)(nil)

func newReader(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
	r := &Reader{Scope: opts["org"], Addr: opts["url"], TokenFile: opts["token-file"],
		Namespace: opts["namespace"], K8sCluster: opts["k8s-cluster"], env: env}
	var err error
	if r.Dir, r.Live, err = connectors.FromOrLive("vault", opts); err != nil {
		return nil, err
	}
	if r.Live && (r.TokenFile == "" || r.Addr == "") {
		return nil, fmt.Errorf("vault: --live needs --url and --token-file")
	}
	if r.Scope == "" {
		if r.Addr == "" {
			return nil, fmt.Errorf("vault: give --url (its host names the source) or --org")
		}
		u, err := url.Parse(r.Addr)
		if err != nil || u.Hostname() == "" {
			return nil, fmt.Errorf("vault: option url: %q is not an absolute URL", r.Addr)
		}
		r.Scope = u.Hostname()
	}
	if r.env.Logger == nil {
		r.env.Logger = slog.Default()
	}
	return r, nil
}

// Read loads or fetches everything and builds the subgraph; any error
// fails the whole read.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	var b backend
	if r.Live {
		c, err := r.client()
		if err != nil {
			return nil, err
		}
		b = c
	} else {
		b = dirBackend(r.Dir)
	}
	ex, err := load(ctx, b)
	if err != nil {
		return nil, err
	}
	sg, err := build(r.Scope, r.K8sCluster, ex)
	if err != nil {
		return nil, err
	}
	return []*graph.Subgraph{sg}, nil
}
