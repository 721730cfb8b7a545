package escalation

import (
	"slices"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
)

// TestK8sClasses: testdata/k8s/rbac.json is a `kubectl get -o json` List
// of namespaces, service accounts, one legacy token secret and RBAC. Admin
// service accounts prod/deployer (with a token secret) and staging/ops
// (without one) are the targets; each tools/<name> account exercises the
// class named below, or is a variant that must not be found: read-only
// (viewer), aimed at a namespace with no admin account (pod-creator-sandbox),
// secrets of a namespace holding no admin token (secret-reader-staging),
// bind/escalate inside one namespace only (bind-namespaced), and a grant
// narrowed to one named pod (exec-named).
func TestK8sClasses(t *testing.T) {
	ix := load(t, [2]any{"k8s", connectors.Options{"from": "testdata/k8s"}})
	r := Analyze(ix)
	tests := []struct {
		sa, want string
		evidence []string
	}{
		{"pod-creator", "k8s:create-pods", []string{"role/prod/pod-creator -attached_to-> k8s:cluster:sa/tools/pod-creator", "[create,get,list pods]", "sa/prod/deployer"}},
		{"pod-exec", "k8s:exec-pods", []string{"[create pods/exec]", "sa/prod/deployer"}},
		{"binder", "k8s:escalate-bind", []string{"[bind rbac.authorization.k8s.io/clusterroles]", "[create,get,list rbac.authorization.k8s.io/clusterrolebindings]"}},
		{"escalator", "k8s:escalate-bind", []string{"[escalate,get,update rbac.authorization.k8s.io/clusterroles]"}},
		{"impersonator", "k8s:impersonate", []string{"[impersonate users]"}},
		{"secret-reader", "k8s:read-secrets", []string{"[get,list secrets]", "sa/prod/deployer -has_credential-> k8s:cluster:secret/prod/deployer-token"}},
		{"node-proxy", "k8s:nodes-proxy", []string{"[get nodes/proxy]"}},
		{"viewer", "", nil},
		{"pod-creator-sandbox", "", nil},
		{"secret-reader-staging", "", nil},
		{"bind-namespaced", "", nil},
		{"exec-named", "", nil},
		{"deployer", "", nil}, // admin already
	}
	for _, tt := range tests {
		t.Run(tt.sa, func(t *testing.T) {
			id := "k8s:cluster:sa/tools/" + tt.sa
			if tt.sa == "deployer" {
				id = "k8s:cluster:sa/prod/deployer"
			}
			i, ok := ix.Lookup(id)
			if !ok {
				t.Fatalf("no node %s", id)
			}
			ps := r.Paths(i)
			if tt.want == "" {
				if len(ps) != 0 {
					t.Fatalf("want no path, got %s", ps[0].Class)
				}
				return
			}
			var classes []string
			for _, p := range ps {
				if !slices.Contains(classes, p.Class) {
					classes = append(classes, p.Class)
				}
			}
			if len(classes) != 1 || classes[0] != tt.want {
				t.Fatalf("classes = %v, want [%s]", classes, tt.want)
			}
			ev := evidenceString(ix, ps[0])
			for _, want := range tt.evidence {
				if !strings.Contains(ev, want) {
					t.Fatalf("evidence lacks %q in:\n%s", want, ev)
				}
			}
		})
	}
}
