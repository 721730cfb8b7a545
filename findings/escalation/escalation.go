// Package escalation finds privilege-escalation paths in the graph: ways an
// identity that is not an administrator can make itself one (rewrite its
// own policy, mint a key for an admin user, pass an admin role to a new
// Lambda, mount an admin service account's token into a pod, add a secret
// to an admin service principal...). Each path names its class, the node it
// goes through and the edges that prove it: the grants that allow each step
// and the target's own path to admin.
//
// It reads only the graph's public API (nodes, edges, adjacency and the
// derived privilege), so it works on any index the connectors produced.
package escalation

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/steward-oss/steward/graph"
)

// Class is one kind of escalation path.
type Class struct {
	ID       string `json:"id"`       // "aws:CreatePolicyVersion"
	Platform string `json:"platform"` // aws, k8s, gcp, entra, github
	Title    string `json:"title"`
}

// Classes lists every class the engine looks for, by platform.
var Classes = []Class{
	{"aws:CreatePolicyVersion", "aws", "iam:CreatePolicyVersion on a policy attached to itself"},
	{"aws:SetDefaultPolicyVersion", "aws", "iam:SetDefaultPolicyVersion on a policy attached to itself"},
	{"aws:AttachUserPolicy", "aws", "iam:AttachUserPolicy on itself"},
	{"aws:AttachGroupPolicy", "aws", "iam:AttachGroupPolicy on a group it is in"},
	{"aws:AttachRolePolicy", "aws", "iam:AttachRolePolicy on a role it is or can assume"},
	{"aws:PutUserPolicy", "aws", "iam:PutUserPolicy on itself"},
	{"aws:PutGroupPolicy", "aws", "iam:PutGroupPolicy on a group it is in"},
	{"aws:PutRolePolicy", "aws", "iam:PutRolePolicy on a role it is or can assume"},
	{"aws:AddUserToGroup", "aws", "iam:AddUserToGroup into an admin group"},
	{"aws:CreateAccessKey", "aws", "iam:CreateAccessKey for an admin user"},
	{"aws:CreateLoginProfile", "aws", "iam:CreateLoginProfile for an admin user"},
	{"aws:UpdateLoginProfile", "aws", "iam:UpdateLoginProfile of an admin user"},
	{"aws:UpdateAssumeRolePolicy", "aws", "iam:UpdateAssumeRolePolicy and sts:AssumeRole on an admin role"},
	{"aws:PassRole:lambda", "aws", "iam:PassRole of an admin role to a new Lambda function it can invoke or trigger"},
	{"aws:PassRole:ec2", "aws", "iam:PassRole of an admin role to a new EC2 instance"},
	{"aws:PassRole:glue", "aws", "iam:PassRole of an admin role to a new Glue dev endpoint"},
	{"aws:PassRole:cloudformation", "aws", "iam:PassRole of an admin role to a new CloudFormation stack"},
	{"aws:PassRole:ecs", "aws", "iam:PassRole of an admin role to a new ECS task"},
	{"aws:AssumeRoleChain", "aws", "sts:AssumeRole chain ending at an admin role"},
	{"k8s:create-pods", "k8s", "create pods (or workloads) in a namespace holding an admin service account"},
	{"k8s:exec-pods", "k8s", "exec into pods of a namespace holding an admin service account"},
	{"k8s:escalate-bind", "k8s", "escalate or bind on cluster roles with rights to write bindings or roles"},
	{"k8s:impersonate", "k8s", "impersonate users, groups or service accounts"},
	{"k8s:read-secrets", "k8s", "read secrets of a namespace holding an admin service account's token"},
	{"k8s:nodes-proxy", "k8s", "nodes/proxy: the kubelet API runs commands in any pod"},
	{"gcp:actAs", "gcp", "iam.serviceAccounts.actAs on a more privileged service account"},
	{"gcp:getAccessToken", "gcp", "iam.serviceAccounts.getAccessToken on a more privileged service account"},
	{"gcp:keys.create", "gcp", "iam.serviceAccountKeys.create on a more privileged service account"},
	{"gcp:setIamPolicy", "gcp", "setIamPolicy on a project, folder, organisation or admin service account"},
	{"entra:app-role-assignment", "entra", "AppRoleAssignment.ReadWrite.All: grants itself any application permission"},
	{"entra:role-management", "entra", "RoleManagement.ReadWrite.Directory: assigns itself Global Administrator"},
	{"entra:add-secret", "entra", "adds a secret to an admin service principal it owns or administers"},
	{"github:oidc-workflow", "github", "workflow write on a repository whose OIDC cloud role is admin"},
}

// ClassByID returns the class with id.
func ClassByID(id string) (Class, bool) {
	for _, c := range Classes {
		if c.ID == id {
			return c, true
		}
	}
	return Class{}, false
}

// Path is one way Identity can become admin.
type Path struct {
	Identity int32
	Class    string
	// Target is the node the path goes through: the policy rewritten, the
	// admin user or role taken over, the namespace or service account whose
	// token is taken; -1 when the path acts on the account as a whole.
	Target int32
	// Evidence is the edges, in order: the grants allowing each step (with
	// the memberships and attachments that give them to Identity), then the
	// target's own path to admin.
	Evidence []int32
	// Conditional: a grant on the path carries conditions Steward did not
	// evaluate, so the path may not be usable.
	Conditional bool
}

// Result is every path found in one index.
type Result struct {
	ix    *graph.Index
	paths []Path
	by    map[int32][]int
}

// Of returns the escalation paths of ix, computed once per index.
func Of(ix *graph.Index) *Result {
	return ix.Memo("findings/escalation", func() any { return Analyze(ix) }).(*Result)
}

// Analyze evaluates every identity of ix. Identities that are already
// admin without escalating are skipped: every path of theirs is moot.
func Analyze(ix *graph.Index) *Result {
	a := &analyzer{ix: ix}
	var paths []Path
	for i := range int32(ix.NumNodes()) {
		kind, src := ix.NodeKind(i), ix.NodeSource(i)
		// IAM roles act as principals (a role's session is who escalates);
		// other sources' roles are permission sets.
		awsRole := kind == graph.KindRole && graph.SourceType(src) == "aws"
		if !(principalKind(kind) || awsRole) || ix.NodeStatus(i) == graph.StatusDisabled || a.directAdmin(int32(i)) {
			continue
		}
		var ps []Path
		switch graph.SourceType(src) {
		case "aws":
			ps = a.aws(int32(i))
		case "k8s":
			ps = a.k8s(int32(i))
		case "gcp":
			ps = a.gcp(int32(i))
		case "entra":
			ps = a.entra(int32(i))
		}
		ps = append(ps, a.github(int32(i))...)
		if p, ok := a.chain(int32(i)); ok {
			ps = append(ps, p)
		}
		paths = append(paths, dedupPaths(ps)...)
	}
	r := &Result{ix: ix, paths: paths, by: map[int32][]int{}}
	for k, p := range paths {
		r.by[p.Identity] = append(r.by[p.Identity], k)
	}
	return r
}

// All returns every path, by identity then class.
func (r *Result) All() []Path { return r.paths }

// Paths returns the paths of identity i.
func (r *Result) Paths(i int32) []Path {
	var out []Path
	for _, k := range r.by[i] {
		out = append(out, r.paths[k])
	}
	return out
}

// Admin reports whether identity i can become admin by escalating, with the
// evidence of its first path.
func (r *Result) Admin(i int32) (bool, []int32) {
	ks := r.by[i]
	if len(ks) == 0 {
		return false, nil
	}
	return true, r.paths[ks[0]].Evidence
}

func dedupPaths(ps []Path) []Path {
	sort.SliceStable(ps, func(i, j int) bool { return classRank(ps[i].Class) < classRank(ps[j].Class) })
	seen := map[string]bool{}
	out := ps[:0]
	for _, p := range ps {
		k := p.Class // one path per class is the evidence; more targets add nothing to "can become admin"
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	return out
}

func classRank(id string) int {
	for i, c := range Classes {
		if c.ID == id {
			return i
		}
	}
	return len(Classes)
}

func principalKind(k graph.Kind) bool {
	switch k {
	case graph.KindUser, graph.KindServiceAccount, graph.KindWorkload, graph.KindOAuthApp, graph.KindBot,
		graph.KindAIAgent, graph.KindCredential:
		return true
	}
	return false
}

type analyzer struct {
	ix    *graph.Index
	awsT  map[string]*awsTargets
	k8sSA map[string]map[string][]int32
}

// primitiveGrants are grants the connectors already rate admin because
// their holder can make itself admin with them. Holding one is an
// escalation path, not standing admin.
var primitiveGrants = map[string]bool{
	"RoleManagement.ReadWrite.Directory":      true,
	"AppRoleAssignment.ReadWrite.All":         true,
	"roles/resourcemanager.organizationAdmin": true,
	"roles/resourcemanager.folderAdmin":       true,
	"roles/resourcemanager.folderIamAdmin":    true,
	"roles/resourcemanager.projectIamAdmin":   true,
	"roles/iam.securityAdmin":                 true,
	// Rated admin by the connectors because they reach what another
	// principal holds: acting as a service account, adding a credential
	// to any application.
	"roles/iam.serviceAccountTokenCreator": true,
	"roles/iam.serviceAccountKeyAdmin":     true,
	"roles/iam.serviceAccountAdmin":        true,
	"roles/iam.serviceAccountUser":         true,
	"roles/iam.workloadIdentityUser":       true,
	"Application.ReadWrite.All":            true,
	"Application Administrator":            true,
	"Cloud Application Administrator":      true,
}

// directAdmin: i is admin through its own grants, groups and policies,
// without assuming anything and without an escalation primitive.
func (a *analyzer) directAdmin(i int32) bool {
	p, path := a.ix.Privilege(i)
	if p != graph.PrivAdmin {
		return false
	}
	for _, e := range path {
		ed := a.ix.Edge(e)
		if ed.Kind == graph.EdgeCanAssume || (ed.Kind == graph.EdgeGrants && primitive(ed)) {
			return false
		}
	}
	return true
}

// primitive: an admin-rated grant that is admin because its holder can
// escalate with it, not because it allows everything. The AWS connector
// rates IAM escalation actions on every resource of their kind admin
// (iam:PassRole on *, iam:*); only "*" on "*" is standing AWS admin.
func primitive(ed *graph.Edge) bool {
	if primitiveGrants[ed.Action] {
		return true
	}
	if graph.SourceType(ed.From) == "aws" || strings.HasPrefix(ed.From, "aws:") {
		return ed.Action != "*" && ed.Action != "*:*"
	}
	return false
}

func (a *analyzer) privPath(t int32) []int32 {
	_, path := a.ix.Privilege(t)
	return path
}

// admin reports whether node t is admin, and the path that shows it.
func (a *analyzer) admin(t int32) (bool, []int32) {
	p, path := a.ix.Privilege(t)
	return p == graph.PrivAdmin, path
}

// chain: i can assume (directly or through a chain of roles and
// identities) something that is admin. The walk is its own rather than the
// derived privilege's, because a connector that evaluated a principal
// exactly caps that at the principal's own policies. The class is the
// platform's assume mechanism, named by the first hop.
func (a *analyzer) chain(i int32) (Path, bool) {
	type step struct {
		node int32
		path []int32
	}
	seen := map[int32]bool{i: true}
	q := []step{{i, nil}}
	for len(q) > 0 {
		s := q[0]
		q = q[1:]
		if len(s.path) >= maxChain {
			continue
		}
		for _, e := range a.ix.Out(s.node) {
			ed := a.ix.Edge(e)
			if ed.Kind != graph.EdgeCanAssume || strings.HasPrefix(ed.Attrs[graph.AttrVia], "GitHub Actions OIDC") {
				continue // the github class covers OIDC, with the write grant it needs
			}
			t, ok := a.ix.Lookup(ed.To)
			if !ok || seen[t] {
				continue
			}
			seen[t] = true
			path := append(append([]int32(nil), s.path...), e)
			if adm, tp := a.admin(t); adm {
				first := a.ix.Edge(path[0])
				var class string
				switch graph.SourceType(a.ix.NodeSource(i)) {
				case "aws":
					class = "aws:AssumeRoleChain"
				case "gcp":
					class = gcpAssumeClass(first.Attrs[graph.AttrVia])
				default:
					return Path{}, false
				}
				cond := false
				for _, pe := range path {
					cond = cond || a.ix.Edge(pe).Conditional
				}
				return Path{Identity: i, Class: class, Target: t, Evidence: append(path, tp...), Conditional: cond}, true
			}
			q = append(q, step{t, path})
		}
	}
	return Path{}, false
}

// maxChain bounds assume chains; real ones are a few hops.
const maxChain = 6

// memberships returns i and every group it is a member of (transitively),
// each with the member_of edges that lead there.
func (a *analyzer) memberships(i int32) ([]int32, map[int32][]int32) {
	via := map[int32][]int32{i: nil}
	order := []int32{i}
	for q := 0; q < len(order) && q < 256; q++ {
		n := order[q]
		for _, e := range a.ix.Out(n) {
			ed := a.ix.Edge(e)
			if ed.Kind != graph.EdgeMemberOf {
				continue
			}
			t, ok := a.ix.Lookup(ed.To)
			if !ok {
				continue
			}
			if _, seen := via[t]; seen {
				continue
			}
			via[t] = append(append([]int32(nil), via[n]...), e)
			order = append(order, t)
		}
	}
	return order, via
}

// sortedKeys returns the keys of m in ascending order.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}
