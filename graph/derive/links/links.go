// Package links derives the edges that join what two sources say about one
// thing, which neither connector can emit alone because each copies only
// its own source. Today: GitHub Actions OIDC — an AWS (or other cloud)
// role trusting token.actions.githubusercontent.com for subject
// "repo:ORG/REPO:…" can be assumed by that repository's workflows, so the
// repository (from the GitHub connector) gets a can_assume edge to the
// workload identity (from the cloud connector). "What can the ledger repo
// reach" and "who can assume role deploy" then cross the two sources.
package links

import (
	"path"
	"sort"
	"strings"

	"github.com/steward-oss/steward/graph"
)

// Source names the derived subgraph.
const Source = "links:github-oidc"

const githubOIDCHost = "token.actions.githubusercontent.com"

// GitHubOIDC returns the derived subgraph (nil when nothing links).
func GitHubOIDC(sgs []*graph.Subgraph) []*graph.Subgraph {
	repos := map[string]string{} // "org/repo" lower-case -> repo node id
	for _, sg := range sgs {
		if graph.SourceType(sg.Source) != "github" {
			continue
		}
		org := strings.TrimPrefix(sg.Source, "github:")
		prefix := sg.Source + ":repo/"
		for _, n := range sg.Nodes {
			if name, ok := strings.CutPrefix(n.ID, prefix); ok && n.Kind == graph.KindResource {
				repos[strings.ToLower(org+"/"+name)] = n.ID
			}
		}
	}
	if len(repos) == 0 {
		return nil
	}
	names := make([]string, 0, len(repos))
	for k := range repos {
		names = append(names, k)
	}
	sort.Strings(names)
	out := &graph.Subgraph{Source: Source}
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			if n.Kind != graph.KindWorkload || n.Attrs["provider"] != githubOIDCHost {
				continue
			}
			sub := n.Attrs["sub"]
			if sub == "" {
				sub = n.Attrs["subject"]
			}
			pattern, ok := repoPattern(sub)
			if !ok {
				continue
			}
			for _, name := range names {
				if m, err := path.Match(pattern, name); err == nil && m {
					out.AddEdge(graph.Edge{From: repos[name], To: n.ID, Kind: graph.EdgeCanAssume,
						Attrs: map[string]string{graph.AttrVia: "GitHub Actions OIDC, subject " + sub}})
				}
			}
		}
	}
	if len(out.Edges) == 0 {
		return nil
	}
	out.Normalize()
	return []*graph.Subgraph{out}
}

// repoPattern extracts "org/repo" (a glob when the trust uses wildcards)
// from an OIDC subject "repo:ORG/REPO:ref:…". Subjects that do not name a
// repository (environment-only, "*") link nothing: guessing would invent
// access.
func repoPattern(sub string) (string, bool) {
	rest, ok := strings.CutPrefix(sub, "repo:")
	if !ok {
		return "", false
	}
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	if !strings.Contains(rest, "/") || rest == "*/*" {
		return "", false
	}
	return strings.ToLower(rest), true
}
