package graph

import (
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
//
// A built index and an opened snapshot have one compact form (snapData):
// strings interned once and referenced by number, nodes and edges as
// fixed-width rows, adjacency and evidence lists as compressed sparse
// rows. A million identities then cost a few hundred bytes each instead
// of a struct, two maps and a slice header per node and edge, and writing
// a snapshot copies the columns out as they are.
type Index struct {
	// Sources lists the subgraph sources the index was built from.
	Sources []string

	snap   *snapData
	nedges int
	opened bool // read from a snapshot rather than built

	memo memoTable // see Memo
}

// Build indexes the subgraphs and derives privilege, ownership, last use and
// leak matches. Edges whose ends are unknown are kept for export but ignored
// by traversals.
func Build(sgs []*Subgraph) *Index {
	b := NewBuilder()
	for _, sg := range sgs {
		b.Add(sg)
	}
	return b.Index()
}

// NumEdges is the number of edges; edge indices run from 0 to NumEdges-1.
func (ix *Index) NumEdges() int { return ix.nedges }

// Edge returns edge ei, decoded from its row (its Attrs map allocated).
func (ix *Index) Edge(ei int32) *Edge { return ix.snap.edge(ei) }

// EdgeKind is Edge(ei).Kind without decoding the whole edge.
func (ix *Index) EdgeKind(ei int32) EdgeKind { return ix.snap.ekind(ei) }

// EdgeFrom is the node Edge(ei).From names, -1 when no node has that id.
func (ix *Index) EdgeFrom(ei int32) int32 { return ix.snap.from[ei] }

// EdgeTo is the node Edge(ei).To names, -1 when no node has that id.
func (ix *Index) EdgeTo(ei int32) int32 { return ix.snap.to[ei] }

// Lookup returns the position of the node with id.
func (ix *Index) Lookup(id string) (int32, bool) { return ix.snap.lookup(id) }

// Out returns the indices of edges leaving node i.
func (ix *Index) Out(i int32) []int32 { s := ix.snap; return csr(s.outOff, s.out, i) }

// In returns the indices of edges entering node i.
func (ix *Index) In(i int32) []int32 { s := ix.snap; return csr(s.inOff, s.in, i) }

// Privilege is the derived privilege of node i and the edges that justify
// it (empty for none).
func (ix *Index) Privilege(i int32) (Privilege, []int32) {
	s := ix.snap
	return Privilege(s.str(s.priv[i])), csr(s.ppOff, s.pp, i)
}

// Owners returns the owns edges naming a known human, and the owner status.
func (ix *Index) Owners(i int32) ([]int32, OwnerStatus) {
	s := ix.snap
	return csr(s.ownOff, s.own, i), OwnerStatus(s.str(s.ownStat[i]))
}

// LastUsed returns the latest recorded use of node i (zero if never used)
// and the used edge behind it (-1 when it came from the node's own
// last_used_at or has no edge).
func (ix *Index) LastUsed(i int32) (time.Time, int32) {
	s := ix.snap
	return snapTime(s.lastSec[i], s.lastNsec[i]), s.lastEdge[i]
}

// Leaks returns the leaked_in edges whose finding matches credential i.
func (ix *Index) Leaks(i int32) []int32 { s := ix.snap; return csr(s.leakOff, s.leak, i) }

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

// FromSnapshot reports whether the index was opened from a snapshot.
func (ix *Index) FromSnapshot() bool { return ix.opened }
