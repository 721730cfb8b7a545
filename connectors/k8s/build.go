package k8s

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/steward-oss/steward/graph"
)

// Well-known groups the API server puts service accounts in.
const (
	groupAllSAs        = "system:serviceaccounts"
	groupNSSAsPrefix   = "system:serviceaccounts:"
	groupAuthenticated = "system:authenticated"
	saUserPrefix       = "system:serviceaccount:"
)

type builder struct {
	source string
	prefix string
	nodes  map[string]*graph.Node
	edges  map[string]bool
	sg     *graph.Subgraph
	groups map[string]bool // group subjects seen in bindings
}

func build(cluster string, in *inventory, usage []usageRec) *graph.Subgraph {
	source := "k8s:" + cluster
	b := &builder{source: source, prefix: source + ":", nodes: map[string]*graph.Node{},
		edges: map[string]bool{}, sg: &graph.Subgraph{Source: source}, groups: map[string]bool{}}
	b.node(graph.Node{ID: b.clusterID(), Kind: graph.KindAccount, Name: cluster, Subtype: "cluster"})

	for _, ns := range in.namespaces {
		n := b.namespace(ns.Name)
		n.Tags = tags(ns.ObjectMeta)
		n.CreatedAt = created(ns.ObjectMeta)
		n.Attrs = setAttr(n.Attrs, "uid", string(ns.UID))
		if ns.Status.Phase == corev1.NamespaceTerminating {
			n.Attrs["phase"] = string(ns.Status.Phase)
		}
	}
	for _, sa := range in.serviceAccounts {
		n := b.sa(sa.Namespace, sa.Name)
		delete(n.Attrs, "listed")
		n.Tags = tags(sa.ObjectMeta)
		n.CreatedAt = created(sa.ObjectMeta)
		if sa.UID != "" {
			n.Attrs["uid"] = string(sa.UID)
		}
		if sa.AutomountServiceAccountToken != nil {
			n.Attrs["automount_token"] = strconv.FormatBool(*sa.AutomountServiceAccountToken)
		}
	}
	for _, s := range in.tokenSecrets {
		b.tokenSecret(s)
	}

	rules := effectiveRules(in.clusterRoles)
	for _, cr := range in.clusterRoles {
		id := b.clusterRoleID(cr.Name)
		b.node(graph.Node{ID: id, Kind: graph.KindRole, Name: cr.Name, Tags: tags(cr.ObjectMeta),
			CreatedAt: created(cr.ObjectMeta), Attrs: map[string]string{"kind": "ClusterRole"}})
		b.grants(id, b.clusterID(), rules[cr.Name], true)
	}
	for _, r := range in.roles {
		id := b.roleID(r.Namespace, r.Name)
		b.node(graph.Node{ID: id, Kind: graph.KindRole, Name: r.Namespace + "/" + r.Name, Tags: tags(r.ObjectMeta),
			CreatedAt: created(r.ObjectMeta), Attrs: map[string]string{"kind": "Role", graph.AttrNamespace: r.Namespace}})
		b.grants(id, b.namespace(r.Namespace).ID, r.Rules, false)
	}
	for _, crb := range in.clusterRoleBindings {
		role := b.clusterRoleID(crb.RoleRef.Name)
		if _, ok := b.nodes[role]; !ok {
			b.node(graph.Node{ID: role, Kind: graph.KindRole, Name: crb.RoleRef.Name,
				Attrs: map[string]string{"kind": "ClusterRole", "listed": "false"}})
		}
		b.attach(role, "ClusterRoleBinding/"+crb.Name, "", crb.Subjects)
	}
	for _, rb := range in.roleBindings {
		var role string
		if rb.RoleRef.Kind == "ClusterRole" {
			// The ClusterRole's rules, limited to this namespace.
			role = b.prefix + "ns/" + rb.Namespace + "/clusterrole/" + rb.RoleRef.Name
			if _, ok := b.nodes[role]; !ok {
				n := b.node(graph.Node{ID: role, Kind: graph.KindRole, Name: rb.Namespace + "/" + rb.RoleRef.Name,
					Attrs: map[string]string{"kind": "ClusterRole", "cluster_role": rb.RoleRef.Name, graph.AttrNamespace: rb.Namespace}})
				if rs, ok := rules[rb.RoleRef.Name]; ok {
					b.grants(role, b.namespace(rb.Namespace).ID, rs, false)
				} else {
					n.Attrs["listed"] = "false"
				}
			}
		} else {
			role = b.roleID(rb.Namespace, rb.RoleRef.Name)
			if _, ok := b.nodes[role]; !ok {
				b.node(graph.Node{ID: role, Kind: graph.KindRole, Name: rb.Namespace + "/" + rb.RoleRef.Name,
					Attrs: map[string]string{"kind": "Role", graph.AttrNamespace: rb.Namespace, "listed": "false"}})
			}
		}
		b.attach(role, "RoleBinding/"+rb.Namespace+"/"+rb.Name, rb.Namespace, rb.Subjects)
	}
	for _, u := range usage {
		b.used(u)
	}
	b.expandGroups()

	for _, id := range slices.Sorted(maps.Keys(b.nodes)) {
		b.sg.AddNode(*b.nodes[id])
	}
	return b.sg
}

func (b *builder) clusterID() string                { return b.prefix + "cluster" }
func (b *builder) clusterRoleID(name string) string { return b.prefix + "clusterrole/" + name }
func (b *builder) roleID(ns, name string) string    { return b.prefix + "role/" + ns + "/" + name }

func (b *builder) node(n graph.Node) *graph.Node {
	if have, ok := b.nodes[n.ID]; ok {
		return have
	}
	n.Source = b.source
	b.nodes[n.ID] = &n
	return &n
}

func (b *builder) edge(e graph.Edge) {
	k := e.Key()
	if b.edges[k] {
		return
	}
	b.edges[k] = true
	b.sg.AddEdge(e)
}

func (b *builder) namespace(name string) *graph.Node {
	id := b.prefix + "ns/" + name
	if n, ok := b.nodes[id]; ok {
		return n
	}
	n := b.node(graph.Node{ID: id, Kind: graph.KindResource, Subtype: "namespace", Name: name,
		Attrs: map[string]string{graph.AttrNamespace: name}})
	b.edge(graph.Edge{From: id, To: b.clusterID(), Kind: graph.EdgeInAccount})
	return n
}

// sa returns the node of a service account, creating a stub (listed=false)
// for one known only from a binding, a secret or the audit log.
func (b *builder) sa(ns, name string) *graph.Node {
	id := b.prefix + "sa/" + ns + "/" + name
	if n, ok := b.nodes[id]; ok {
		return n
	}
	n := b.node(graph.Node{ID: id, Kind: graph.KindWorkload, Subtype: "k8s_service_account", Name: ns + "/" + name,
		Attrs: map[string]string{graph.AttrNamespace: ns, "listed": "false"}})
	b.edge(graph.Edge{From: id, To: b.clusterID(), Kind: graph.EdgeInAccount})
	b.namespace(ns)
	return n
}

func (b *builder) tokenSecret(s corev1.Secret) {
	saName := s.Annotations[corev1.ServiceAccountNameKey]
	n := b.node(graph.Node{ID: b.prefix + "secret/" + s.Namespace + "/" + s.Name, Kind: graph.KindCredential,
		Subtype: "sa_token", Name: s.Namespace + "/" + s.Name, CreatedAt: created(s.ObjectMeta),
		Attrs: map[string]string{graph.AttrNamespace: s.Namespace, "secret_type": string(s.Type)}})
	if uid := s.Annotations[corev1.ServiceAccountUIDKey]; uid != "" {
		n.Attrs["service_account_uid"] = uid
	}
	if saName == "" {
		return
	}
	n.Attrs["service_account"] = saName
	owner := b.sa(s.Namespace, saName)
	// A token whose recorded uid differs from the live account's was minted
	// for a deleted account of the same name and no longer authenticates.
	if uid, have := n.Attrs["service_account_uid"], owner.Attrs["uid"]; uid != "" && have != "" && uid != have {
		n.Status = graph.StatusDisabled
		n.Attrs["stale"] = "true"
	}
	b.edge(graph.Edge{From: owner.ID, To: n.ID, Kind: graph.EdgeHasCredential})
}

func (b *builder) grants(from, to string, rules []rbacv1.PolicyRule, clusterWide bool) {
	for _, rule := range rules {
		for _, g := range ruleGrants(rule, clusterWide) {
			if g.nonResource && !clusterWide {
				continue // non-resource URLs only mean something cluster-wide
			}
			e := graph.Edge{From: from, To: to, Kind: graph.EdgeGrants, Action: g.action, Resource: g.resource,
				Effect: graph.EffectAllow, Privilege: g.privilege}
			if g.resourceNm != "" {
				e.Attrs = map[string]string{"resource_name": g.resourceNm}
			}
			if g.nonResource {
				e.Attrs = map[string]string{"non_resource": "true"}
			}
			b.edge(e)
		}
	}
}

// attach emits role --attached_to--> subject for every subject of a
// binding. defaultNS is the binding's namespace, which a ServiceAccount
// subject without a namespace means.
func (b *builder) attach(role, via, defaultNS string, subjects []rbacv1.Subject) {
	for _, s := range subjects {
		var to string
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			ns := s.Namespace
			if ns == "" {
				ns = defaultNS
			}
			to = b.sa(ns, s.Name).ID
		case rbacv1.UserKind:
			to = b.user(s.Name)
		case rbacv1.GroupKind:
			to = b.group(s.Name)
		default:
			continue
		}
		b.edge(graph.Edge{From: role, To: to, Kind: graph.EdgeAttachedTo, Attrs: map[string]string{graph.AttrVia: via}})
	}
}

// user returns the node of a User subject. "system:serviceaccount:ns:n" is
// that service account; other "system:" users are control-plane components
// authenticating with certificates, i.e. non-human.
func (b *builder) user(name string) string {
	if rest, ok := strings.CutPrefix(name, saUserPrefix); ok {
		if ns, n, ok := strings.Cut(rest, ":"); ok {
			return b.sa(ns, n).ID
		}
	}
	kind := graph.KindUser
	attrs := map[string]string{}
	if strings.HasPrefix(name, "system:") {
		kind = graph.KindServiceAccount
		attrs["component"] = "true"
	}
	return b.node(graph.Node{ID: b.prefix + "user/" + name, Kind: kind, Name: name, Attrs: attrs}).ID
}

func (b *builder) group(name string) string {
	b.groups[name] = true
	return b.node(graph.Node{ID: b.prefix + "group/" + name, Kind: graph.KindGroup, Name: name}).ID
}

// expandGroups makes every service account a member of the well-known
// groups the API server gives it, for the groups that some binding names.
func (b *builder) expandGroups() {
	for _, id := range slices.Sorted(maps.Keys(b.nodes)) {
		n := b.nodes[id]
		if n.Subtype != "k8s_service_account" {
			continue
		}
		ns := n.Attrs[graph.AttrNamespace]
		for _, g := range []string{groupAllSAs, groupNSSAsPrefix + ns, groupAuthenticated} {
			if b.groups[g] {
				b.edge(graph.Edge{From: id, To: b.prefix + "group/" + g, Kind: graph.EdgeMemberOf})
			}
		}
	}
}

func tags(m metav1.ObjectMeta) map[string]string {
	if len(m.Labels)+len(m.Annotations) == 0 {
		return nil
	}
	out := make(map[string]string, len(m.Labels)+len(m.Annotations))
	for k, v := range m.Labels {
		out[k] = v
	}
	for k, v := range m.Annotations {
		if k == corev1.LastAppliedConfigAnnotation {
			continue // a copy of the whole object; for Secrets it would hold data
		}
		out[k] = v
	}
	return out
}

func created(m metav1.ObjectMeta) (t time.Time) {
	if m.CreationTimestamp.IsZero() {
		return t
	}
	return m.CreationTimestamp.UTC()
}

func setAttr(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	if v != "" {
		m[k] = v
	}
	return m
}
