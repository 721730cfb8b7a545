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
	nodes := make([]graph.Node, len(sg.Nodes))
	for i, j := range nodeIdx {
		nodes[i] = sg.Nodes[j]
	}
	sg.Nodes = nodes

	edgeIdx := make([]int32, len(sg.Edges))
	for i := range edgeIdx {
		edgeIdx[i] = int32(i)
	}
	slices.SortFunc(edgeIdx, func(a, b int32) int {
		return cmp.Or(compareKey(&sg.Edges[a], &sg.Edges[b]), cmp.Compare(a, b))
	})
	edges := make([]graph.Edge, 0, len(sg.Edges))
	for i, j := range edgeIdx {
		if i > 0 && compareKey(&sg.Edges[edgeIdx[i-1]], &sg.Edges[j]) == 0 {
			continue
		}
		edges = append(edges, sg.Edges[j])
	}
	sg.Edges = edges
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
