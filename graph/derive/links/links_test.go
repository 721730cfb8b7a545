package links

import (
	"testing"

	"github.com/steward-oss/steward/graph"
)

func TestGitHubOIDC(t *testing.T) {
	aws := &graph.Subgraph{Source: "aws:111111111111"}
	for _, w := range []struct{ id, sub string }{
		{"github:oidc:repo:acme/ledger:ref:refs/heads/main", "repo:acme/ledger:ref:refs/heads/main"},
		{"github:oidc:repo:acme/*:environment:prod", "repo:acme/*:environment:prod"},
		{"github:oidc:*", "*"},
		{"github:oidc:repo:other/ledger:ref:refs/heads/main", "repo:other/ledger:ref:refs/heads/main"},
	} {
		aws.AddNode(graph.Node{ID: w.id, Kind: graph.KindWorkload, Attrs: map[string]string{"provider": githubOIDCHost, "sub": w.sub}})
	}
	gh := &graph.Subgraph{Source: "github:acme"}
	gh.AddNode(graph.Node{ID: "github:acme:repo/ledger", Kind: graph.KindResource, Name: "ledger"})
	gh.AddNode(graph.Node{ID: "github:acme:repo/web", Kind: graph.KindResource, Name: "web"})
	got := GitHubOIDC([]*graph.Subgraph{aws, gh})
	if len(got) != 1 {
		t.Fatalf("subgraphs: %d", len(got))
	}
	want := map[string]bool{
		"github:acme:repo/ledger -> github:oidc:repo:acme/ledger:ref:refs/heads/main": true,
		"github:acme:repo/ledger -> github:oidc:repo:acme/*:environment:prod":         true,
		"github:acme:repo/web -> github:oidc:repo:acme/*:environment:prod":            true,
	}
	if len(got[0].Edges) != len(want) {
		t.Fatalf("edges: %+v", got[0].Edges)
	}
	for _, e := range got[0].Edges {
		if !want[e.From+" -> "+e.To] || e.Kind != graph.EdgeCanAssume || e.Attrs[graph.AttrVia] == "" {
			t.Errorf("unexpected edge %+v", e)
		}
	}
	if err := got[0].Validate(); err != nil {
		t.Fatal(err)
	}
	// Without GitHub data nothing is linked.
	if GitHubOIDC([]*graph.Subgraph{aws}) != nil {
		t.Error("linked without repositories")
	}
}
