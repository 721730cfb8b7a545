package oracle

import (
	"fmt"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

// TestPrivDepthMatchesIndex: for chains of every length around the bound,
// of groups, of assumable roles and of both, and for a cycle, the oracle
// and the index agree on the privilege of the chain's start, and both stop
// at PrivDepth hops.
func TestPrivDepthMatchesIndex(t *testing.T) {
	type shape struct {
		name  string
		kind  func(hop int) (graph.Kind, graph.EdgeKind)
		cycle bool
	}
	shapes := []shape{
		{"groups", func(int) (graph.Kind, graph.EdgeKind) { return graph.KindGroup, graph.EdgeMemberOf }, false},
		{"roles", func(int) (graph.Kind, graph.EdgeKind) { return graph.KindRole, graph.EdgeCanAssume }, false},
		{"groups and roles", func(hop int) (graph.Kind, graph.EdgeKind) {
			if hop%2 == 0 {
				return graph.KindRole, graph.EdgeCanAssume
			}
			return graph.KindGroup, graph.EdgeMemberOf
		}, false},
		{"groups with a cycle back to the start", func(int) (graph.Kind, graph.EdgeKind) { return graph.KindGroup, graph.EdgeMemberOf }, true},
	}
	for _, sh := range shapes {
		for hops := 1; hops <= PrivDepth+2; hops++ {
			t.Run(fmt.Sprintf("%s/%d hops", sh.name, hops), func(t *testing.T) {
				b := testgraph.New().Nodes(graph.KindServiceAccount, "svc").Nodes(graph.KindResource, "acct")
				prev := "svc"
				for h := 1; h <= hops; h++ {
					k, ek := sh.kind(h)
					id := fmt.Sprintf("n%d", h)
					b.Nodes(k, id).Link(ek, prev, id)
					prev = id
				}
				b.Grant(prev, "acct", graph.PrivAdmin)
				if sh.cycle {
					b.Link(graph.EdgeMemberOf, prev, "svc")
				}
				sgs := b.Subgraphs(t)
				ix := graph.Build(sgs)
				i, _ := ix.Lookup("svc")
				fromIndex, _ := ix.Privilege(i)
				fromOracle := New(sgs).Privileges()["svc"]
				want := 3 // admin
				if hops > PrivDepth {
					want = 0
				}
				if fromOracle != want || rank(fromIndex) != want {
					t.Errorf("privilege rank of svc %d hops from an admin grant: oracle %d, index %s; want %d", hops, fromOracle, fromIndex, want)
				}
			})
		}
	}
}
