package graph

import (
	"iter"
	"time"
)

// Node accessors. An index keeps its nodes either as built values (Build)
// or as columns of an opened snapshot, read in place: a million-identity
// snapshot then opens without decoding a million nodes and their maps.
// Hot loops read single fields (NodeKind, NodeAttr...); Node materializes
// a whole node for the few places that show one.

// NumNodes is the number of nodes; node numbers run from 0 to NumNodes-1.
func (ix *Index) NumNodes() int {
	if s := ix.snap; s != nil {
		return s.nnodes
	}
	return len(ix.nodes)
}

// Node returns node i. On a snapshot it is decoded (its maps allocated);
// callers must not modify the maps of a built index's node.
func (ix *Index) Node(i int32) Node {
	if s := ix.snap; s != nil {
		return s.node(i)
	}
	return ix.nodes[i]
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
	if s := ix.snap; s != nil {
		return s.nodeStr(i, 0)
	}
	return ix.nodes[i].ID
}

// NodeKind is Node(i).Kind.
func (ix *Index) NodeKind(i int32) Kind {
	if s := ix.snap; s != nil {
		return Kind(s.nodeStr(i, 1))
	}
	return ix.nodes[i].Kind
}

// NodeSource is Node(i).Source.
func (ix *Index) NodeSource(i int32) string {
	if s := ix.snap; s != nil {
		return s.nodeStr(i, 2)
	}
	return ix.nodes[i].Source
}

// NodeName is Node(i).Name.
func (ix *Index) NodeName(i int32) string {
	if s := ix.snap; s != nil {
		return s.nodeStr(i, 3)
	}
	return ix.nodes[i].Name
}

// NodeSubtype is Node(i).Subtype.
func (ix *Index) NodeSubtype(i int32) string {
	if s := ix.snap; s != nil {
		return s.nodeStr(i, 4)
	}
	return ix.nodes[i].Subtype
}

// NodeStatus is Node(i).Status.
func (ix *Index) NodeStatus(i int32) string {
	if s := ix.snap; s != nil {
		return s.nodeStr(i, 5)
	}
	return ix.nodes[i].Status
}

// NodeTag is Node(i).Tags[key], with whether the tag is set.
func (ix *Index) NodeTag(i int32, key string) (string, bool) {
	if s := ix.snap; s != nil {
		return s.mapGet(s.nodes[int(i)*nodeCols+6], key)
	}
	v, ok := ix.nodes[i].Tags[key]
	return v, ok
}

// NodeAttr is Node(i).Attrs[key] ("" when unset).
func (ix *Index) NodeAttr(i int32, key string) string {
	v, _ := ix.NodeLookupAttr(i, key)
	return v
}

// NodeLookupAttr is Node(i).Attrs[key], with whether the attribute is set.
func (ix *Index) NodeLookupAttr(i int32, key string) (string, bool) {
	if s := ix.snap; s != nil {
		return s.mapGet(s.nodes[int(i)*nodeCols+7], key)
	}
	v, ok := ix.nodes[i].Attrs[key]
	return v, ok
}

// Node time columns, in snapshot order.
const (
	timeCreated = iota
	timeLastUsed
	timeRotated
	timeExpires
)

func (ix *Index) nodeTime(i int32, c int) time.Time {
	if s := ix.snap; s != nil {
		k := int(i)*nodeTime + c
		return snapTime(s.tsec[k], s.tnsec[k])
	}
	n := &ix.nodes[i]
	switch c {
	case timeCreated:
		return n.CreatedAt
	case timeLastUsed:
		return n.LastUsedAt
	case timeRotated:
		return n.RotatedAt
	}
	return n.ExpiresAt
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
	if s := ix.snap; s != nil {
		return s.byKind[k]
	}
	return ix.byKind[k]
}

// kindLists groups node numbers by kind.
func kindLists(n int, kind func(i int32) Kind) map[Kind][]int32 {
	counts := map[Kind]int{}
	for i := 0; i < n; i++ {
		counts[kind(int32(i))]++
	}
	out := make(map[Kind][]int32, len(counts))
	for k, c := range counts {
		out[k] = make([]int32, 0, c)
	}
	for i := 0; i < n; i++ {
		k := kind(int32(i))
		out[k] = append(out[k], int32(i))
	}
	return out
}
