// Package usage compares what identities may do with what they were seen
// doing. UnusedPermissions turns the gap into a least-privilege IAM policy
// an analyst can paste back; Anomalies flags a credential used from a
// source address or client it was never seen with before its latest day.
//
// Both are pure functions over loaded subgraphs: grants edges (as the aws
// connector emits them) say what is allowed, used edges (as the
// cloudtrail connector emits them) say what happened.
package usage

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
)

// Edge attributes read here. They match the names connectors/cloudtrail
// and connectors/aws write (a test checks that).
const (
	attrSourceIPs  = "source_ips"  // JSON {ip: first seen RFC 3339}
	attrUserAgents = "user_agents" // JSON {user agent: first seen RFC 3339}
	attrFirstSeen  = "first_seen"
	attrCount      = "count"
	attrDenied     = "denied_count"
	attrCondition  = "condition" // JSON IAM Condition block on a grant
	notActionPref  = "NotAction:"
	notResPref     = "NotResource:"
)

// ErrNotFound is returned when the identity is in none of the subgraphs.
var ErrNotFound = errors.New("usage: identity not found")

// Grant is one allow grant that applies to the identity.
type Grant struct {
	From        string `json:"from"` // the principal, group or policy holding it
	Action      string `json:"action"`
	Resource    string `json:"resource"`
	Conditional bool   `json:"conditional,omitempty"`
	Used        bool   `json:"used"`
}

// Report is the outcome of UnusedPermissions.
type Report struct {
	Identity string    `json:"identity"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Granted  []Grant   `json:"granted"`
	// Used lists the actions seen in the window that a grant covers;
	// UsedNotGranted those no grant of the identity covers (they were
	// allowed some other way, such as a resource policy or an assumed
	// role, which this report does not follow).
	Used           []string `json:"used"`
	UsedNotGranted []string `json:"used_not_granted,omitempty"`
	// Unused lists the granted action patterns nothing used.
	Unused []string `json:"unused"`
	// Policy is an IAM policy document allowing only what was used, on
	// the resources (and under the conditions) the covering grants name.
	// It is empty when nothing was used: then the least privilege is no
	// permission at all, and detaching is the fix.
	Policy string `json:"policy,omitempty"`
}

// UnusedPermissions returns the allow grants reachable from identityID
// (its own, its groups' transitively, and those of policies attached to
// it or its groups) minus the actions it or its credentials used in
// [now-window, now]. Grants whose evaluated privilege is none (fully
// denied) are left out; Deny grants stay where they are and are not part
// of the result. Roles the identity can assume are separate identities
// and are not followed.
func UnusedPermissions(sgs []*graph.Subgraph, identityID string, window time.Duration, now time.Time) (*Report, error) {
	if window <= 0 {
		return nil, fmt.Errorf("usage: window %v must be positive", window)
	}
	ix := index(sgs)
	if !ix.nodes[identityID] {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, identityID)
	}
	holders := ix.holders(identityID)
	from := now.Add(-window)
	rep := &Report{Identity: identityID, From: from, To: now, Used: []string{}, Unused: []string{}, Granted: []Grant{}}
	var grants []graph.Edge
	for h := range holders {
		for _, e := range ix.out[h] {
			if e.Kind == graph.EdgeGrants && e.Effect == graph.EffectAllow && e.Privilege != graph.PrivNone {
				grants = append(grants, e)
			}
		}
	}
	sort.Slice(grants, func(i, j int) bool { return grants[i].Key() < grants[j].Key() })

	actors := map[string]bool{identityID: true}
	for _, e := range ix.out[identityID] {
		if e.Kind == graph.EdgeHasCredential {
			actors[e.To] = true
		}
	}
	usedSet := map[string]bool{}
	for a := range actors {
		for _, e := range ix.out[a] {
			if e.Kind != graph.EdgeUsed || e.Action == "" || e.LastSeen.Before(from) || e.LastSeen.After(now) || onlyDenied(e) {
				continue
			}
			usedSet[e.Action] = true
		}
	}
	used := sortedSet(usedSet)

	type stmtKey struct{ resources, condition string }
	stmts := map[stmtKey]map[string]bool{}
	for _, a := range used {
		covered := false
		for _, g := range grants {
			if !actionMatches(g.Action, a) {
				continue
			}
			covered = true
			k := stmtKey{resources: g.Resource, condition: g.Attrs[attrCondition]}
			if stmts[k] == nil {
				stmts[k] = map[string]bool{}
			}
			stmts[k][a] = true
		}
		if covered {
			rep.Used = append(rep.Used, a)
		} else {
			rep.UsedNotGranted = append(rep.UsedNotGranted, a)
		}
	}
	unused := map[string]bool{}
	for _, g := range grants {
		gr := Grant{From: g.From, Action: g.Action, Resource: g.Resource, Conditional: g.Conditional}
		for _, a := range rep.Used {
			if actionMatches(g.Action, a) {
				gr.Used = true
				break
			}
		}
		if !gr.Used {
			unused[g.Action] = true
		}
		rep.Granted = append(rep.Granted, gr)
	}
	// A pattern some other grant put to use is not unused.
	for _, g := range rep.Granted {
		if g.Used {
			delete(unused, g.Action)
		}
	}
	rep.Unused = append(rep.Unused, sortedSet(unused)...)

	if len(stmts) > 0 {
		keys := make([]stmtKey, 0, len(stmts))
		for k := range stmts {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].resources != keys[j].resources {
				return keys[i].resources < keys[j].resources
			}
			return keys[i].condition < keys[j].condition
		})
		doc := policyDoc{Version: "2012-10-17"}
		for i, k := range keys {
			st := statement{Sid: "UsedInWindow" + strconv.Itoa(i+1), Effect: "Allow", Action: sortedSet(stmts[k])}
			if r, ok := strings.CutPrefix(k.resources, notResPref); ok {
				st.NotResource = strings.Split(r, ",")
			} else {
				st.Resource = []string{k.resources}
			}
			if k.condition != "" {
				st.Condition = json.RawMessage(k.condition)
			}
			doc.Statement = append(doc.Statement, st)
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("usage: render policy: %w", err)
		}
		rep.Policy = string(b)
	}
	return rep, nil
}

type policyDoc struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid         string          `json:"Sid"`
	Effect      string          `json:"Effect"`
	Action      []string        `json:"Action"`
	Resource    []string        `json:"Resource,omitempty"`
	NotResource []string        `json:"NotResource,omitempty"`
	Condition   json.RawMessage `json:"Condition,omitempty"`
}

// onlyDenied reports whether every call an aggregated used edge counts
// failed, so it shows no permission in use.
func onlyDenied(e graph.Edge) bool {
	c, err1 := strconv.Atoi(e.Attrs[attrCount])
	d, err2 := strconv.Atoi(e.Attrs[attrDenied])
	return err1 == nil && err2 == nil && d >= c
}

// actionMatches reports whether a grant's action pattern covers a used
// action. "NotAction:a,b" grants everything those patterns do not match.
func actionMatches(pattern, action string) bool {
	if rest, ok := strings.CutPrefix(pattern, notActionPref); ok {
		for _, p := range strings.Split(rest, ",") {
			if globMatch(p, action) {
				return false
			}
		}
		return true
	}
	if pattern == "*:*" {
		pattern = "*"
	}
	return globMatch(pattern, action)
}

// globMatch matches IAM action wildcards ('*', '?'), case-insensitively.
func globMatch(p, s string) bool {
	p, s = strings.ToLower(p), strings.ToLower(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// graphIndex is the adjacency of all subgraphs together.
type graphIndex struct {
	nodes map[string]bool
	out   map[string][]graph.Edge
	in    map[string][]graph.Edge
}

func index(sgs []*graph.Subgraph) *graphIndex {
	ix := &graphIndex{nodes: map[string]bool{}, out: map[string][]graph.Edge{}, in: map[string][]graph.Edge{}}
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			ix.nodes[n.ID] = true
		}
		for _, e := range sg.Edges {
			ix.out[e.From] = append(ix.out[e.From], e)
			ix.in[e.To] = append(ix.in[e.To], e)
		}
	}
	return ix
}

// holders returns the identity, its groups (transitively) and the
// policies attached to any of them: every node whose grants apply.
func (ix *graphIndex) holders(id string) map[string]bool {
	hs := map[string]bool{id: true}
	queue := []string{id}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, e := range ix.out[cur] {
			if e.Kind == graph.EdgeMemberOf && !hs[e.To] {
				hs[e.To] = true
				queue = append(queue, e.To)
			}
		}
	}
	for h := range hs {
		for _, e := range ix.in[h] {
			if e.Kind == graph.EdgeAttachedTo {
				hs[e.From] = true
			}
		}
	}
	return hs
}
