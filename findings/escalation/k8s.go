package escalation

import (
	"strings"

	"github.com/steward-oss/steward/graph"
)

// Kubernetes paths read the RBAC the connector emitted: (Cluster)Roles
// attached_to their subjects (directly or through groups), each role's
// grants carrying comma-joined verbs and a "group/resource" string, on the
// cluster account (cluster-wide) or on one namespace node. Grants limited
// to named resources are not treated as covering the whole resource type.

const attrResourceName = "resource_name"

// k8sGrant is one rule grant a subject holds, with its binding path.
type k8sGrant struct {
	edge int32
	via  []int32
	ns   string // "" cluster-wide
}

func (a *analyzer) k8sGrants(i int32) []k8sGrant {
	holders, via := a.memberships(i)
	var out []k8sGrant
	for _, h := range holders {
		for _, e := range a.ix.In(h) {
			ed := a.ix.Edge(e)
			if ed.Kind != graph.EdgeAttachedTo {
				continue
			}
			r, ok := a.ix.Lookup(ed.From)
			if !ok || a.ix.NodeKind(r) != graph.KindRole {
				continue
			}
			path := append(append([]int32(nil), via[h]...), e)
			for _, g := range a.ix.Out(r) {
				ge := a.ix.Edge(g)
				if ge.Kind != graph.EdgeGrants || ge.Effect == graph.EffectDeny || ge.Attrs[attrResourceName] != "" {
					continue
				}
				out = append(out, k8sGrant{edge: g, via: path, ns: k8sNamespace(ge.To)})
			}
		}
	}
	return out
}

// k8sNamespace is the namespace a grant's target names ("" for the cluster).
func k8sNamespace(to string) string {
	if k := strings.LastIndex(to, ":ns/"); k >= 0 {
		return to[k+len(":ns/"):]
	}
	return ""
}

func verbMatch(action, verb string) bool {
	for _, v := range strings.Split(action, ",") {
		if v == "*" || v == verb {
			return true
		}
	}
	return false
}

// resMatch: the grant's resource string covers resource res of API group.
func resMatch(granted, group, res string) bool {
	if granted == "*" {
		return true
	}
	cands := []string{"*/" + res}
	if group == "" {
		cands = append(cands, res)
	} else {
		cands = append(cands, group+"/"+res, group+"/*")
	}
	if base, _, sub := strings.Cut(res, "/"); sub {
		cands = append(cands, "*/"+base+"/*")
		if group == "" {
			cands = append(cands, base+"/*")
		}
	}
	for _, c := range cands {
		if granted == c {
			return true
		}
	}
	return false
}

// can returns the grant allowing verb on group/res, cluster-wide or in ns.
func (a *analyzer) k8sCan(gs []k8sGrant, verb, group, res, ns string, clusterOnly bool) ([]int32, bool) {
	for _, g := range gs {
		ed := a.ix.Edge(g.edge)
		if g.ns != "" && (clusterOnly || g.ns != ns) {
			continue
		}
		if verbMatch(ed.Action, verb) && resMatch(ed.Resource, group, res) {
			return append(append([]int32(nil), g.via...), g.edge), true
		}
	}
	return nil, false
}

// k8sAdminSAs lists the admin service accounts of a cluster source by
// namespace.
func (a *analyzer) k8sAdminSAs(source string) map[string][]int32 {
	if a.k8sSA == nil {
		a.k8sSA = map[string]map[string][]int32{}
	}
	if m, ok := a.k8sSA[source]; ok {
		return m
	}
	m := map[string][]int32{}
	prefix := source + ":sa/"
	for i := range int32(a.ix.NumNodes()) {
		rest, ok := strings.CutPrefix(a.ix.NodeID(i), prefix)
		if !ok {
			continue
		}
		if a.directAdmin(int32(i)) {
			ns, _, _ := strings.Cut(rest, "/")
			m[ns] = append(m[ns], int32(i))
		}
	}
	a.k8sSA[source] = m
	return m
}

var workloadResources = []struct{ group, res string }{
	{"", "pods"}, {"apps", "deployments"}, {"apps", "daemonsets"}, {"apps", "statefulsets"},
	{"apps", "replicasets"}, {"batch", "jobs"}, {"batch", "cronjobs"}, {"", "replicationcontrollers"},
}

func (a *analyzer) k8s(i int32) []Path {
	gs := a.k8sGrants(i)
	if len(gs) == 0 {
		return nil
	}
	src := a.ix.NodeSource(i)
	var out []Path
	add := func(class string, target int32, ev ...[]int32) {
		var all []int32
		for _, e := range ev {
			all = append(all, e...)
		}
		out = append(out, Path{Identity: i, Class: class, Target: target, Evidence: all})
	}
	sas := a.k8sAdminSAs(src)
	for _, ns := range sortedKeys(sas) {
		for _, sa := range sas[ns] {
			if sa == i {
				continue
			}
			_, sp := a.admin(sa)
			for _, w := range workloadResources {
				if ev, ok := a.k8sCan(gs, "create", w.group, w.res, ns, false); ok {
					add("k8s:create-pods", sa, ev, sp)
					break
				}
			}
			if ev, ok := a.k8sCan(gs, "create", "", "pods/exec", ns, false); ok {
				add("k8s:exec-pods", sa, ev, sp)
			}
			if tok, ok := a.saToken(sa); ok {
				for _, verb := range []string{"get", "list"} {
					if ev, ok := a.k8sCan(gs, verb, "", "secrets", ns, false); ok {
						add("k8s:read-secrets", sa, ev, []int32{tok}, sp)
						break
					}
				}
			}
			if ev, ok := a.k8sCan(gs, "impersonate", "", "serviceaccounts", ns, false); ok {
				add("k8s:impersonate", sa, ev, sp)
			}
		}
	}
	const rbac = "rbac.authorization.k8s.io"
	if bind, ok := a.k8sCan(gs, "bind", rbac, "clusterroles", "", true); ok {
		if w, ok := a.k8sCan(gs, "create", rbac, "clusterrolebindings", "", true); ok {
			add("k8s:escalate-bind", -1, bind, w)
		}
	}
	if esc, ok := a.k8sCan(gs, "escalate", rbac, "clusterroles", "", true); ok {
		for _, verb := range []string{"update", "patch"} {
			if w, ok := a.k8sCan(gs, verb, rbac, "clusterroles", "", true); ok {
				add("k8s:escalate-bind", -1, esc, w)
				break
			}
		}
	}
	for _, res := range []string{"users", "groups"} {
		if ev, ok := a.k8sCan(gs, "impersonate", "", res, "", true); ok {
			add("k8s:impersonate", -1, ev)
			break
		}
	}
	for _, verb := range []string{"create", "get"} {
		if ev, ok := a.k8sCan(gs, verb, "", "nodes/proxy", "", true); ok {
			add("k8s:nodes-proxy", -1, ev)
			break
		}
	}
	return out
}

// saToken returns the has_credential edge of a service-account token
// secret that service account sa holds.
func (a *analyzer) saToken(sa int32) (int32, bool) {
	for _, e := range a.ix.Out(sa) {
		ed := a.ix.Edge(e)
		if ed.Kind != graph.EdgeHasCredential {
			continue
		}
		if c, ok := a.ix.Lookup(ed.To); ok && a.ix.NodeSubtype(c) == "sa_token" && a.ix.NodeStatus(c) != graph.StatusDisabled {
			return e, true
		}
	}
	return 0, false
}
