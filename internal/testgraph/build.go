package testgraph

import (
	"testing"

	"github.com/steward-oss/steward/graph"
)

// Builder writes a small graph in code, for tests whose point is one
// shape (a chain of groups, a credential and its holder) rather than a
// source's export. Nodes and edges go to the current source, "test" until
// In names another.
type Builder struct {
	sgs []*graph.Subgraph
	cur *graph.Subgraph
}

// New starts an empty graph.
func New() *Builder { return (&Builder{}).In("test") }

// In makes source the current one, creating its subgraph on first use.
func (b *Builder) In(source string) *Builder {
	for _, sg := range b.sgs {
		if sg.Source == source {
			b.cur = sg
			return b
		}
	}
	b.cur = &graph.Subgraph{Source: source}
	b.sgs = append(b.sgs, b.cur)
	return b
}

// Node adds n to the current source (whose name it takes).
func (b *Builder) Node(n graph.Node) *Builder {
	n.Source = b.cur.Source
	b.cur.Nodes = append(b.cur.Nodes, n)
	return b
}

// Nodes adds a node of kind for each id.
func (b *Builder) Nodes(kind graph.Kind, ids ...string) *Builder {
	for _, id := range ids {
		b.Node(graph.Node{ID: id, Kind: kind, Name: id, Status: graph.StatusActive})
	}
	return b
}

// Edge adds e to the current source.
func (b *Builder) Edge(e graph.Edge) *Builder {
	b.cur.Edges = append(b.cur.Edges, e)
	return b
}

// Link adds an edge of kind from each id to the next: Link(member_of,
// "a", "b", "c") is a member_of b member_of c.
func (b *Builder) Link(kind graph.EdgeKind, ids ...string) *Builder {
	for i := 0; i+1 < len(ids); i++ {
		b.Edge(graph.Edge{From: ids[i], To: ids[i+1], Kind: kind})
	}
	return b
}

// Grant adds an allow grant of p from principal to resource, as a
// connector that rated it writes it.
func (b *Builder) Grant(principal, resource string, p graph.Privilege) *Builder {
	return b.Edge(graph.Edge{From: principal, To: resource, Kind: graph.EdgeGrants, Action: "*", Resource: resource,
		Effect: graph.EffectAllow, Privilege: p})
}

// Subgraphs validates and returns the graph, failing t when it is not
// well formed.
func (b *Builder) Subgraphs(t testing.TB) []*graph.Subgraph {
	t.Helper()
	for _, sg := range b.sgs {
		if err := sg.Validate(); err != nil {
			t.Fatalf("testgraph: %v", err)
		}
	}
	return b.sgs
}

// Build validates the graph and builds its index.
func (b *Builder) Build(t testing.TB) *graph.Index {
	t.Helper()
	return graph.Build(b.Subgraphs(t))
}
