// Package usage compares what identities may do with what they were seen
// doing. UnusedPermissions turns the gap into a least-privilege IAM policy
// an analyst can paste back; Anomalies flags a credential used from a
// source address or client it was never seen with before its latest day.
//
// Both are pure functions over loaded subgraphs: grants edges (as the aws
// connector emits them) say what is allowed, used edges (as the
// cloudtrail connector emits them) say what happened.
package usage

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/glob"
)

// Edge attributes read here. They match the names connectors/cloudtrail
// and connectors/aws write (a test checks that).
const (
	attrSourceIPs  = "source_ips"  // JSON {ip: first seen RFC 3339}
	attrUserAgents = "user_agents" // JSON {user agent: first seen RFC 3339}
	attrFirstSeen  = "first_seen"
	attrCount      = "count"
	attrDenied     = "denied_count"
	attrCondition  = "condition" // JSON IAM Condition block on a grant
	notActionPref  = "NotAction:"
	notResPref     = "NotResource:"
)

// ErrNotFound is returned when the identity is in none of the subgraphs.
var ErrNotFound = errors.New("usage: identity not found")

// Grant is one allow grant that applies to the identity.
type Grant struct {
	From        string `json:"from"` // the principal, group or policy holding it
	Action      string `json:"action"`
	Resource    string `json:"resource"`
	Conditional bool   `json:"conditional,omitempty"`
	Used        bool   `json:"used"`
}

// Report is the outcome of UnusedPermissions.
type Report struct {
	Identity string    `json:"identity"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Granted  []Grant   `json:"granted"`
	// Used lists the actions seen in the window that a grant covers;
	// UsedNotGranted those no grant of the identity covers (they were
	// allowed some other way, such as a resource policy or an assumed
	// role, which this report does not follow).
	Used []string `json:"used"`
	// LastUsed is the latest use in the window of each action in Used.
	LastUsed       map[string]time.Time `json:"last_used,omitempty"`
	UsedNotGranted []string             `json:"used_not_granted,omitempty"`
	// Unused lists the granted action patterns nothing used.
	Unused []string `json:"unused"`
	// Policy is an IAM policy document allowing only what was used, on
	// the resources (and under the conditions) the covering grants name.
	// It is empty when nothing was used: then the least privilege is no
	// permission at all, and detaching is the fix.
	Policy string `json:"policy,omitempty"`
	// Role is the same for Kubernetes use: a ClusterRole whose rules
	// allow only the verbs and resources used.
	Role string `json:"role,omitempty"`
}

// UnusedPermissions returns the allow grants reachable from identityID
// (its own, its groups' transitively, those of the roles it can assume,
// and those of policies attached to any of them: the same walk as "what
// can X access") minus the actions it or its credentials used in
// [now-window, now]. Grants whose evaluated privilege is none (fully
// denied) are left out; Deny grants stay where they are and are not part
// of the result. A used edge names its action in Edge.Action or in the
// "action" attribute; Kubernetes use (verb and resource) is matched
// against RBAC grants (verbs, resource) and the tighter policy is then a
// Kubernetes Role rather than an IAM document.
func UnusedPermissions(sgs []*graph.Subgraph, identityID string, window time.Duration, now time.Time) (*Report, error) {
	if window <= 0 {
		return nil, fmt.Errorf("usage: window %v must be positive", window)
	}
	ix := index(sgs)
	if !ix.nodes[identityID] {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, identityID)
	}
	kube := ix.kube(identityID)
	holders := ix.holders(identityID)
	from := now.Add(-window)
	rep := &Report{Identity: identityID, From: from, To: now, Used: []string{}, Unused: []string{}, Granted: []Grant{}}
	var grants []graph.Edge
	seenGrant := map[string]bool{}
	for h := range holders {
		for _, e := range ix.out[h] {
			if e.Kind == graph.EdgeGrants && e.Effect == graph.EffectAllow && e.Privilege != graph.PrivNone && !seenGrant[e.Key()] {
				seenGrant[e.Key()] = true
				grants = append(grants, e)
			}
		}
	}
	sort.Slice(grants, func(i, j int) bool { return grants[i].Key() < grants[j].Key() })
	gkube := make([]bool, len(grants))
	for gi, g := range grants {
		gkube[gi] = ix.kube(g.From)
	}

	actors := map[string]bool{identityID: true}
	for _, e := range ix.out[identityID] {
		if e.Kind == graph.EdgeHasCredential {
			actors[e.To] = true
		}
	}
	uses := map[string]use{}
	last := map[string]time.Time{}
	for a := range actors {
		for _, e := range ix.out[a] {
			if e.Kind != graph.EdgeUsed || e.LastSeen.Before(from) || e.LastSeen.After(now) || onlyDenied(e) {
				continue
			}
			u, ok := useOf(e, kube)
			if !ok {
				continue
			}
			k := u.label + "\x00" + u.to
			uses[k] = u
			if e.LastSeen.After(last[u.label]) {
				last[u.label] = e.LastSeen
			}
		}
	}
	useKeys := make([]string, 0, len(uses))
	for k := range uses {
		useKeys = append(useKeys, k)
	}
	sort.Strings(useKeys)

	type stmtKey struct{ resources, condition string }
	stmts := map[stmtKey]map[string]bool{}
	rules := map[string]map[string]bool{} // k8s resource -> verbs
	usedLabels, notGranted := map[string]bool{}, map[string]bool{}
	grantUsed := make([]bool, len(grants))
	for _, k := range useKeys {
		u := uses[k]
		var covering []int
		for gi, g := range grants {
			if covers(g, gkube[gi], u) {
				covering = append(covering, gi)
			}
		}
		if len(covering) == 0 {
			notGranted[u.label] = true
			continue
		}
		usedLabels[u.label] = true
		// Keep the grants on the very resource used when some name it:
		// a put into one bucket does not justify puts into every bucket
		// another grant allows.
		var onTarget []int
		for _, gi := range covering {
			if grants[gi].To == u.to {
				onTarget = append(onTarget, gi)
			}
		}
		if len(onTarget) > 0 {
			covering = onTarget
		}
		for _, gi := range covering {
			grantUsed[gi] = true
			g := grants[gi]
			if u.resource != "" {
				if rules[u.resource] == nil {
					rules[u.resource] = map[string]bool{}
				}
				rules[u.resource][u.verb] = true
				continue
			}
			sk := stmtKey{resources: g.Resource, condition: g.Attrs[attrCondition]}
			if stmts[sk] == nil {
				stmts[sk] = map[string]bool{}
			}
			stmts[sk][u.label] = true
		}
	}
	rep.Used = append(rep.Used, sortedSet(usedLabels)...)
	for _, a := range rep.Used {
		if rep.LastUsed == nil {
			rep.LastUsed = map[string]time.Time{}
		}
		rep.LastUsed[a] = last[a]
	}
	if len(notGranted) > 0 {
		rep.UsedNotGranted = sortedSet(notGranted)
	}
	unused := map[string]bool{}
	for gi, g := range grants {
		gr := Grant{From: g.From, Action: grantLabel(g, gkube[gi]), Resource: g.Resource, Conditional: g.Conditional}
		// A grant is used when some use it covers was seen, even where the
		// tighter policy keeps another grant on the very resource.
		for _, k := range useKeys {
			if covers(g, gkube[gi], uses[k]) {
				gr.Used = true
				break
			}
		}
		gr.Used = gr.Used || grantUsed[gi]
		if !gr.Used {
			unused[gr.Action] = true
		}
		rep.Granted = append(rep.Granted, gr)
	}
	// A pattern some other grant put to use is not unused.
	for _, g := range rep.Granted {
		if g.Used {
			delete(unused, g.Action)
		}
	}
	rep.Unused = append(rep.Unused, sortedSet(unused)...)

	if len(rules) > 0 {
		b, err := json.MarshalIndent(kubeRole(identityID, rules), "", "  ")
		if err != nil {
			return nil, fmt.Errorf("usage: render role: %w", err)
		}
		rep.Role = string(b)
	}
	if len(stmts) > 0 {
		keys := make([]stmtKey, 0, len(stmts))
		for k := range stmts {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].resources != keys[j].resources {
				return keys[i].resources < keys[j].resources
			}
			return keys[i].condition < keys[j].condition
		})
		doc := policyDoc{Version: "2012-10-17"}
		for i, k := range keys {
			st := statement{Sid: "UsedInWindow" + strconv.Itoa(i+1), Effect: "Allow", Action: sortedSet(stmts[k])}
			if r, ok := strings.CutPrefix(k.resources, notResPref); ok {
				st.NotResource = strings.Split(r, ",")
			} else {
				st.Resource = []string{k.resources}
			}
			if k.condition != "" {
				st.Condition = json.RawMessage(k.condition)
			}
			doc.Statement = append(doc.Statement, st)
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("usage: render policy: %w", err)
		}
		rep.Policy = string(b)
	}
	return rep, nil
}

// use is one recorded action. Kubernetes use carries a verb and an API
// resource ("get", "apps/deployments"); cloud API use carries only an
// action ("s3:PutObject").
type use struct {
	label    string // what reports show: the action, or "verb resource"
	verb     string
	resource string
	to       string // the node used
}

func useOf(e graph.Edge, kube bool) (use, bool) {
	verb, res := e.Action, e.Resource
	a := e.Action
	if a == "" {
		a = e.Attrs[graph.AttrUsedAction]
	}
	if kube && res == "" {
		// Only the attribute: "get secrets" (connectors/k8s) or
		// "secrets:get" (resource:verb, as the demo writes it).
		if v, r, ok := strings.Cut(a, " "); ok {
			verb, res = v, r
		} else if r, v, ok := strings.Cut(a, ":"); ok {
			verb, res = v, r
		}
	}
	if res != "" && verb != "" {
		return use{label: verb + " " + res, verb: verb, resource: res, to: e.To}, true
	}
	if a == "" {
		return use{}, false
	}
	return use{label: a, to: e.To}, true
}

// grantLabel is how a grant's action pattern is listed: Kubernetes grants
// name verbs and a resource, IAM grants an action pattern.
func grantLabel(g graph.Edge, kube bool) string {
	if kube {
		return g.Action + " " + g.Resource
	}
	return g.Action
}

// covers reports whether grant g allows use u. kube says g is an RBAC
// grant (verbs on API resources), which only Kubernetes use can match.
func covers(g graph.Edge, kube bool, u use) bool {
	if u.resource == "" || !kube {
		return u.resource == "" && !kube && actionMatches(g.Action, u.label)
	}
	verbOK := false
	for _, v := range strings.Split(g.Action, ",") {
		if v == "*" || strings.EqualFold(v, u.verb) {
			verbOK = true
			break
		}
	}
	if !verbOK {
		return false
	}
	res := g.Resource
	if n := g.Attrs["resource_name"]; n != "" {
		res = strings.TrimSuffix(res, "/"+n)
	}
	for _, res := range strings.Split(res, ",") {
		if res == "*" || res == u.resource {
			return true
		}
		if r, ok := strings.CutPrefix(res, "*/"); ok { // every API group
			if _, ures := splitGroup(u.resource); r == "*" || r == ures {
				return true
			}
			continue
		}
		// Kubernetes RBAC compares resource names exactly.
		if glob.Match(res, u.resource, false) {
			return true
		}
	}
	return false
}

// knownGroups are the API groups without a dot in their name, so that
// "apps/deployments" is read as group apps and "pods/log" as the log
// subresource of core pods.
var knownGroups = map[string]bool{"apps": true, "batch": true, "autoscaling": true, "policy": true, "extensions": true}

func splitGroup(res string) (group, rest string) {
	g, r, ok := strings.Cut(res, "/")
	if ok && (strings.Contains(g, ".") || knownGroups[g]) {
		return g, r
	}
	return "", res
}

type kubeRule struct {
	APIGroups       []string `json:"apiGroups,omitempty"`
	Resources       []string `json:"resources,omitempty"`
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
	Verbs           []string `json:"verbs"`
}

type kubeRoleDoc struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   map[string]string `json:"metadata"`
	Rules      []kubeRule        `json:"rules"`
}

// kubeRole renders the used (resource, verbs) pairs as a ClusterRole an
// operator can apply and bind instead of the broader roles.
func kubeRole(identityID string, rules map[string]map[string]bool) kubeRoleDoc {
	name := identityID
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	doc := kubeRoleDoc{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole",
		Metadata: map[string]string{"name": name + "-least-privilege"}}
	for _, res := range sortedSet(toSet(rules)) {
		verbs := sortedSet(rules[res])
		if u, ok := strings.CutPrefix(res, "nonResourceURL:"); ok {
			doc.Rules = append(doc.Rules, kubeRule{NonResourceURLs: []string{u}, Verbs: verbs})
			continue
		}
		g, r := splitGroup(res)
		doc.Rules = append(doc.Rules, kubeRule{APIGroups: []string{g}, Resources: []string{r}, Verbs: verbs})
	}
	return doc
}

func toSet(m map[string]map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

type policyDoc struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid         string          `json:"Sid"`
	Effect      string          `json:"Effect"`
	Action      []string        `json:"Action"`
	Resource    []string        `json:"Resource,omitempty"`
	NotResource []string        `json:"NotResource,omitempty"`
	Condition   json.RawMessage `json:"Condition,omitempty"`
}

// onlyDenied reports whether every call an aggregated used edge counts
// failed, so it shows no permission in use.
func onlyDenied(e graph.Edge) bool {
	c, err1 := strconv.Atoi(e.Attrs[attrCount])
	d, err2 := strconv.Atoi(e.Attrs[attrDenied])
	return err1 == nil && err2 == nil && d >= c
}

// actionMatches reports whether a grant's action pattern covers a used
// action. "NotAction:a,b" grants everything those patterns do not match.
func actionMatches(pattern, action string) bool {
	if rest, ok := strings.CutPrefix(pattern, notActionPref); ok {
		for _, p := range strings.Split(rest, ",") {
			if glob.Match(p, action, true) {
				return false
			}
		}
		return true
	}
	if pattern == "*:*" {
		pattern = "*"
	}
	return glob.Match(pattern, action, true) // IAM actions ignore case
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// graphIndex is the adjacency of all subgraphs together.
type graphIndex struct {
	nodes  map[string]bool
	source map[string]string
	out    map[string][]graph.Edge
	in     map[string][]graph.Edge
}

func index(sgs []*graph.Subgraph) *graphIndex {
	ix := &graphIndex{nodes: map[string]bool{}, source: map[string]string{}, out: map[string][]graph.Edge{}, in: map[string][]graph.Edge{}}
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			ix.nodes[n.ID] = true
			if n.Source != "" {
				ix.source[n.ID] = n.Source
			} else {
				ix.source[n.ID] = sg.Source
			}
		}
		for _, e := range sg.Edges {
			ix.out[e.From] = append(ix.out[e.From], e)
			ix.in[e.To] = append(ix.in[e.To], e)
		}
	}
	return ix
}

// kube reports whether node id comes from a Kubernetes source, whose
// grants and use name verbs and API resources.
func (ix *graphIndex) kube(id string) bool { return graph.SourceType(ix.source[id]) == "k8s" }

// holders returns the identity, its groups and the roles it can assume
// (transitively) and the policies attached to any of them: every node
// whose grants apply.
func (ix *graphIndex) holders(id string) map[string]bool {
	hs := map[string]bool{id: true}
	queue := []string{id}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, e := range ix.out[cur] {
			if (e.Kind == graph.EdgeMemberOf || e.Kind == graph.EdgeCanAssume) && !hs[e.To] {
				hs[e.To] = true
				queue = append(queue, e.To)
			}
		}
	}
	for h := range hs {
		for _, e := range ix.in[h] {
			if e.Kind == graph.EdgeAttachedTo {
				hs[e.From] = true
			}
		}
	}
	return hs
}
