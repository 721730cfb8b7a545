package escalation

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	_ "github.com/steward-oss/steward/connectors/all"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/derive/links"
)

// load reads fixtures through the real connectors, as steward load does,
// and builds the index with the GitHub OIDC links.
func load(t *testing.T, readers ...[2]any) *graph.Index {
	t.Helper()
	var sgs []*graph.Subgraph
	for _, r := range readers {
		rd, err := connectors.New(r[0].(string), r[1].(connectors.Options), connectors.Env{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("new %s: %v", r[0], err)
		}
		got, err := rd.Read(context.Background())
		if err != nil {
			t.Fatalf("read %s: %v", r[0], err)
		}
		sgs = append(sgs, got...)
	}
	sgs = append(sgs, links.GitHubOIDC(sgs)...)
	return graph.Build(sgs)
}

// classesByName: node name -> sorted classes of its paths.
func classesByName(ix *graph.Index, r *Result) map[string][]string {
	out := map[string][]string{}
	for _, p := range r.All() {
		n := ix.NodeName(p.Identity)
		if !slices.Contains(out[n], p.Class) {
			out[n] = append(out[n], p.Class)
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// evidenceString renders a path's edges as "from -kind-> to [action]".
func evidenceString(ix *graph.Index, p Path) string {
	var b strings.Builder
	for _, e := range p.Evidence {
		ed := ix.Edge(e)
		b.WriteString(ed.From + " -" + string(ed.Kind) + "-> " + ed.To)
		if ed.Action != "" {
			b.WriteString(" [" + ed.Action + " " + ed.Resource + "]")
		}
		b.WriteString("\n")
	}
	return b.String()
}
