package escalation

import (
	"strings"

	"github.com/steward-oss/steward/graph"
)

// GitHub: whoever can change a repository's workflows runs code with the
// repository's Actions OIDC token, so it can assume every cloud role that
// trusts the repository (the links package's can_assume edges). A path
// needs write on the repository (a deploy key with write, an installation
// or token with contents or workflows write on it or on all repositories)
// and a trusted role that is admin.

// workflowWriter: the grant can change a workflow file. GitHub Apps need
// the workflows permission for that (contents alone is refused for
// .github/workflows), classic tokens the workflow scope; a deploy key with
// write pushes anything.
func workflowWriter(ed *graph.Edge) bool {
	if graph.GrantPrivilege(ed).Rank() < graph.PrivWrite.Rank() {
		return false
	}
	switch {
	case ed.Action == "workflows", ed.Action == "workflow":
		return true
	case ed.Action == "contents:write" && ed.Attrs[graph.AttrVia] == "deploy key":
		return true
	}
	return false
}

func (a *analyzer) github(i int32) []Path {
	if graph.SourceType(a.ix.NodeSource(i)) != "github" {
		return nil
	}
	var out []Path
	for _, e := range a.ix.Out(i) {
		ed := a.ix.Edge(e)
		if ed.Kind != graph.EdgeGrants || !workflowWriter(ed) {
			continue
		}
		for _, r := range a.reposCovered(ed) {
			for _, ce := range a.ix.Out(r) {
				c := a.ix.Edge(ce)
				if c.Kind != graph.EdgeCanAssume {
					continue
				}
				t, ok := a.ix.Lookup(c.To)
				if !ok {
					continue
				}
				if adm, tp := a.admin(t); adm {
					ev := append([]int32{e, ce}, tp...)
					out = append(out, Path{Identity: i, Class: "github:oidc-workflow", Target: t, Evidence: ev, Conditional: ed.Conditional})
				}
			}
		}
	}
	return out
}

// reposCovered: the repository a grant is on, or every repository of the
// organisation for an all-repositories grant.
func (a *analyzer) reposCovered(ed *graph.Edge) []int32 {
	to, ok := a.ix.Lookup(ed.To)
	if !ok {
		return nil
	}
	if a.ix.NodeKind(to) == graph.KindResource {
		return []int32{to}
	}
	if ed.Resource != "all" {
		return nil
	}
	prefix := ed.To + ":repo/"
	var out []int32
	for j := range int32(a.ix.NumNodes()) {
		if strings.HasPrefix(a.ix.NodeID(j), prefix) {
			out = append(out, int32(j))
		}
	}
	return out
}
