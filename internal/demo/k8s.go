package demo

import (
	"fmt"

	"github.com/steward-oss/steward/graph"
)

type k8sCluster struct{ name, env string }

func k8sClusters(n int) []k8sCluster {
	out := []k8sCluster{{"prod-cluster", "prod"}, {"staging-cluster", "staging"}}
	for k := 2; k < n; k++ {
		env := envs[k%2]
		out = append(out, k8sCluster{fmt.Sprintf("%s-cluster-%d", env, k/2+1), env})
	}
	return out
}

var k8sActions = actions{
	read:  []string{"pods:list", "configmaps:get", "secrets:get", "events:watch", "deployments:list"},
	write: []string{"deployments:patch", "pods:create", "secrets:update", "jobs:create", "pods:delete"},
}

// k8s builds one cluster. Role bindings become member_of edges from the
// service account to the (Cluster)Role, whose grants carry the rules;
// cluster-admin is admin. Service accounts in the prod cluster may assume
// their application's AWS task role through IRSA.
func (w *world) k8s(cl k8sCluster, idx, nCl int) *graph.Subgraph {
	src := "k8s:" + cl.name
	e := w.newEmitter(src, "kubectl/v1.30.2", "client-go/v0.30.1", "argocd-application-controller/v2.11.3")
	pfx := src + ":"
	created := Reference.Add(-800 * day)
	clusterID := pfx + "cluster"
	e.accountNode(graph.Node{ID: clusterID, Name: cl.name, Subtype: "cluster",
		Attrs: map[string]string{graph.AttrEnvironment: cl.env}})
	nsID := func(ns string) string { return pfx + "ns/" + ns }
	namespaces := append(append([]string{}, teams...), "kube-system", "argocd", "monitoring")
	for _, ns := range namespaces {
		e.node(graph.Node{ID: nsID(ns), Kind: graph.KindResource, Subtype: "namespace", Name: ns, CreatedAt: created,
			Attrs: map[string]string{graph.AttrNamespace: ns, graph.AttrEnvironment: cl.env}})
	}
	clusterRole := func(name string) string {
		id := pfx + "clusterrole/" + name
		e.node(graph.Node{ID: id, Kind: graph.KindRole, Subtype: "cluster_role", Name: name, CreatedAt: created})
		return id
	}
	admin := clusterRole("cluster-admin")
	e.grant(admin, clusterID, "*", "*", graph.PrivAdmin, "ClusterRole cluster-admin")
	view := clusterRole("view")
	for _, v := range []string{"get", "list", "watch"} {
		e.grant(view, clusterID, v, "*", graph.PrivRead, "ClusterRole view")
	}
	deployer := make([]string, len(teams))
	reader := make([]string, len(teams))
	for i, t := range teams {
		deployer[i] = pfx + "role/" + t + "/deployer"
		e.node(graph.Node{ID: deployer[i], Kind: graph.KindRole, Subtype: "role", Name: "deployer", CreatedAt: created,
			Attrs: map[string]string{graph.AttrNamespace: t}})
		for _, v := range []string{"create", "update", "patch", "delete"} {
			e.grant(deployer[i], nsID(t), v, "deployments,services,configmaps", graph.PrivWrite, "Role "+t+"/deployer")
		}
		reader[i] = pfx + "role/" + t + "/reader"
		e.node(graph.Node{ID: reader[i], Kind: graph.KindRole, Subtype: "role", Name: "reader", CreatedAt: created,
			Attrs: map[string]string{graph.AttrNamespace: t}})
		for _, v := range []string{"get", "list", "watch"} {
			e.grant(reader[i], nsID(t), v, "pods,configmaps,secrets", graph.PrivRead, "Role "+t+"/reader")
		}
	}

	sa := func(ns, name string, p profile, bind func(id string), irsa string) {
		id := pfx + "sa/" + ns + "/" + name
		n := graph.Node{ID: id, Kind: graph.KindWorkload, Subtype: "k8s_service_account", Name: name,
			CreatedAt: p.created, LastUsedAt: p.lastUse,
			Attrs: map[string]string{graph.AttrNamespace: ns, graph.AttrEnvironment: cl.env}}
		e.own(&n, p, "owner", "")
		e.node(n)
		bind(id)
		if irsa != "" {
			e.viaEdge(id, irsa, graph.EdgeCanAssume, "eks.amazonaws.com/role-arn", true)
		}
		// Legacy long-lived token secrets, from before bound tokens.
		if e.chance(0.15) {
			tid := pfx + "secret/" + ns + "/" + name + "-token-" + e.token("", 5, "bcdfghjklmnpqrstvwxz2456789")
			c := graph.Node{ID: tid, Kind: graph.KindCredential, Subtype: "sa_token", Name: name + " token",
				Attrs: map[string]string{graph.AttrNamespace: ns}}
			c.CreatedAt, c.LastUsedAt = e.credTimes(p, false)
			e.node(c)
			e.edge(id, tid, graph.EdgeHasCredential)
		}
		e.used(id, p, k8sActions, nsID(ns), clusterID)
	}

	n := split(w.counts[famK8s], nCl, idx)
	e.reserve(n)
	start := 0
	if n >= 2 {
		start = 2
		sa("argocd", "argocd-application-controller", fixed("platform", 600, 0, true, ownPresent), func(id string) {
			e.viaEdge(id, admin, graph.EdgeMemberOf, "ClusterRoleBinding argocd-application-controller", false)
		}, "")
		sa("monitoring", "prometheus", fixed("sre", 580, 0, false, ownPresent), func(id string) {
			e.viaEdge(id, view, graph.EdgeMemberOf, "ClusterRoleBinding prometheus", false)
		}, "")
	}
	for j := start; j < n; j++ {
		name, a := appAt(j - start)
		t := indexOf(teams, a.team)
		p := e.draw(a.team, true)
		irsa := ""
		if idx == 0 && !p.admin && e.chance(0.25) {
			irsa = "aws:111111111111:role/" + apps[baseApp(j-start)].name + "-task"
		}
		sa(a.team, name, p, func(id string) {
			switch {
			case p.admin:
				e.bind(id, admin, "ClusterRoleBinding "+name+"-admin")
			case e.chance(0.45):
				e.bind(id, deployer[t], "RoleBinding "+a.team+"/"+name+"-deployer")
			case e.chance(0.8):
				e.bind(id, reader[t], "RoleBinding "+a.team+"/"+name+"-reader")
			default:
				e.bind(id, view, "ClusterRoleBinding "+name+"-view")
			}
		}, irsa)
	}
	return e.sg
}
