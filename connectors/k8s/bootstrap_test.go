package k8s

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// bootstrapFiles are the six files of the Kubernetes bootstrap RBAC policy
// (testdata/cluster, copied unchanged from kubernetes/kubernetes; see
// testdata/README.md).
var bootstrapFiles = []string{"cluster-roles.yaml", "cluster-role-bindings.yaml", "controller-roles.yaml",
	"controller-role-bindings.yaml", "namespace-roles.yaml", "namespace-role-bindings.yaml"}

func readBootstrap(t *testing.T) (*graph.Index, []*graph.Subgraph) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range bootstrapFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "cluster", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sgs, err := openReader(t, connectors.Options{"from": dir, "cluster": "prod"}).Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return graph.Build(sgs), sgs
}

// TestBootstrapServiceAccountPrivilege is the oracle on the bootstrap
// policy. The expected ratings come from a hand computation over the YAML
// (every binding's role rules resolved, aggregation followed; a rule is
// write when it has a verb other than get/list/watch, except create on the
// review APIs, which only ask the API server a question; admin is * on *
// in * cluster-wide): of the 34 service accounts the policy binds, every
// controller but kube-dns may change state, and none is admin.
// system:basic-user, bound to system:authenticated, makes nobody a writer.
func TestBootstrapServiceAccountPrivilege(t *testing.T) {
	ix, _ := readBootstrap(t)
	wantWrite := []string{
		"attachdetach-controller", "bootstrap-signer", "certificate-controller", "cloud-provider",
		"clusterrole-aggregation-controller", "cronjob-controller", "daemon-set-controller", "deployment-controller",
		"disruption-controller", "endpoint-controller", "endpointslice-controller", "expand-controller",
		"generic-garbage-collector", "horizontal-pod-autoscaler", "job-controller", "kube-controller-manager",
		"kube-scheduler", "leader-election-controller", "namespace-controller", "node-controller",
		"persistent-volume-binder", "pod-garbage-collector", "pv-protection-controller", "pvc-protection-controller",
		"replicaset-controller", "replication-controller", "resourcequota-controller", "route-controller",
		"service-account-controller", "service-controller", "statefulset-controller", "token-cleaner", "ttl-controller",
	}
	for i := range wantWrite {
		wantWrite[i] = p + "sa/kube-system/" + wantWrite[i]
	}
	var sas, write, admin []string
	for i, n := range ix.Nodes() {
		if n.Subtype != "k8s_service_account" {
			continue
		}
		sas = append(sas, n.ID)
		switch pr, _ := ix.Privilege(int32(i)); pr {
		case graph.PrivWrite:
			write = append(write, n.ID)
		case graph.PrivAdmin:
			admin = append(admin, n.ID)
		}
	}
	sort.Strings(write)
	if len(sas) != 34 {
		t.Errorf("%d service accounts, want the 34 the bindings name", len(sas))
	}
	if !reflect.DeepEqual(write, wantWrite) {
		t.Errorf("write service accounts (%d):\n%v\nwant (%d):\n%v", len(write), write, len(wantWrite), wantWrite)
	}
	if len(admin) != 0 {
		t.Errorf("admin service accounts %v, want none", admin)
	}
}

// TestBootstrapRolePrivilege rates well-known ClusterRoles by the
// strongest grant they carry (cluster-wide, as a ClusterRoleBinding binds
// them), against what the Kubernetes documentation says each role is for.
func TestBootstrapRolePrivilege(t *testing.T) {
	_, sgs := readBootstrap(t)
	best := map[string]graph.Privilege{}
	for _, sg := range sgs {
		for _, e := range sg.Edges {
			if e.Kind == graph.EdgeGrants && e.Privilege.Rank() > best[e.From].Rank() {
				best[e.From] = e.Privilege
			}
		}
	}
	tests := []struct {
		role string
		want graph.Privilege
	}{
		{"cluster-admin", graph.PrivAdmin},
		{"admin", graph.PrivWrite},
		{"edit", graph.PrivWrite},
		{"view", graph.PrivRead},
		{"system:basic-user", graph.PrivRead},         // self-subject access and rules reviews
		{"system:discovery", graph.PrivRead},          // /api, /apis, /version
		{"system:public-info-viewer", graph.PrivRead}, // /healthz, /version
		{"system:auth-delegator", graph.PrivRead},     // tokenreviews, subjectaccessreviews create
		{"system:kube-dns", graph.PrivRead},
		{"system:heapster", graph.PrivRead},
		{"system:node", graph.PrivWrite},
		{"system:node-bootstrapper", graph.PrivWrite}, // creates CSRs
		{"system:kube-scheduler", graph.PrivWrite},    // binds pods
		{"system:controller:namespace-controller", graph.PrivWrite},
	}
	for _, tc := range tests {
		if got := best[p+"clusterrole/"+tc.role]; got != tc.want {
			t.Errorf("%s: %q, want %q", tc.role, got, tc.want)
		}
	}
}
