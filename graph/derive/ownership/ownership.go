// Package ownership infers who is accountable for each identity and
// credential in the graph and emits the result as its own subgraph of
// owns edges (human → identity), each with the reason and a confidence.
//
// Owners come from hints the sources already carry, tried in a fixed
// priority order; the first rule that resolves to a person in the HR
// roster wins, because a weaker hint (a namespace annotation) must never
// outvote a stronger one (an explicit owner tag):
//
//  1. analyst overrides (confidence 1.0), kept in a Store so they are
//     re-applied on every rebuild;
//  2. a login's own e-mail matching an HR person (user nodes only);
//  3. tags/labels owner, owner-email, created-by, then team (a team
//     resolves to the HR team's manager, with lower confidence);
//  4. attrs.managed_by: an e-mail, an LDAP DN found on a node's attrs.dn,
//     or a node id;
//  5. attrs.installed_by;
//  6. created_by edges (CloudTrail creators): a human directly, or the
//     creator identity's own owner;
//  7. Kubernetes namespace annotations owner, contact, then team,
//     inherited by the service accounts in the namespace.
//
// A hint that names nobody in the roster is never dropped silently: Infer
// returns it as Unresolved so an analyst can fix the tag or add an
// override.
package ownership

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/sources"
)

// Source is the name of the subgraph Infer returns.
const Source = "ownership"

// peopleFeed reports whether source src is a roster of accountable
// people (the HR feed): the only sources whose human nodes count as
// owners, as each connector registers (sources.Source.PeopleFeed).
func peopleFeed(src string) bool { return sources.IsPeopleFeed(graph.SourceType(src)) }

// teamPrefix is the id prefix of a people feed's team groups
// ("hr:team/", see connectors/hr).
func teamPrefix(src string) string { return src + ":team/" }

// AttrDN is the attribute holding a node's LDAP distinguished name, used to
// resolve managed_by hints written as DNs.
const AttrDN = "dn"

// AttrRule names, on an owns edge, the rule that produced it.
const AttrRule = "rule"

// Rule names, as reported on edges and in Unresolved.
const (
	RuleOverride    = "override"
	RuleLoginEmail  = "login_email"
	RuleTag         = "tag"
	RuleManagedBy   = "managed_by"
	RuleInstalledBy = "installed_by"
	RuleCreatedBy   = "created_by"
	RuleNamespace   = "namespace_annotation"
)

// Unresolved is an owner hint that names nobody Steward can find in the
// HR roster.
type Unresolved struct {
	Target string `json:"target"` // node id the hint is about
	Rule   string `json:"rule"`   // which rule read it
	Hint   string `json:"hint"`   // the hint as the source wrote it (key=value for tags)
	Why    string `json:"why"`
}

// owner is one resolved owner of a target.
type owner struct {
	human      string
	confidence float64
	reason     string
	rule       string
}

// maxChain bounds created_by chains (creator created by creator ...).
const maxChain = 4

type index struct {
	nodes      map[string]*graph.Node
	humans     map[string]string      // e-mail -> human id (hr only)
	aliases    map[string]*graph.Node // team alias e-mail -> hr team node
	teams      map[string]*graph.Node // team name (lower) -> hr team node
	teamMgrs   map[string]map[string]int
	dns        map[string]string   // lower DN -> node id
	ownedBy    map[string][]string // target -> hr human ids from connector-emitted owns edges
	createdBy  map[string][]graph.Edge
	namespaces map[string]*graph.Node // source + "\x00" + namespace -> namespace node
	names      map[string][]string    // source + "\x00" + lower name -> node ids
	overrides  map[string]Override
}

// Infer computes owners for every identity and credential in sgs and
// returns them as the "ownership" subgraph, plus every hint it could not
// resolve. The output depends only on its inputs, so a rebuild gives the
// same subgraph.
func Infer(sgs []*graph.Subgraph, overrides []Override) (*graph.Subgraph, []Unresolved) {
	ix := build(sgs, overrides)
	out := &graph.Subgraph{Source: Source}
	var unresolved []Unresolved

	ids := make([]string, 0, len(ix.nodes))
	for id, n := range ix.nodes {
		if ownable(n) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		owners, un := ix.ownersOf(id, 0, map[string]bool{})
		unresolved = append(unresolved, un...)
		for _, o := range owners {
			out.AddEdge(graph.Edge{From: o.human, To: id, Kind: graph.EdgeOwns, Attrs: map[string]string{
				graph.AttrReason:     o.reason,
				graph.AttrConfidence: strconv.FormatFloat(o.confidence, 'f', 2, 64),
				AttrRule:             o.rule,
			}})
		}
	}
	// Overrides for identities no source reports are kept in the store but
	// cannot be applied; say so rather than emit a dangling edge.
	for _, id := range sortedKeys(ix.overrides) {
		if n, ok := ix.nodes[id]; !ok || !ownable(n) {
			o := ix.overrides[id]
			unresolved = append(unresolved, Unresolved{Target: id, Rule: RuleOverride, Hint: o.OwnerEmail,
				Why: "no identity or credential with this id in the graph"})
		}
	}
	out.Normalize()
	return out, unresolved
}

// ownable reports whether n is something that should have an owner.
func ownable(n *graph.Node) bool {
	return !peopleFeed(n.Source) && n.Source != Source && (n.Kind.IsIdentity() || n.Kind == graph.KindCredential)
}

func build(sgs []*graph.Subgraph, overrides []Override) *index {
	ix := &index{
		nodes: map[string]*graph.Node{}, humans: map[string]string{}, aliases: map[string]*graph.Node{},
		teams: map[string]*graph.Node{}, teamMgrs: map[string]map[string]int{}, dns: map[string]string{},
		ownedBy: map[string][]string{}, createdBy: map[string][]graph.Edge{},
		namespaces: map[string]*graph.Node{}, names: map[string][]string{}, overrides: map[string]Override{},
	}
	for _, sg := range sgs {
		if sg.Source == Source {
			continue // never feed our own output back in
		}
		for i := range sg.Nodes {
			n := &sg.Nodes[i]
			if _, dup := ix.nodes[n.ID]; dup {
				continue
			}
			ix.nodes[n.ID] = n
			if dn := n.Attrs[AttrDN]; dn != "" {
				ix.dns[normDN(dn)] = n.ID
			}
			if n.Name != "" {
				k := n.Source + "\x00" + strings.ToLower(n.Name)
				ix.names[k] = append(ix.names[k], n.ID)
			}
			if n.Subtype == "namespace" && n.Name != "" {
				ix.namespaces[n.Source+"\x00"+n.Name] = n
			}
			if !peopleFeed(n.Source) {
				continue
			}
			switch {
			case n.Kind == graph.KindHuman && n.Attrs[graph.AttrEmail] != "":
				ix.humans[strings.ToLower(n.Attrs[graph.AttrEmail])] = n.ID
			case n.Kind == graph.KindGroup && strings.HasPrefix(n.ID, teamPrefix(n.Source)):
				ix.teams[strings.ToLower(strings.TrimPrefix(n.ID, teamPrefix(n.Source)))] = n
				if e := n.Attrs[graph.AttrEmail]; e != "" {
					ix.aliases[strings.ToLower(e)] = n
				}
			}
		}
	}
	for _, n := range ix.nodes {
		if peopleFeed(n.Source) && n.Kind == graph.KindHuman && n.Status != graph.StatusDeparted {
			t, m := strings.ToLower(n.Attrs[graph.AttrTeam]), strings.ToLower(n.Attrs[graph.AttrManager])
			if t != "" && m != "" {
				if ix.teamMgrs[t] == nil {
					ix.teamMgrs[t] = map[string]int{}
				}
				ix.teamMgrs[t][m]++
			}
		}
	}
	for _, sg := range sgs {
		if sg.Source == Source {
			continue
		}
		for _, e := range sg.Edges {
			switch e.Kind {
			case graph.EdgeOwns:
				if h, ok := ix.nodes[e.From]; ok && h.Kind == graph.KindHuman && peopleFeed(h.Source) {
					ix.ownedBy[e.To] = append(ix.ownedBy[e.To], e.From)
				}
			case graph.EdgeCreatedBy:
				ix.createdBy[e.From] = append(ix.createdBy[e.From], e)
			}
		}
	}
	for _, o := range overrides {
		if cur, ok := ix.overrides[o.Identity]; !ok || o.SetAt.After(cur.SetAt) {
			ix.overrides[o.Identity] = o
		}
	}
	return ix
}

// ownersOf runs the rules for id in priority order and returns the owners
// from the first rule that resolves, plus the hints that did not resolve
// at any level (lower levels are still read so a broken tag is reported
// even when a stronger rule already answered).
func (ix *index) ownersOf(id string, depth int, visiting map[string]bool) ([]owner, []Unresolved) {
	n := ix.nodes[id]
	visiting[id] = true
	defer delete(visiting, id)
	var (
		found []owner
		un    []Unresolved
	)
	try := func(rule, hint string, conf float64, reason string, res resolution) bool {
		if res.human == "" {
			un = append(un, Unresolved{Target: id, Rule: rule, Hint: hint, Why: res.why})
			return false
		}
		if found != nil {
			return true
		}
		if res.via != "" {
			reason += " → " + res.via
		}
		found = append(found, owner{human: res.human, confidence: conf * res.factor, reason: reason, rule: rule})
		return true
	}

	// 1. Analyst override.
	if o, ok := ix.overrides[id]; ok {
		reason := fmt.Sprintf("set by %s at %s", o.SetBy, o.SetAt.UTC().Format(time.RFC3339))
		if o.Reason != "" {
			reason += ": " + o.Reason
		}
		try(RuleOverride, o.OwnerEmail, 1.0, reason, ix.byEmail(o.OwnerEmail, false))
	}
	// 2. A login's own e-mail is its person.
	if n.Kind == graph.KindUser {
		if e := n.Attrs[graph.AttrEmail]; e != "" {
			try(RuleLoginEmail, e, 0.95, fmt.Sprintf("login e-mail %s", e), ix.byEmail(e, false))
		}
	}
	// 3. Owner tags, strongest key first; within the tier the first key
	// that resolves wins.
	tags := normTags(n.Tags)
	tierDone := false
	for _, tk := range []struct {
		key  string
		conf float64
	}{{"owner", 0.9}, {"owner-email", 0.9}, {"created-by", 0.8}} {
		if v, ok := tags[tk.key]; ok {
			r := ix.resolve(v.value, n)
			if try(RuleTag, v.key+"="+v.value, tk.conf, fmt.Sprintf("tag %s=%q", v.key, v.value), r) {
				tierDone = true
			}
		}
	}
	if v, ok := tags["team"]; ok && !tierDone {
		try(RuleTag, v.key+"="+v.value, 0.6, fmt.Sprintf("tag %s=%q", v.key, v.value), ix.teamManager(v.value))
	} else if ok {
		// Still checked so a misspelt team is reported.
		if r := ix.teamManager(v.value); r.human == "" {
			un = append(un, Unresolved{Target: id, Rule: RuleTag, Hint: v.key + "=" + v.value, Why: r.why})
		}
	}
	// 4, 5. Source-reported manager and installer.
	for _, v := range hintList(n.Attrs[graph.AttrManagedBy]) {
		try(RuleManagedBy, v, 0.8, fmt.Sprintf("managed_by %q", v), ix.resolve(v, n))
	}
	for _, v := range hintList(n.Attrs[graph.AttrInstalledBy]) {
		try(RuleInstalledBy, v, 0.7, fmt.Sprintf("installed_by %q", v), ix.resolve(v, n))
	}
	// 6. Creator events. Every creator in the tier counts.
	if edges := ix.createdBy[id]; len(edges) > 0 {
		var creators []owner
		for _, e := range edges {
			ev := e.Attrs["event"]
			reason := fmt.Sprintf("created by %s", e.To)
			if ev != "" {
				reason += fmt.Sprintf(" (event %s)", ev)
			}
			c, ok := ix.nodes[e.To]
			switch {
			case ok && c.Kind == graph.KindHuman && peopleFeed(c.Source):
				creators = append(creators, owner{human: c.ID, confidence: 0.7, reason: reason, rule: RuleCreatedBy})
			case depth < maxChain && !visiting[e.To] && ok:
				r := ix.humanOf(c)
				if r.human != "" {
					creators = append(creators, owner{human: r.human, confidence: 0.6, reason: reason + " → " + r.via, rule: RuleCreatedBy})
					continue
				}
				up, _ := ix.ownersOf(e.To, depth+1, visiting)
				for _, o := range up {
					creators = append(creators, owner{human: o.human, confidence: 0.6 * o.confidence,
						reason: reason + ", owned by " + o.human + " (" + o.reason + ")", rule: RuleCreatedBy})
				}
				if len(up) == 0 {
					un = append(un, Unresolved{Target: id, Rule: RuleCreatedBy, Hint: e.To, Why: "creator has no owner in the HR roster"})
				}
			default:
				un = append(un, Unresolved{Target: id, Rule: RuleCreatedBy, Hint: e.To, Why: "creator is not in the graph"})
			}
		}
		if found == nil && len(creators) > 0 {
			found = dedupe(creators)
		}
	}
	// 7. Namespace annotations for namespaced identities.
	if ns := n.Attrs[graph.AttrNamespace]; ns != "" {
		if nsNode := ix.namespaces[n.Source+"\x00"+ns]; nsNode != nil && nsNode.ID != id {
			ann := normTags(mergeMaps(nsNode.Attrs, nsNode.Tags))
			done := false
			for _, k := range []string{"owner", "contact"} {
				if v, ok := ann[k]; ok && !done {
					done = try(RuleNamespace, v.key+"="+v.value, 0.5,
						fmt.Sprintf("namespace %s annotation %s=%q", ns, v.key, v.value), ix.resolve(v.value, nsNode))
				}
			}
			if v, ok := ann["team"]; ok && !done {
				try(RuleNamespace, v.key+"="+v.value, 0.4,
					fmt.Sprintf("namespace %s annotation %s=%q", ns, v.key, v.value), ix.teamManager(v.value))
			}
		}
	}
	return found, un
}

// resolution is where a hint led: a human id, or why not.
type resolution struct {
	human  string
	via    string  // extra path text for the reason
	factor float64 // confidence multiplier (team aliases are weaker)
	why    string
}

func ok(human, via string) resolution { return resolution{human: human, via: via, factor: 1} }
func fail(format string, a ...any) resolution {
	return resolution{why: fmt.Sprintf(format, a...)}
}

// resolve turns an owner hint into a person. Hints come as e-mail
// addresses, LDAP DNs, node ids or source logins.
func (ix *index) resolve(v string, from *graph.Node) resolution {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return fail("empty")
	case strings.Contains(v, "=") && strings.Contains(v, ","):
		id, found := ix.dns[normDN(v)]
		if !found {
			return fail("no node carries LDAP DN %q", v)
		}
		r := ix.humanOf(ix.nodes[id])
		if r.human != "" && r.via == "" {
			r.via = "DN of " + id
		} else if r.human != "" {
			r.via = "DN of " + id + " → " + r.via
		}
		return r
	case strings.Contains(v, "@") && !strings.Contains(v, ":"):
		return ix.byEmail(v, true)
	}
	if n, found := ix.nodes[v]; found {
		return ix.humanOf(n)
	}
	if strings.HasPrefix(strings.ToLower(v), "mailto:") {
		return ix.byEmail(v[len("mailto:"):], true)
	}
	// A bare login ("octocat") names an account in the hint's own source.
	var ids []string
	if from != nil {
		ids = ix.names[from.Source+"\x00"+strings.ToLower(v)]
	}
	var people []resolution
	for _, id := range ids {
		if n := ix.nodes[id]; n.Kind.IsIdentity() || n.Kind == graph.KindHuman {
			if r := ix.humanOf(n); r.human != "" {
				people = append(people, r)
			}
		}
	}
	if len(people) == 1 {
		return people[0]
	}
	if len(people) > 1 {
		return fail("login %q matches %d accounts in %s", v, len(people), from.Source)
	}
	return fail("%q is not an e-mail, DN, node id or known login", v)
}

// byEmail finds the HR person with e-mail e, or the manager of the team
// whose alias e is.
func (ix *index) byEmail(e string, allowAlias bool) resolution {
	e = strings.ToLower(strings.TrimSpace(e))
	if h, found := ix.humans[e]; found {
		return ok(h, "")
	}
	if t, found := ix.aliases[e]; found && allowAlias {
		m := strings.ToLower(t.Attrs[graph.AttrManager])
		if h, found := ix.humans[m]; found {
			return resolution{human: h, via: fmt.Sprintf("team alias of %s, manager %s", t.Name, m), factor: 0.75}
		}
		return fail("team alias %s has no manager in the HR roster", e)
	}
	return fail("no HR person with e-mail %s", e)
}

// teamManager resolves a team name to its manager: the alias row's
// manager if the roster has one, else the manager most active members of
// the team report to. A tie is ambiguous and unresolved.
func (ix *index) teamManager(team string) resolution {
	key := strings.ToLower(strings.TrimSpace(team))
	if t, found := ix.teams[key]; found && t.Attrs[graph.AttrManager] != "" {
		m := strings.ToLower(t.Attrs[graph.AttrManager])
		if h, found := ix.humans[m]; found {
			return resolution{human: h, via: "HR team " + t.Name + " manager " + m, factor: 1}
		}
		return fail("HR team %s manager %s is not in the roster", t.Name, m)
	}
	counts := ix.teamMgrs[key]
	if len(counts) == 0 {
		return fail("no HR team %q", team)
	}
	best, bestN, tie := "", 0, false
	for m, c := range counts {
		switch {
		case c > bestN:
			best, bestN, tie = m, c, false
		case c == bestN:
			tie = true
		}
	}
	if tie {
		return fail("HR team %q has no single manager", team)
	}
	h, found := ix.humans[best]
	if !found {
		return fail("HR team %q manager %s is not in the roster", team, best)
	}
	return resolution{human: h, via: "HR team " + team + " manager " + best, factor: 1}
}

// humanOf finds the person behind a node: the node itself if it is an HR
// human, the person with the login's e-mail, or an owns edge a connector
// emitted.
func (ix *index) humanOf(n *graph.Node) resolution {
	if n.Kind == graph.KindHuman && peopleFeed(n.Source) {
		return ok(n.ID, "")
	}
	if e := n.Attrs[graph.AttrEmail]; e != "" {
		if h, found := ix.humans[strings.ToLower(e)]; found {
			return ok(h, fmt.Sprintf("%s e-mail %s", n.ID, strings.ToLower(e)))
		}
	}
	if hs := ix.ownedBy[n.ID]; len(hs) == 1 {
		return ok(hs[0], fmt.Sprintf("%s owned by %s", n.ID, hs[0]))
	}
	return fail("%s has no e-mail of an HR person", n.ID)
}

type tagValue struct{ key, value string }

// normTags folds tag keys so "Owner", "owner_email" and "OwnerEmail" all
// match: sources spell them every way.
func normTags(m map[string]string) map[string]tagValue {
	out := map[string]tagValue{}
	keys := sortedKeys(m)
	for _, k := range keys {
		nk := strings.ToLower(strings.NewReplacer("_", "-", " ", "-").Replace(k))
		switch nk {
		case "owneremail":
			nk = "owner-email"
		case "createdby":
			nk = "created-by"
		}
		if strings.TrimSpace(m[k]) == "" {
			continue
		}
		if _, dup := out[nk]; !dup {
			out[nk] = tagValue{key: k, value: m[k]}
		}
	}
	return out
}

func normDN(dn string) string {
	parts := strings.Split(dn, ",")
	for i, p := range parts {
		parts[i] = strings.ToLower(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

func mergeMaps(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range b {
		out[k] = v
	}
	for k, v := range a {
		out[k] = v
	}
	return out
}

func dedupe(os []owner) []owner {
	seen := map[string]bool{}
	var out []owner
	for _, o := range os {
		if !seen[o.human] {
			seen[o.human] = true
			out = append(out, o)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// hintList splits a source's owner hint naming several owners ("id1,
// bob@example.com", as Entra lists an app's owners). A distinguished name
// is one hint even though it contains commas.
func hintList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if strings.Contains(v, "=") {
		return []string{v}
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
