package demo

import (
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
)

// measured holds the rates of a generated graph, computed from nodes and
// edges alone with the definitions of graph/README.md, independently of
// how the generator decided them.
type measured struct {
	identities, credsWithExpiry, credsWithFingerprint int
	idle, admin, noOwner, ownerDeparted, overPriv     int
	expiring, leaked                                  int
}

func (m measured) rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// merged is the union of all subgraphs, indexed for traversal.
type merged struct {
	nodes map[string]*graph.Node
	out   map[string][]*graph.Edge
	in    map[string][]*graph.Edge
}

func merge(sgs []*graph.Subgraph) *merged {
	m := &merged{nodes: map[string]*graph.Node{}, out: map[string][]*graph.Edge{}, in: map[string][]*graph.Edge{}}
	for _, sg := range sgs {
		for i := range sg.Nodes {
			m.nodes[sg.Nodes[i].ID] = &sg.Nodes[i]
		}
		for i := range sg.Edges {
			e := &sg.Edges[i]
			m.out[e.From] = append(m.out[e.From], e)
			m.in[e.To] = append(m.in[e.To], e)
		}
	}
	return m
}

func isPrincipalNHI(n *graph.Node) bool {
	return n.Kind.IsNHI() && n.Kind != graph.KindCredential
}

// isIAMRole reports an AWS IAM role: an identity, but part of each
// account's fixed structure, on top of Config.Size and outside the drawn
// rates.
func isIAMRole(n *graph.Node) bool {
	return n.Kind == graph.KindServiceAccount && n.Subtype == "iam_role"
}

func (m *merged) outOf(id string, k graph.EdgeKind) []*graph.Edge {
	var r []*graph.Edge
	for _, e := range m.out[id] {
		if e.Kind == k {
			r = append(r, e)
		}
	}
	return r
}

func (m *merged) creds(id string) []string {
	var r []string
	for _, e := range m.outOf(id, graph.EdgeHasCredential) {
		r = append(r, e.To)
	}
	return r
}

// lastUse is the latest recorded use of an identity and its credentials.
func (m *merged) lastUse(id string) time.Time {
	var last time.Time
	for _, x := range append([]string{id}, m.creds(id)...) {
		if n := m.nodes[x]; n != nil && n.LastUsedAt.After(last) {
			last = n.LastUsedAt
		}
		for _, e := range m.outOf(x, graph.EdgeUsed) {
			if e.LastSeen.After(last) {
				last = e.LastSeen
			}
		}
	}
	return last
}

// usedActions lists the actions of every used edge of an identity and
// its credentials.
func (m *merged) usedActions(id string) []string {
	var r []string
	for _, x := range append([]string{id}, m.creds(id)...) {
		for _, e := range m.outOf(x, graph.EdgeUsed) {
			r = append(r, e.Attrs[graph.AttrUsedAction])
		}
	}
	return r
}

// privilege is the highest allow grant reachable through member_of and
// can_assume (transitively) and policies attached to any node reached.
func (m *merged) privilege(id string) graph.Privilege {
	seen := map[string]bool{id: true}
	queue := []string{id}
	best := graph.PrivNone
	consider := func(from string) {
		for _, g := range m.outOf(from, graph.EdgeGrants) {
			if g.Effect == graph.EffectDeny {
				continue
			}
			p := g.Privilege
			if p == "" {
				p = classify(g.Action, g.Resource)
			}
			if p.Rank() > best.Rank() {
				best = p
			}
		}
	}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		consider(x)
		for _, e := range m.in[x] {
			if e.Kind == graph.EdgeAttachedTo {
				consider(e.From)
			}
		}
		for _, e := range m.out[x] {
			if (e.Kind == graph.EdgeMemberOf || e.Kind == graph.EdgeCanAssume) && !seen[e.To] {
				seen[e.To] = true
				queue = append(queue, e.To)
			}
		}
	}
	return best
}

// classify is the README's rule for grants without a privilege.
func classify(action, resource string) graph.Privilege {
	if action == "*" && resource == "*" {
		return graph.PrivAdmin
	}
	if isRead(action) {
		return graph.PrivRead
	}
	return graph.PrivWrite
}

// isRead applies the README's read rule to the last segment of an action
// ("s3:GetObject", "storage.objects.list", "microsoft.directory/users/read").
func isRead(action string) bool {
	seg := action
	if i := strings.LastIndexAny(action, ":./"); i >= 0 {
		seg = action[i+1:]
	}
	seg = strings.ToLower(seg)
	for _, p := range []string{"get", "list", "describe"} {
		if strings.HasPrefix(seg, p) {
			return true
		}
	}
	return seg == "read" || seg == "watch"
}

func measure(sgs []*graph.Subgraph) measured {
	m := merge(sgs)
	leakedFP := map[string]bool{}
	for _, sg := range sgs {
		if sg.Source != "gitleaks:demo" {
			continue
		}
		for _, n := range sg.Nodes {
			leakedFP[n.Attrs[graph.AttrFingerprint]] = true
		}
	}
	var r measured
	cutoff := Reference.Add(-30 * day)
	for _, sg := range sgs {
		if sg.Source == "gitleaks:demo" {
			continue
		}
		for i := range sg.Nodes {
			n := &sg.Nodes[i]
			if n.Kind == graph.KindCredential {
				if !n.ExpiresAt.IsZero() {
					r.credsWithExpiry++
					if n.ExpiresAt.After(Reference) && !n.ExpiresAt.After(Reference.Add(30*day)) {
						r.expiring++
					}
				}
				if fp := n.Attrs[graph.AttrFingerprint]; fp != "" {
					r.credsWithFingerprint++
					if leakedFP[fp] {
						r.leaked++
					}
				}
				continue
			}
			if !isPrincipalNHI(n) || isIAMRole(n) {
				continue
			}
			r.identities++
			if last := m.lastUse(n.ID); last.Before(cutoff) && n.CreatedAt.Before(cutoff) {
				r.idle++
			}
			admin := m.privilege(n.ID) == graph.PrivAdmin
			if admin {
				r.admin++
				acts := m.usedActions(n.ID)
				allRead := len(acts) > 0
				for _, a := range acts {
					allRead = allRead && isRead(a)
				}
				if allRead {
					r.overPriv++
				}
			}
			owners, gone := 0, 0
			for _, e := range m.in[n.ID] {
				if e.Kind != graph.EdgeOwns {
					continue
				}
				owners++
				if h := m.nodes[e.From]; h != nil && h.Status == graph.StatusDeparted {
					gone++
				}
			}
			switch {
			case owners == 0:
				r.noOwner++
			case gone == owners:
				r.ownerDeparted++
			}
		}
	}
	return r
}
