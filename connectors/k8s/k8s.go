// Package k8s reads Kubernetes RBAC and service accounts, from `kubectl get
// -o json|yaml` exports or live through client-go, and service-account
// activity from API-server audit logs.
//
// Both paths decode into the k8s.io/api types, so an export and a live read
// of the same cluster give the same graph. A binding is modelled as its role
// attached_to each subject; a ClusterRole used by a namespaced RoleBinding
// becomes a per-namespace role node so its rules never leak cluster-wide.
package k8s

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:     "k8s",
		Summary:  "Kubernetes RBAC, service accounts, legacy SA token secrets and audit-log activity",
		Actuator: actuatorRegistration,
		Words:    words,
		Options: []connectors.Option{
			{Name: "from", Usage: "directory of kubectl get -o json|yaml exports"},
			{Name: "kubeconfig", Usage: "read the cluster live through this kubeconfig file"},
			{Name: "context", Usage: "kubeconfig context (default: its current context)"},
			{Name: "in-cluster", Usage: "read the cluster live with the pod's service-account credentials", Bool: true},
			{Name: "cluster", Usage: "cluster name; the source is k8s:<cluster> (default: the context's cluster, else \"cluster\")"},
			{Name: "audit-log", Usage: "audit.k8s.io/v1 Event JSON-lines file, or a directory of them"},
		},
		New: newReader,
	})
}

// Reader reads one cluster.
type Reader struct {
	from       string
	kubeconfig string
	context    string
	inCluster  bool
	cluster    string
	auditLog   string
	log        *slog.Logger
}

var _ connectors.Reader = (*Reader)(nil)

func newReader(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
	r := &Reader{from: opts["from"], kubeconfig: opts["kubeconfig"], context: opts["context"],
		cluster: opts["cluster"], auditLog: opts["audit-log"], log: env.Logger}
	if r.log == nil {
		r.log = slog.Default()
	}
	var err error
	if r.inCluster, err = opts.Bool("in-cluster"); err != nil {
		return nil, fmt.Errorf("k8s: %w", err)
	}
	n := 0
	for _, set := range []bool{r.from != "", r.kubeconfig != "", r.inCluster} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, errors.New("k8s: options from, kubeconfig and in-cluster are exclusive")
	case n == 0 && r.auditLog == "":
		return nil, errors.New("k8s: one of the options from, kubeconfig, in-cluster or audit-log is required")
	case r.context != "" && r.kubeconfig == "":
		return nil, errors.New("k8s: option context needs kubeconfig")
	}
	return r, nil
}

// Read returns one subgraph, source "k8s:<cluster>".
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	in := &inventory{}
	cluster := r.cluster
	var err error
	switch {
	case r.from != "":
		in, err = readDir(r.from, r.log)
	case r.kubeconfig != "" || r.inCluster:
		var name string
		in, name, err = r.readLive(ctx)
		if cluster == "" {
			cluster = name
		}
	}
	if err != nil {
		return nil, err
	}
	if cluster == "" {
		cluster = "cluster"
	}
	var usage []usageRec
	if r.auditLog != "" {
		if usage, err = readAudit(r.auditLog, r.log); err != nil {
			return nil, err
		}
	}
	sg := build(cluster, in, usage)
	if err := sg.Validate(); err != nil {
		return nil, fmt.Errorf("k8s: %w", err)
	}
	return []*graph.Subgraph{sg}, nil
}
