// Package oracle answers Steward's core questions by brute force over
// plain subgraph slices, with no index and none of the query package's
// code. Tests compare the planner+executor against it (an independent
// computation), and benchmarks use it as the "plain Go scan" baseline.
//
// It follows the semantics of the core issue literally: admin is the
// fixpoint "has an admin allow-grant, directly, through an attached policy,
// or through any group or role it is a member of or can assume", that walk
// bounded at the index's PrivDepth hops; idle N days is "no use in the
// last N days and created more than N days ago".
package oracle

import (
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
)

// Graph is the flattened input.
type Graph struct {
	Nodes map[string]*graph.Node
	Edges []graph.Edge
}

// New flattens sgs; the first source to name a node wins, as in the index.
func New(sgs []*graph.Subgraph) *Graph {
	g := &Graph{Nodes: map[string]*graph.Node{}}
	for _, sg := range sgs {
		for i := range sg.Nodes {
			if _, ok := g.Nodes[sg.Nodes[i].ID]; !ok {
				g.Nodes[sg.Nodes[i].ID] = &sg.Nodes[i]
			}
		}
		g.Edges = append(g.Edges, sg.Edges...)
	}
	return g
}

var nhiKinds = map[graph.Kind]bool{graph.KindServiceAccount: true, graph.KindOAuthApp: true, graph.KindBot: true, graph.KindAIAgent: true, graph.KindWorkload: true}

func isScanner(n *graph.Node) bool {
	t := n.Source
	if i := strings.IndexByte(t, ':'); i >= 0 {
		t = t[:i]
	}
	return t == "gitleaks" || t == "trufflehog"
}

// Identities are the default selection: NHI kinds, no scanner findings.
func (g *Graph) Identities() []*graph.Node {
	var out []*graph.Node
	for _, n := range g.Nodes {
		if nhiKinds[n.Kind] && !isScanner(n) {
			out = append(out, n)
		}
	}
	return out
}

func rank(p graph.Privilege) int {
	return map[graph.Privilege]int{"": 0, "none": 0, "read": 1, "write": 2, "admin": 3}[p]
}

// grantRank mirrors the documented rule: the connector's privilege, else
// "*" on "*" is admin; deny never raises.
func grantRank(e *graph.Edge) int {
	if e.Effect == graph.EffectDeny {
		return 0
	}
	if e.Privilege != "" {
		return rank(e.Privilege)
	}
	return rank(graph.ClassifyAction(e.Action, e.Resource))
}

// PrivDepth is how many member_of / can_assume hops privilege flows
// through: the index's bound (graph's maxPrivDepth), which
// TestPrivDepthMatchesIndex holds the two to.
const PrivDepth = 12

// Privileges computes every node's privilege rank by iterating the
// membership and assumption edges, at most PrivDepth hops deep.
func (g *Graph) Privileges() map[string]int {
	direct := map[string]int{}
	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Kind == graph.EdgeGrants {
			if r := grantRank(e); r > direct[e.From] {
				direct[e.From] = r
			}
		}
	}
	own := map[string]int{}
	for id := range g.Nodes {
		own[id] = direct[id]
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Kind == graph.EdgeAttachedTo {
			if _, ok := g.Nodes[e.From]; ok && direct[e.From] > own[e.To] {
				own[e.To] = direct[e.From]
			}
		}
	}
	// Round k gives each node the best own privilege within k hops of
	// member_of / can_assume; the rounds stop at PrivDepth, where the
	// index's walk stops, or earlier when nothing changes.
	priv := map[string]int{}
	for id, r := range own {
		priv[id] = r
	}
	for round, changed := 0, true; round < PrivDepth && changed; round++ {
		changed = false
		next := make(map[string]int, len(priv))
		for id, r := range priv {
			next[id] = r
		}
		for i := range g.Edges {
			e := &g.Edges[i]
			if e.Kind != graph.EdgeMemberOf && e.Kind != graph.EdgeCanAssume {
				continue
			}
			if _, ok := g.Nodes[e.To]; !ok {
				continue
			}
			if _, ok := g.Nodes[e.From]; !ok {
				continue
			}
			if priv[e.To] > next[e.From] {
				next[e.From] = priv[e.To]
				changed = true
			}
		}
		priv = next
	}
	for id, n := range g.Nodes {
		if eff, ok := n.Attrs["effective_privilege"]; ok && rank(graph.Privilege(eff)) < priv[id] {
			priv[id] = rank(graph.Privilege(eff))
		}
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Kind == graph.EdgeHasCredential {
			if c, ok := g.Nodes[e.To]; ok && c.Kind == graph.KindCredential && priv[e.From] > priv[e.To] {
				priv[e.To] = priv[e.From]
			}
		}
	}
	return priv
}

// LastUse is each node's latest use: its own last_used_at, its used edges,
// and for identities their credentials' use.
func (g *Graph) LastUse() map[string]time.Time {
	last := map[string]time.Time{}
	for id, n := range g.Nodes {
		last[id] = n.LastUsedAt
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Kind == graph.EdgeUsed && e.LastSeen.After(last[e.From]) {
			if _, ok := g.Nodes[e.From]; ok {
				last[e.From] = e.LastSeen
			}
		}
	}
	credLast := map[string]time.Time{}
	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Kind == graph.EdgeHasCredential {
			if t := last[e.To]; t.After(credLast[e.From]) {
				credLast[e.From] = t
			}
		}
	}
	for id, t := range credLast {
		if n, ok := g.Nodes[id]; ok && n.Kind.IsIdentity() && t.After(last[id]) {
			last[id] = t
		}
	}
	return last
}

// Idle reports the idle rule for n.
func Idle(n *graph.Node, last time.Time, now time.Time, days float64) bool {
	cut := now.Add(-time.Duration(days * 24 * float64(time.Hour)))
	if !last.IsZero() && last.After(cut) {
		return false
	}
	return n.CreatedAt.IsZero() || !n.CreatedAt.After(cut)
}

// OwnerStatus is "present", "departed" or "absent" per node: owns edges
// from known humans; a credential without owners takes its holder's.
func (g *Graph) OwnerStatus() map[string]string {
	owners := map[string][]*graph.Node{}
	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Kind == graph.EdgeOwns {
			if h, ok := g.Nodes[e.From]; ok && h.Kind == graph.KindHuman {
				owners[e.To] = append(owners[e.To], h)
			}
		}
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Kind == graph.EdgeHasCredential {
			if c, ok := g.Nodes[e.To]; ok && c.Kind == graph.KindCredential && len(owners[e.To]) == 0 && len(owners[e.From]) > 0 {
				owners[e.To] = owners[e.From]
			}
		}
	}
	out := map[string]string{}
	for id := range g.Nodes {
		st := "absent"
		for _, h := range owners[id] {
			if h.Status == graph.StatusDeparted {
				if st == "absent" {
					st = "departed"
				}
			} else {
				st = "present"
			}
		}
		out[id] = st
	}
	return out
}

func ids(ns []*graph.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	sort.Strings(out)
	return out
}

// AdminsIdle: identities with admin privilege idle for days.
func (g *Graph) AdminsIdle(now time.Time, days float64) []string {
	priv, last := g.Privileges(), g.LastUse()
	var out []*graph.Node
	for _, n := range g.Identities() {
		if priv[n.ID] == 3 && Idle(n, last[n.ID], now, days) {
			out = append(out, n)
		}
	}
	return ids(out)
}

// WithOwnerStatus: nodes of kinds (nil = default identities) with status.
func (g *Graph) WithOwnerStatus(kinds []graph.Kind, status string) []string {
	os := g.OwnerStatus()
	var out []*graph.Node
	for _, n := range g.selectKinds(kinds) {
		if os[n.ID] == status {
			out = append(out, n)
		}
	}
	return ids(out)
}

func (g *Graph) selectKinds(kinds []graph.Kind) []*graph.Node {
	if kinds == nil {
		return g.Identities()
	}
	want := map[graph.Kind]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	var out []*graph.Node
	for _, n := range g.Nodes {
		if want[n.Kind] && !isScanner(n) {
			out = append(out, n)
		}
	}
	return out
}

// CredentialsOlderThan: credentials created at least days ago.
func (g *Graph) CredentialsOlderThan(now time.Time, days float64) []string {
	cut := now.Add(-time.Duration(days * 24 * float64(time.Hour)))
	var out []*graph.Node
	for _, n := range g.selectKinds([]graph.Kind{graph.KindCredential}) {
		if !n.CreatedAt.IsZero() && !n.CreatedAt.After(cut) {
			out = append(out, n)
		}
	}
	return ids(out)
}

// CredentialsExpiringWithin: credentials expiring between now and now+days.
func (g *Graph) CredentialsExpiringWithin(now time.Time, days float64) []string {
	end := now.Add(time.Duration(days * 24 * float64(time.Hour)))
	var out []*graph.Node
	for _, n := range g.selectKinds([]graph.Kind{graph.KindCredential}) {
		if !n.ExpiresAt.IsZero() && !n.ExpiresAt.Before(now) && !n.ExpiresAt.After(end) {
			out = append(out, n)
		}
	}
	return ids(out)
}

// CountBySourceType counts default identities per source type.
func (g *Graph) CountBySourceType() map[string]int {
	out := map[string]int{}
	for _, n := range g.Identities() {
		t := n.Source
		if i := strings.IndexByte(t, ':'); i >= 0 {
			t = t[:i]
		}
		out[t]++
	}
	return out
}

// Reach lists the grant edges (as "from|action|resource|to") that id
// reaches through membership, assumption and attached policies, within
// depth hops.
func (g *Graph) Reach(id string, depth int) []string {
	out := map[string]bool{}
	frontier := map[string]bool{id: true}
	seen := map[string]bool{id: true}
	for d := 0; ; d++ {
		for n := range frontier {
			for i := range g.Edges {
				e := &g.Edges[i]
				if e.Kind == graph.EdgeGrants && e.From == n {
					out[e.From+"|"+e.Action+"|"+e.Resource+"|"+e.To] = true
				}
			}
		}
		if d == depth {
			break
		}
		next := map[string]bool{}
		for i := range g.Edges {
			e := &g.Edges[i]
			var t string
			switch {
			case (e.Kind == graph.EdgeMemberOf || e.Kind == graph.EdgeCanAssume) && frontier[e.From]:
				t = e.To
			case e.Kind == graph.EdgeAttachedTo && frontier[e.To]:
				t = e.From
			default:
				continue
			}
			if _, ok := g.Nodes[t]; ok && !seen[t] {
				seen[t] = true
				next[t] = true
			}
		}
		if len(next) == 0 {
			break
		}
		frontier = next
	}
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
