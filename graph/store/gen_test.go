package store

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/steward-oss/steward/graph"
)

// genStrings are the awkward values the random generator draws from, next
// to plain random ones: empty, whitespace, quoting, IRI and N-Quads
// syntax, a literal backslash-x00 (which cayley's SQL layer rewrites on its
// own read path), our own predicate prefixes, and non-ASCII text.
var genStrings = []string{
	"", " ", "a", "deploy", "s3:Get*", "*", `"quoted"`, "<iri>", "_:b0", "tag:x", "attr:y",
	`back\x00slash`, "line\nbreak", "tab\there", "ünïcödé", "日本語", "emoji 🔑", "AKIA…WXYZ",
	"arn:aws:iam::123456789012:role/Admin", "human:alice@example.com",
}

type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *gen) str() string {
	if g.r.IntN(3) == 0 {
		return genStrings[g.r.IntN(len(genStrings))]
	}
	b := make([]rune, g.r.IntN(12))
	for i := range b {
		switch g.r.IntN(10) {
		case 0:
			b[i] = rune(0x80 + g.r.IntN(0x2000)) // non-ASCII, never a surrogate
		default:
			b[i] = rune(' ' + g.r.IntN(95))
		}
	}
	return string(b)
}

func (g *gen) maybeStr() string {
	if g.r.IntN(2) == 0 {
		return ""
	}
	return g.str()
}

var locations = []*time.Location{time.UTC, time.FixedZone("CET", 3600), time.FixedZone("minus", -7*3600-1800)}

func (g *gen) time() time.Time {
	if g.r.IntN(3) == 0 {
		return time.Time{}
	}
	sec := g.r.Int64N(4102444800) // 1970..2100
	nsec := g.r.Int64N(1e9)
	if g.r.IntN(4) == 0 {
		nsec = 0
	}
	return time.Unix(sec, nsec).In(locations[g.r.IntN(len(locations))])
}

func (g *gen) strMap() map[string]string {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return map[string]string{}
	}
	m := map[string]string{}
	for i := g.r.IntN(4) + 1; i > 0; i-- {
		m[g.str()] = g.str()
	}
	return m
}

// subgraph returns a random valid subgraph of source with about n nodes
// and 2n edges, some pointing at nodes of other sources, some duplicated.
func (g *gen) subgraph(source string, n int) *graph.Subgraph {
	sg := &graph.Subgraph{Source: source}
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s:n%d/%s", source, i, g.maybeStr())
		ids = append(ids, id)
		sg.Nodes = append(sg.Nodes, graph.Node{
			ID:         id,
			Kind:       graph.Kinds[g.r.IntN(len(graph.Kinds))],
			Source:     source,
			Name:       g.maybeStr(),
			Subtype:    g.maybeStr(),
			Status:     g.maybeStr(),
			CreatedAt:  g.time(),
			LastUsedAt: g.time(),
			RotatedAt:  g.time(),
			ExpiresAt:  g.time(),
			Tags:       g.strMap(),
			Attrs:      g.strMap(),
		})
	}
	privs := []graph.Privilege{"", graph.PrivNone, graph.PrivRead, graph.PrivWrite, graph.PrivAdmin}
	end := func() string {
		if len(ids) == 0 || g.r.IntN(5) == 0 {
			return "other:" + g.str() + "x"
		}
		return ids[g.r.IntN(len(ids))]
	}
	for i := 0; i < 2*n; i++ {
		e := graph.Edge{From: end(), To: end(), Kind: graph.EdgeKinds[g.r.IntN(len(graph.EdgeKinds))]}
		if g.r.IntN(2) == 0 { // half the edges carry properties
			e.Action = g.maybeStr()
			e.Resource = g.maybeStr()
			e.Effect = g.maybeStr()
			e.Conditional = g.r.IntN(2) == 0
			e.Privilege = privs[g.r.IntN(len(privs))]
			e.LastSeen = g.time()
			e.Attrs = g.strMap()
		}
		sg.Edges = append(sg.Edges, e)
		if g.r.IntN(20) == 0 {
			sg.Edges = append(sg.Edges, e) // exact duplicate, dropped by Normalize
		}
	}
	return sg
}

// want is what the store must give back for sg: the normalized copy with
// every time in UTC.
func want(sg *graph.Subgraph) *graph.Subgraph {
	out := normalized(sg)
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC()
	}
	for i := range out.Nodes {
		n := &out.Nodes[i]
		n.CreatedAt, n.LastUsedAt, n.RotatedAt, n.ExpiresAt = utc(n.CreatedAt), utc(n.LastUsedAt), utc(n.RotatedAt), utc(n.ExpiresAt)
	}
	for i := range out.Edges {
		out.Edges[i].LastSeen = utc(out.Edges[i].LastSeen)
	}
	return out
}
