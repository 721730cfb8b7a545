package demo

import (
	"math/rand/v2"
	"time"

	"github.com/steward-oss/steward/graph"
)

// departedRate is the share of non-manager employees who have left.
const departedRate = 0.08

type person struct {
	id, email, name, team, manager string
	hired, left                    time.Time // left zero: still employed
}

// people is the HR roster, with each team's current and former members
// indexed for owner picking.
type people struct {
	list     []person
	active   map[string][]int // team -> indexes of current employees
	departed map[string][]int // team -> indexes of former employees
	allGone  []int
	allHere  []int
}

// newPeople builds a roster of n people: a CTO, one manager per team, and
// engineers spread over the teams. Managers never leave. Emails are
// firstname.lastname@example.com, numbered once the name combinations run
// out, so they are unique at any size.
func newPeople(rng *rand.Rand, n int) people {
	ps := people{active: map[string][]int{}, departed: map[string][]int{}}
	combos := len(firstNames) * len(lastNames)
	// A stride coprime to combos walks every combination once, in an
	// order that depends on the seed.
	strides := []int{7919, 7907, 7901, 7883, 7879, 7877, 7873, 7867}
	stride := strides[rng.IntN(len(strides))]
	offset := rng.IntN(combos)
	for i := range n {
		m := (offset + i*stride) % combos
		first, last := firstNames[m%len(firstNames)], lastNames[m/len(firstNames)]
		local := first + "." + last
		if round := i / combos; round > 0 {
			local += itoa(round + 1)
		}
		p := person{email: local + "@example.com", name: title(first) + " " + title(last)}
		p.id = graph.HumanID(p.email)
		switch {
		case i == 0:
			p.team = "platform"
		case i <= len(teams):
			p.team = teams[i-1]
			p.manager = ps.list[0].email
		default:
			p.team = teams[rng.IntN(len(teams))]
			p.manager = ps.list[1+indexOf(teams, p.team)].email
		}
		p.hired = Reference.Add(-time.Duration(30+rng.IntN(6*365)) * day).Truncate(day)
		// The last two engineers leave whatever the draw, so even the
		// smallest roster has former employees to orphan identities.
		if i > len(teams) && (rng.Float64() < departedRate || (i >= n-2 && len(ps.allGone) < 2)) {
			p.left = Reference.Add(-time.Duration(7+rng.IntN(540)) * day).Truncate(day)
			if p.left.Before(p.hired) {
				p.hired = p.left.Add(-365 * day)
			}
		}
		idx := len(ps.list)
		ps.list = append(ps.list, p)
		if p.left.IsZero() {
			ps.active[p.team] = append(ps.active[p.team], idx)
			ps.allHere = append(ps.allHere, idx)
		} else {
			ps.departed[p.team] = append(ps.departed[p.team], idx)
			ps.allGone = append(ps.allGone, idx)
		}
	}
	return ps
}

// pick returns a current (or, with gone, a former) member of team, or of
// the whole company when the team has none.
func (ps *people) pick(rng *rand.Rand, team string, gone bool) int {
	pool, all := ps.active[team], ps.allHere
	if gone {
		pool, all = ps.departed[team], ps.allGone
	}
	if len(pool) == 0 {
		pool = all
	}
	return pool[rng.IntN(len(pool))]
}

// hr is the roster as the HR connector would load it: one human per
// person and one group per team.
func (w *world) hr() *graph.Subgraph {
	sg := &graph.Subgraph{Source: "hr"}
	for _, t := range teams {
		sg.AddNode(graph.Node{ID: "hr:team/" + t, Kind: graph.KindGroup, Name: t,
			Attrs: map[string]string{graph.AttrTeam: t}})
	}
	for _, p := range w.people.list {
		n := graph.Node{ID: p.id, Kind: graph.KindHuman, Name: p.name, Status: graph.StatusActive,
			CreatedAt: p.hired, Attrs: map[string]string{graph.AttrEmail: p.email, graph.AttrTeam: p.team}}
		if p.manager != "" {
			n.Attrs[graph.AttrManager] = p.manager
		}
		if !p.left.IsZero() {
			n.Status = graph.StatusDeparted
			n.Attrs[graph.AttrEndDate] = p.left.Format(time.RFC3339)
		}
		sg.AddNode(n)
		sg.AddEdge(graph.Edge{From: p.id, To: "hr:team/" + p.team, Kind: graph.EdgeMemberOf})
	}
	return sg
}

func title(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
