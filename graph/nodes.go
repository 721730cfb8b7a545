package graph

import (
	"iter"
	"time"
)

// Node accessors. An index keeps its nodes as columns (see Index), read in
// place from an opened snapshot: a million-identity snapshot opens
// without decoding a million nodes and their maps.
// Hot loops read single fields (NodeKind, NodeAttr...); Node materializes
// a whole node for the few places that show one.

// NumNodes is the number of nodes; node numbers run from 0 to NumNodes-1.
func (ix *Index) NumNodes() int {
	return ix.snap.nnodes
}

// Node returns node i. On a snapshot it is decoded (its maps allocated);
// hot loops read single fields instead.
func (ix *Index) Node(i int32) Node {
	return ix.snap.node(i)
}

// Nodes yields every node with its number, decoding each on a snapshot:
// for whole-node walks (export, tests), not for hot loops.
func (ix *Index) Nodes() iter.Seq2[int32, Node] {
	return func(yield func(int32, Node) bool) {
		for i := range int32(ix.NumNodes()) {
			if !yield(i, ix.Node(i)) {
				return
			}
		}
	}
}

// NodeID is Node(i).ID.
func (ix *Index) NodeID(i int32) string {
	return ix.snap.nodeStr(i, 0)
}

// NodeKind is Node(i).Kind.
func (ix *Index) NodeKind(i int32) Kind {
	return Kind(ix.snap.nodeStr(i, 1))
}

// NodeSource is Node(i).Source.
func (ix *Index) NodeSource(i int32) string {
	return ix.snap.nodeStr(i, 2)
}

// NodeName is Node(i).Name.
func (ix *Index) NodeName(i int32) string {
	return ix.snap.nodeStr(i, 3)
}

// NodeSubtype is Node(i).Subtype.
func (ix *Index) NodeSubtype(i int32) string {
	return ix.snap.nodeStr(i, 4)
}

// NodeStatus is Node(i).Status.
func (ix *Index) NodeStatus(i int32) string {
	return ix.snap.nodeStr(i, 5)
}

// NodeTag is Node(i).Tags[key], with whether the tag is set.
func (ix *Index) NodeTag(i int32, key string) (string, bool) {
	s := ix.snap
	return s.mapGet(s.nodes[int(i)*nodeCols+6], key)
}

// NodeAttr is Node(i).Attrs[key] ("" when unset).
func (ix *Index) NodeAttr(i int32, key string) string {
	v, _ := ix.NodeLookupAttr(i, key)
	return v
}

// NodeLookupAttr is Node(i).Attrs[key], with whether the attribute is set.
func (ix *Index) NodeLookupAttr(i int32, key string) (string, bool) {
	s := ix.snap
	return s.mapGet(s.nodes[int(i)*nodeCols+7], key)
}

// Node time columns, in snapshot order.
const (
	timeCreated = iota
	timeLastUsed
	timeRotated
	timeExpires
)

func (ix *Index) nodeTime(i int32, c int) time.Time {
	s := ix.snap
	k := int(i)*nodeTime + c
	return snapTime(s.tsec[k], s.tnsec[k])
}

// NodeCreatedAt is Node(i).CreatedAt.
func (ix *Index) NodeCreatedAt(i int32) time.Time { return ix.nodeTime(i, timeCreated) }

// NodeLastUsedAt is Node(i).LastUsedAt (the node's own record; LastUsed
// also follows used edges and credentials).
func (ix *Index) NodeLastUsedAt(i int32) time.Time { return ix.nodeTime(i, timeLastUsed) }

// NodeRotatedAt is Node(i).RotatedAt.
func (ix *Index) NodeRotatedAt(i int32) time.Time { return ix.nodeTime(i, timeRotated) }

// NodeExpiresAt is Node(i).ExpiresAt.
func (ix *Index) NodeExpiresAt(i int32) time.Time { return ix.nodeTime(i, timeExpires) }

// NodesOfKind returns the nodes of kind k in node order, so a question
// over identities does not scan credentials and resources. The slice is
// shared: callers must not modify it.
func (ix *Index) NodesOfKind(k Kind) []int32 {
	return ix.snap.byKind[k]
}
