package demo

import (
	"cmp"
	"slices"
	"strings"

	"github.com/steward-oss/steward/graph"
)

// normalize puts sg in exactly the order graph.Subgraph.Normalize gives
// (nodes by id, edges stably by Edge.Key, exact duplicates dropped), but
// sorts indexes with field-wise comparisons instead of building a key
// string per comparison, which at a million identities was most of the
// generation time. Comparing the fields one by one orders like the
// NUL-joined key because no generated field contains a NUL byte.
func normalize(sg *graph.Subgraph) {
	nodeIdx := make([]int32, len(sg.Nodes))
	for i := range nodeIdx {
		nodeIdx[i] = int32(i)
	}
	slices.SortFunc(nodeIdx, func(a, b int32) int {
		return cmp.Or(strings.Compare(sg.Nodes[a].ID, sg.Nodes[b].ID), cmp.Compare(a, b))
	})
	permute(sg.Nodes, nodeIdx)

	edgeIdx := make([]int32, len(sg.Edges))
	for i := range edgeIdx {
		edgeIdx[i] = int32(i)
	}
	slices.SortFunc(edgeIdx, func(a, b int32) int {
		return cmp.Or(compareKey(&sg.Edges[a], &sg.Edges[b]), cmp.Compare(a, b))
	})
	permute(sg.Edges, edgeIdx)
	out := sg.Edges[:0]
	for i := range sg.Edges {
		if i > 0 && compareKey(&sg.Edges[i-1], &sg.Edges[i]) == 0 {
			continue
		}
		out = append(out, sg.Edges[i])
	}
	clear(sg.Edges[len(out):])
	sg.Edges = out
}

// permute reorders s in place so that s[i] becomes the old s[idx[i]],
// following the permutation's cycles so that no second copy of a large
// slice is needed. idx is consumed.
func permute[T any](s []T, idx []int32) {
	for i := range idx {
		if idx[i] < 0 {
			continue
		}
		tmp := s[i]
		j := i
		for {
			k := int(idx[j])
			idx[j] = -1
			if k == i {
				s[j] = tmp
				break
			}
			s[j] = s[k]
			j = k
		}
	}
}

func compareKey(a, b *graph.Edge) int {
	return cmp.Or(
		strings.Compare(string(a.Kind), string(b.Kind)),
		strings.Compare(a.From, b.From),
		strings.Compare(a.To, b.To),
		strings.Compare(a.Action, b.Action),
		strings.Compare(a.Resource, b.Resource),
		strings.Compare(a.Effect, b.Effect),
	)
}
