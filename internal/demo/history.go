package demo

import (
	"slices"
	"strings"
	"time"

	"github.com/steward-oss/steward/findings/escalation"
	"github.com/steward-oss/steward/graph"
)

// HistoryAt are the times of the demo's three syncs: a baseline on Monday
// before Reference, a sync on Wednesday, and one on Sunday morning, the
// day of Reference. Questions about what changed "since yesterday" see
// the last sync's changes, "since Monday" or "this week" both syncs'.
var HistoryAt = []time.Time{
	Reference.Add(-6*24*time.Hour - 6*time.Hour), // Mon 2026-10-26 06:00 UTC
	Reference.Add(-4*24*time.Hour - 6*time.Hour), // Wed 2026-10-28 06:00 UTC
	Reference.Add(-6 * time.Hour),                // Sun 2026-11-01 06:00 UTC
}

// legacyName is the identity the first two syncs saw and the last
// two did not: a removed identity in the history.
const legacyName = "legacy-report-bot"

// History is the demo organisation as each sync of HistoryAt loaded it,
// oldest first; the last is Generate(cfg) itself. Going back from it, a
// fixed, deterministic set of differences is undone, chosen by rule so
// any size has them (the first match in id order):
//
// Found by the Sunday sync: an AWS user joins the admins group (new
// admin, grant added); an admin's long-lived key appears (new credential,
// new long-lived admin key); a direct grant opens a privilege-escalation
// path for an identity that is not admin (new escalation path, grant
// added); the owner of an identity leaves the company (owner departed,
// for every identity they alone owned).
//
// Found by the Wednesday sync: a service account appears (identity
// added, with what it holds); legacy-report-bot disappears (identity
// removed); a direct grant is added; a key of an identity that is not
// admin appears (new credential); an identity's only owner stops owning
// it (owner lost).
//
// The differences are what changes.Diff reports between these graphs;
// the changes tests pin them for the default demo.
func History(cfg Config) [][]*graph.Subgraph {
	last := Generate(cfg)
	ix := graph.Build(last)
	mid := clone(last)
	undoSunday(ix, mid)
	first := clone(mid)
	undoWednesday(graph.Build(mid), first)
	return [][]*graph.Subgraph{first, mid, last}
}

func clone(sgs []*graph.Subgraph) []*graph.Subgraph {
	out := make([]*graph.Subgraph, len(sgs))
	for i, sg := range sgs {
		c := *sg
		c.Nodes = slices.Clone(sg.Nodes)
		c.Edges = slices.Clone(sg.Edges)
		out[i] = &c
	}
	return out
}

// sortedIdentities are the identity node indexes of ix in id order.
func sortedIdentities(ix *graph.Index) []int32 {
	var out []int32
	for i, n := range ix.Nodes() {
		if n.Kind.IsIdentity() && n.Kind != graph.KindHuman {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b int32) int { return strings.Compare(ix.NodeID(a), ix.NodeID(b)) })
	return out
}

func dropEdge(sgs []*graph.Subgraph, match func(e *graph.Edge) bool) bool {
	for _, sg := range sgs {
		for j := range sg.Edges {
			if match(&sg.Edges[j]) {
				sg.Edges = slices.Delete(sg.Edges, j, j+1)
				return true
			}
		}
	}
	return false
}

// dropNode removes node id and every edge touching it.
func dropNode(sgs []*graph.Subgraph, id string) {
	for _, sg := range sgs {
		sg.Nodes = slices.DeleteFunc(sg.Nodes, func(n graph.Node) bool { return n.ID == id })
		sg.Edges = slices.DeleteFunc(sg.Edges, func(e graph.Edge) bool { return e.From == id || e.To == id })
	}
}

// dropCredential removes a credential and its has_credential edge.
func dropCredential(sgs []*graph.Subgraph, id string) { dropNode(sgs, id) }

func firstCredential(ix *graph.Index, i int32, want func(c *graph.Node) bool) string {
	for _, ei := range ix.Out(i) {
		e := ix.Edge(ei)
		if e.Kind != graph.EdgeHasCredential {
			continue
		}
		if c, ok := ix.Lookup(e.To); ok && ix.NodeStatus(c) != graph.StatusDisabled {
			if n := ix.Node(c); !want(&n) {
				continue
			}
			return e.To
		}
	}
	return ""
}

func undoSunday(ix *graph.Index, sgs []*graph.Subgraph) {
	ids := sortedIdentities(ix)
	isAdmin := func(i int32) bool { p, _ := ix.Privilege(i); return p == graph.PrivAdmin }
	// New admin: the first admins-group member whose only admin path is
	// that membership.
	for _, i := range ids {
		_, path := ix.Privilege(i)
		if !isAdmin(i) || len(path) == 0 {
			continue
		}
		if e := ix.Edge(path[0]); e.Kind == graph.EdgeMemberOf && e.From == ix.NodeID(i) && strings.HasSuffix(e.To, "group/admins") {
			from, to := e.From, e.To
			dropEdge(sgs, func(e *graph.Edge) bool { return e.Kind == graph.EdgeMemberOf && e.From == from && e.To == to })
			break
		}
	}
	// New long-lived key on an admin.
	for _, i := range ids {
		if !isAdmin(i) {
			continue
		}
		if c := firstCredential(ix, i, func(c *graph.Node) bool { return c.ExpiresAt.IsZero() }); c != "" {
			dropCredential(sgs, c)
			break
		}
	}
	// New escalation path: a non-admin whose path starts with a grant
	// of its own.
	esc := escalation.Of(ix)
	for _, i := range ids {
		if isAdmin(i) {
			continue
		}
		done := false
		for _, p := range esc.Paths(i) {
			if len(p.Evidence) == 0 {
				continue
			}
			if e := ix.Edge(p.Evidence[0]); e.Kind == graph.EdgeGrants && e.From == ix.NodeID(i) {
				g := *e
				done = dropEdge(sgs, func(e *graph.Edge) bool {
					return e.Kind == graph.EdgeGrants && e.From == g.From && e.To == g.To && e.Action == g.Action && e.Resource == g.Resource
				})
				break
			}
		}
		if done {
			break
		}
	}
	// Owner departed: the sole owner of the first orphaned identity was
	// still employed before.
	for _, i := range ids {
		owns, st := ix.Owners(i)
		if st != graph.OwnerDeparted || len(owns) != 1 {
			continue
		}
		human := ix.Edge(owns[0]).From
		for _, sg := range sgs {
			for j := range sg.Nodes {
				if n := &sg.Nodes[j]; n.ID == human {
					n.Status = graph.StatusActive
					if n.Attrs != nil {
						n.Attrs = maps(n.Attrs)
						delete(n.Attrs, "end_date")
					}
				}
			}
		}
		break
	}
}

func undoWednesday(ix *graph.Index, sgs []*graph.Subgraph) {
	ids := sortedIdentities(ix)
	isAdmin := func(i int32) bool { p, _ := ix.Privilege(i); return p == graph.PrivAdmin }
	// Identity added: the first non-admin GitHub bot.
	for _, i := range ids {
		if n := ix.Node(i); n.Kind == graph.KindBot && graph.SourceType(n.Source) == "github" && !isAdmin(i) {
			dropNode(sgs, n.ID)
			break
		}
	}
	// Identity removed: legacy-report-bot, in the first AWS account.
	for _, sg := range sgs {
		if graph.SourceType(sg.Source) == "aws" {
			sg.Nodes = append(sg.Nodes, graph.Node{ID: sg.Source + ":user/" + legacyName, Kind: graph.KindServiceAccount, Source: sg.Source,
				Name: legacyName, Status: graph.StatusActive, CreatedAt: Reference.AddDate(-3, 0, 0)})
			break
		}
	}
	// Grant added: the first non-admin service account's first direct
	// grant.
	for _, i := range ids {
		if ix.NodeKind(i) != graph.KindServiceAccount || isAdmin(i) {
			continue
		}
		done := false
		for _, ei := range ix.Out(i) {
			if e := ix.Edge(ei); e.Kind == graph.EdgeGrants {
				g := *e
				done = dropEdge(sgs, func(e *graph.Edge) bool {
					return e.Kind == graph.EdgeGrants && e.From == g.From && e.To == g.To && e.Action == g.Action && e.Resource == g.Resource
				})
				break
			}
		}
		if done {
			break
		}
	}
	// New credential on an identity that is not admin.
	for _, i := range ids {
		if isAdmin(i) || ix.NodeKind(i) != graph.KindServiceAccount {
			continue
		}
		if c := firstCredential(ix, i, func(*graph.Node) bool { return true }); c != "" {
			dropCredential(sgs, c)
			break
		}
	}
	// Owner lost: the first identity without an owner was owned before
	// by the first active person.
	var person string
	for _, n := range ix.Nodes() {
		if n.Kind == graph.KindHuman && n.Status == graph.StatusActive && (person == "" || n.ID < person) {
			person = n.ID
		}
	}
	for _, i := range ids {
		if _, st := ix.Owners(i); st != graph.OwnerAbsent || person == "" {
			continue
		}
		for _, sg := range sgs {
			if slices.ContainsFunc(sg.Edges, func(e graph.Edge) bool { return e.Kind == graph.EdgeOwns }) {
				sg.Edges = append(sg.Edges, graph.Edge{From: person, To: ix.NodeID(i), Kind: graph.EdgeOwns})
				break
			}
		}
		break
	}
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
