package graph

import (
	"sort"
	"strings"
	"time"
)

// OwnerStatus is the derived ownership state of an identity.
type OwnerStatus string

// Owner states.
const (
	OwnerPresent  OwnerStatus = "present"  // at least one active human owns it
	OwnerDeparted OwnerStatus = "departed" // owned, but every owner has left: orphaned
	OwnerAbsent   OwnerStatus = "absent"   // nobody owns it
)

// maxPrivDepth bounds the walk through groups and assumable roles when
// deriving privilege; real directories nest a handful of levels.
const maxPrivDepth = 12

// Index is the in-memory, read-only form of the whole graph that questions
// run on. It is built from the stored subgraphs (the cayley store is the
// record) and rebuilt whenever a source is replaced; the cayley store
// answers 2-hop queries ~100× slower on bolt, so questions never touch it.
//
// Derived facts are computed once in Build, each with the edges that
// justify it, so every answer carries its evidence.
type Index struct {
	nodes  []Node // built nodes; see NumNodes and Node for reads
	byKind map[Kind][]int32
	// Sources lists the subgraph sources the index was built from.
	Sources []string

	// An index is either built (Build: the slices below) or opened from a
	// snapshot (snap: edges, adjacency and derived facts read in place).
	snap   *snapData
	nedges int

	edges []Edge
	// from and to are each edge's end nodes (-1 when unknown), so walks
	// follow edges by number instead of looking ids up.
	from, to []int32

	ids map[string]int32
	out [][]int32 // node -> edge indices leaving it
	in  [][]int32 // node -> edge indices entering it

	// Derived, per node.
	priv      []Privilege
	privPath  [][]int32 // edges from the node to its strongest grant
	owners    [][]int32 // owns edges that name an existing human
	ownerStat []OwnerStatus
	lastUsed  []time.Time
	lastEdge  []int32 // used edge behind lastUsed, -1 if from the node itself
	leaks     [][]int32

	memo memoTable // see Memo
}

// Build indexes the subgraphs and derives privilege, ownership, last use and
// leak matches. Edges whose ends are unknown are kept for export but ignored
// by traversals.
func Build(sgs []*Subgraph) *Index {
	ix := &Index{ids: make(map[string]int32)}
	nn, ne := 0, 0
	for _, sg := range sgs {
		nn += len(sg.Nodes)
		ne += len(sg.Edges)
		ix.Sources = append(ix.Sources, sg.Source)
	}
	sort.Strings(ix.Sources)
	ix.nodes = make([]Node, 0, nn)
	ix.edges = make([]Edge, 0, ne)
	ix.from = make([]int32, 0, ne)
	ix.to = make([]int32, 0, ne)
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			if _, dup := ix.ids[n.ID]; dup {
				// Two sources describing one node: the first wins; the
				// second source's edges still attach to it.
				continue
			}
			ix.ids[n.ID] = int32(len(ix.nodes))
			ix.nodes = append(ix.nodes, n)
		}
	}
	ix.out = make([][]int32, len(ix.nodes))
	ix.in = make([][]int32, len(ix.nodes))
	for _, sg := range sgs {
		for _, e := range sg.Edges {
			ei := int32(len(ix.edges))
			ix.edges = append(ix.edges, e)
			f, t := int32(-1), int32(-1)
			if i, ok := ix.ids[e.From]; ok {
				f = i
				ix.out[f] = append(ix.out[f], ei)
			}
			if i, ok := ix.ids[e.To]; ok {
				t = i
				ix.in[t] = append(ix.in[t], ei)
			}
			ix.from, ix.to = append(ix.from, f), append(ix.to, t)
		}
	}
	ix.derivePrivilege()
	ix.deriveOwners()
	ix.deriveLastUse()
	ix.deriveLeaks()
	ix.byKind = kindLists(len(ix.nodes), func(i int32) Kind { return ix.nodes[i].Kind })
	ix.nedges = len(ix.edges)
	return ix
}

// end is an edge end from the from/to columns, with whether it is known.
func (ix *Index) end(n int32) (int32, bool) { return n, n >= 0 }

// NumEdges is the number of edges; edge indices run from 0 to NumEdges-1.
func (ix *Index) NumEdges() int { return ix.nedges }

// Edge returns edge ei. The edge is shared: callers must not modify it.
func (ix *Index) Edge(ei int32) *Edge {
	if ix.snap != nil {
		return ix.snap.edge(ei)
	}
	return &ix.edges[ei]
}

// EdgeKind is Edge(ei).Kind without decoding the whole edge.
func (ix *Index) EdgeKind(ei int32) EdgeKind {
	if s := ix.snap; s != nil {
		return EdgeKind(s.str(s.edges[int(ei)*edgeCols+2]))
	}
	return ix.edges[ei].Kind
}

// EdgeFrom is the node Edge(ei).From names, -1 when no node has that id.
func (ix *Index) EdgeFrom(ei int32) int32 {
	if s := ix.snap; s != nil {
		return s.from[ei]
	}
	return ix.from[ei]
}

// EdgeTo is the node Edge(ei).To names, -1 when no node has that id.
func (ix *Index) EdgeTo(ei int32) int32 {
	if s := ix.snap; s != nil {
		return s.to[ei]
	}
	return ix.to[ei]
}

// Lookup returns the position of the node with id.
func (ix *Index) Lookup(id string) (int32, bool) {
	if ix.snap != nil {
		return ix.snap.lookup(id)
	}
	i, ok := ix.ids[id]
	return i, ok
}

// Out returns the indices of edges leaving node i.
func (ix *Index) Out(i int32) []int32 {
	if s := ix.snap; s != nil {
		return csr(s.outOff, s.out, i)
	}
	return ix.out[i]
}

// In returns the indices of edges entering node i.
func (ix *Index) In(i int32) []int32 {
	if s := ix.snap; s != nil {
		return csr(s.inOff, s.in, i)
	}
	return ix.in[i]
}

// Privilege is the derived privilege of node i and the edges that justify
// it (empty for none).
func (ix *Index) Privilege(i int32) (Privilege, []int32) {
	if s := ix.snap; s != nil {
		return Privilege(s.str(s.priv[i])), csr(s.ppOff, s.pp, i)
	}
	return ix.priv[i], ix.privPath[i]
}

// Owners returns the owns edges naming a known human, and the owner status.
func (ix *Index) Owners(i int32) ([]int32, OwnerStatus) {
	if s := ix.snap; s != nil {
		return csr(s.ownOff, s.own, i), OwnerStatus(s.str(s.ownStat[i]))
	}
	return ix.owners[i], ix.ownerStat[i]
}

// LastUsed returns the latest recorded use of node i (zero if never used)
// and the used edge behind it (-1 when it came from the node's own
// last_used_at or has no edge).
func (ix *Index) LastUsed(i int32) (time.Time, int32) {
	if s := ix.snap; s != nil {
		return snapTime(s.lastSec[i], s.lastNsec[i]), s.lastEdge[i]
	}
	return ix.lastUsed[i], ix.lastEdge[i]
}

// Leaks returns the leaked_in edges whose finding matches credential i.
func (ix *Index) Leaks(i int32) []int32 {
	if s := ix.snap; s != nil {
		return csr(s.leakOff, s.leak, i)
	}
	return ix.leaks[i]
}

// GrantPrivilege is the privilege of one grants edge: the connector's when
// set, otherwise classified from the action and resource patterns.
func GrantPrivilege(e *Edge) Privilege {
	if e.Effect == EffectDeny {
		return PrivNone
	}
	if e.Privilege != "" {
		return e.Privilege
	}
	return ClassifyAction(e.Action, e.Resource)
}

// ClassifyAction is the fallback classification for grants whose
// connector did not set a privilege.
func ClassifyAction(action, resource string) Privilege {
	a := strings.ToLower(action)
	if a == "" {
		return PrivNone
	}
	if (a == "*" || a == "*:*") && (resource == "*" || resource == "") {
		return PrivAdmin
	}
	verb := a
	if i := strings.LastIndexAny(a, ":/."); i >= 0 {
		verb = a[i+1:]
	}
	for _, p := range []string{"get", "list", "describe", "head", "read", "watch", "view", "select", "query", "search", "fetch", "lookup"} {
		if strings.HasPrefix(verb, p) {
			return PrivRead
		}
	}
	return PrivWrite
}

// traversable reports whether privilege flows along edge e from From to To
// (member_of, can_assume) — attached_to flows the other way (policy to
// principal) and is handled separately.
func traversable(k EdgeKind) bool { return k == EdgeMemberOf || k == EdgeCanAssume }

func (ix *Index) derivePrivilege() {
	n := len(ix.nodes)
	ix.priv = make([]Privilege, n)
	ix.privPath = make([][]int32, n)
	// best direct grant per node: its own grants and those of policies
	// attached to it.
	type direct struct {
		p    Privilege
		path []int32
	}
	best := make([]direct, n)
	for i := range ix.nodes {
		best[i].p = PrivNone
		for _, ei := range ix.out[i] {
			e := &ix.edges[ei]
			if e.Kind != EdgeGrants {
				continue
			}
			if p := GrantPrivilege(e); p.Rank() > best[i].p.Rank() {
				best[i] = direct{p, []int32{ei}}
			}
		}
	}
	attached := make([]direct, n)
	for i := range ix.nodes {
		attached[i] = best[i]
		for _, ei := range ix.in[i] {
			e := &ix.edges[ei]
			if e.Kind != EdgeAttachedTo {
				continue
			}
			pi, ok := ix.end(ix.from[ei])
			if !ok {
				continue
			}
			if best[pi].p.Rank() > attached[i].p.Rank() {
				attached[i] = direct{best[pi].p, append([]int32{ei}, best[pi].path...)}
			}
		}
	}
	// Walk member_of / can_assume from every principal-like node.
	type step struct {
		node int32
		path []int32
	}
	seen := make(map[int32]bool)
	for i := range ix.nodes {
		k := ix.nodes[i].Kind
		if !(k.IsIdentity() || k == KindGroup || k == KindRole) {
			continue
		}
		bp, bpath := attached[i].p, attached[i].path
		clear(seen)
		seen[int32(i)] = true
		frontier := []step{{int32(i), nil}}
		for depth := 0; depth < maxPrivDepth && len(frontier) > 0 && bp != PrivAdmin; depth++ {
			var next []step
			for _, s := range frontier {
				for _, ei := range ix.out[s.node] {
					e := &ix.edges[ei]
					if !traversable(e.Kind) {
						continue
					}
					t, ok := ix.end(ix.to[ei])
					if !ok || seen[t] {
						continue
					}
					seen[t] = true
					p := append(append([]int32(nil), s.path...), ei)
					if attached[t].p.Rank() > bp.Rank() {
						bp = attached[t].p
						bpath = append(append([]int32(nil), p...), attached[t].path...)
					}
					next = append(next, step{t, p})
				}
			}
			frontier = next
		}
		// A connector that evaluated denies and boundaries for this very
		// principal knows better than a walk over shared policies.
		if eff := Privilege(ix.nodes[i].Attrs[AttrEffectivePrivilege]); eff != "" && eff.Rank() >= 0 && eff.Rank() < bp.Rank() {
			bp = eff
		}
		ix.priv[i], ix.privPath[i] = bp, bpath
	}
	// A credential can do what its own grants allow (a GitHub deploy key
	// or PAT is granted directly) and what the identity holding it can.
	for i := range ix.nodes {
		if ix.nodes[i].Kind != KindCredential {
			continue
		}
		ix.priv[i], ix.privPath[i] = attached[i].p, attached[i].path
		for _, ei := range ix.in[i] {
			e := &ix.edges[ei]
			if e.Kind != EdgeHasCredential {
				continue
			}
			h, ok := ix.end(ix.from[ei])
			if !ok {
				continue
			}
			if ix.priv[h].Rank() > ix.priv[i].Rank() {
				ix.priv[i] = ix.priv[h]
				ix.privPath[i] = append([]int32{ei}, ix.privPath[h]...)
			}
		}
	}
	for i := range ix.priv {
		if ix.priv[i] == "" {
			ix.priv[i] = PrivNone
		}
	}
}

func (ix *Index) deriveOwners() {
	n := len(ix.nodes)
	ix.owners = make([][]int32, n)
	ix.ownerStat = make([]OwnerStatus, n)
	seen := map[int32]bool{}
	for i := range ix.nodes {
		clear(seen)
		for _, ei := range ix.in[i] {
			e := &ix.edges[ei]
			if e.Kind != EdgeOwns {
				continue
			}
			// One owner named by several sources (stored and inferred)
			// counts once; the first source's edge is the evidence.
			if h, ok := ix.end(ix.from[ei]); ok && ix.nodes[h].Kind == KindHuman && !seen[h] {
				seen[h] = true
				ix.owners[i] = append(ix.owners[i], ei)
			}
		}
	}
	// An analyst's correction (rule=override) replaces every other
	// owner, stored or inferred, instead of standing beside them.
	for i := range ix.owners {
		var corrected []int32
		for _, ei := range ix.owners[i] {
			if ix.edges[ei].Attrs["rule"] == "override" {
				corrected = append(corrected, ei)
			}
		}
		if len(corrected) > 0 {
			ix.owners[i] = corrected
		}
	}
	// A credential without an owner of its own answers to its holder's.
	for i := range ix.nodes {
		if ix.nodes[i].Kind != KindCredential || len(ix.owners[i]) > 0 {
			continue
		}
		for _, ei := range ix.in[i] {
			e := &ix.edges[ei]
			if e.Kind != EdgeHasCredential {
				continue
			}
			if h, ok := ix.end(ix.from[ei]); ok && len(ix.owners[h]) > 0 {
				ix.owners[i] = append([]int32{ei}, ix.owners[h]...)
				break
			}
		}
	}
	for i := range ix.nodes {
		st := OwnerAbsent
		for _, ei := range ix.owners[i] {
			e := &ix.edges[ei]
			if e.Kind != EdgeOwns {
				continue
			}
			h := ix.from[ei] // an owner edge's human is known
			if ix.nodes[h].Status == StatusDeparted {
				if st == OwnerAbsent {
					st = OwnerDeparted
				}
				continue
			}
			st = OwnerPresent
		}
		ix.ownerStat[i] = st
	}
}

func (ix *Index) deriveLastUse() {
	n := len(ix.nodes)
	ix.lastUsed = make([]time.Time, n)
	ix.lastEdge = make([]int32, n)
	for i := range ix.nodes {
		ix.lastUsed[i] = ix.nodes[i].LastUsedAt
		ix.lastEdge[i] = -1
		for _, ei := range ix.out[i] {
			e := &ix.edges[ei]
			if e.Kind == EdgeUsed && e.LastSeen.After(ix.lastUsed[i]) {
				ix.lastUsed[i], ix.lastEdge[i] = e.LastSeen, ei
			}
		}
	}
	// An identity is in use when any of its credentials is.
	for i := range ix.nodes {
		if !ix.nodes[i].Kind.IsIdentity() {
			continue
		}
		for _, ei := range ix.out[i] {
			e := &ix.edges[ei]
			if e.Kind != EdgeHasCredential {
				continue
			}
			c, ok := ix.end(ix.to[ei])
			if !ok {
				continue
			}
			if ix.lastUsed[c].After(ix.lastUsed[i]) {
				ix.lastUsed[i] = ix.lastUsed[c]
				if ix.lastEdge[c] >= 0 {
					ix.lastEdge[i] = ix.lastEdge[c]
				} else {
					ix.lastEdge[i] = ei
				}
			}
		}
	}
}

func (ix *Index) deriveLeaks() {
	ix.leaks = make([][]int32, len(ix.nodes))
	byPrint := map[string][]int32{}
	for i := range ix.nodes {
		nd := &ix.nodes[i]
		if nd.Kind == KindCredential && nd.Attrs[AttrFingerprint] != "" {
			byPrint[nd.Attrs[AttrFingerprint]] = append(byPrint[nd.Attrs[AttrFingerprint]], int32(i))
		}
	}
	for ei := range ix.edges {
		e := &ix.edges[ei]
		if e.Kind != EdgeLeaked {
			continue
		}
		f, ok := ix.end(ix.from[ei])
		if !ok {
			continue
		}
		fp := ix.nodes[f].Attrs[AttrFingerprint]
		targets := []int32{f}
		if fp != "" {
			targets = byPrint[fp]
		}
		for _, t := range targets {
			// The finding node itself is not a live credential; only
			// credentials from other sources with the same fingerprint
			// (and a finding reporting on itself) count.
			ix.leaks[t] = append(ix.leaks[t], int32(ei))
		}
	}
}

// FromSnapshot reports whether the index was opened from a snapshot.
func (ix *Index) FromSnapshot() bool { return ix.snap != nil }
