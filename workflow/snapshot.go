package workflow

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/remediation"
	"github.com/steward-oss/steward/tools"
)

// IndexSource gives the current graph index; *inventory.Inventory is one.
type IndexSource interface{ Index() *graph.Index }

// snapshot is the remediation target for node i as the index shows it
// now. evidence is what the query that selected it returned for its row;
// it becomes Why, the lines approvers read. Expect is the state the
// source's actuator re-checks before acting, in the parameter names that
// actuator reads (postgres can_login, ldap user_account_control and
// status), so an approval never covers a target that changed since.
func snapshot(ix *graph.Index, i int32, evidence []query.EdgeRef, now time.Time) remediation.Target {
	n := ix.Node(i)
	return remediation.Target{
		ID:         n.ID,
		Name:       displayName(&n),
		Kind:       n.Kind,
		Source:     n.Source,
		OwnerEmail: ownerEmail(ix, i),
		Why:        why(ix, i, evidence, now),
		Expect:     actuate.Expect(&n),
	}
}

// isAdmin reports whether node i holds admin privilege (directly, through
// groups and roles, or, for a credential, through its holder).
func isAdmin(ix *graph.Index, i int32) bool {
	p, _ := ix.Privilege(i)
	return p == graph.PrivAdmin
}

// displayName shows a credential by its masked key id and anything else by
// its name, with secret-shaped substrings masked.
func displayName(n *graph.Node) string {
	if m := n.Attrs[graph.AttrKeyIDMasked]; m != "" {
		return m
	}
	if n.Name == "" {
		return tools.MaskSecrets(n.ID)
	}
	return tools.MaskSecrets(n.Name)
}

func nameOf(ix *graph.Index, id string) string {
	if i, ok := ix.Lookup(id); ok {
		n := ix.Node(i)
		return displayName(&n)
	}
	return tools.MaskSecrets(id)
}

// humanEmail is the e-mail of a human node id: its email attribute, else
// the id's "human:<email>" form.
func humanEmail(ix *graph.Index, id string) (email string, departed bool) {
	i, ok := ix.Lookup(id)
	if !ok {
		return strings.ToLower(strings.TrimPrefix(id, "human:")), false
	}
	n := ix.Node(i)
	email = n.Attrs[graph.AttrEmail]
	if email == "" {
		email = strings.TrimPrefix(n.ID, "human:")
	}
	return strings.ToLower(email), n.Status == graph.StatusDeparted
}

// ownerEmail is the active owner of node i the approval should ask: the
// most confident owns edge whose person has not left. A departed owner
// can neither approve nor be notified, so they never become the owner of
// a proposal. "" when no active person owns it.
func ownerEmail(ix *graph.Index, i int32) string {
	owners, _ := ix.Owners(i)
	best, bestConf := "", math.Inf(-1)
	for _, ei := range owners {
		e := ix.Edge(ei)
		if e.Kind != graph.EdgeOwns {
			continue
		}
		email, departed := humanEmail(ix, e.From)
		if departed || !strings.Contains(email, "@") {
			continue
		}
		conf := 0.0
		if c, err := strconv.ParseFloat(e.Attrs[graph.AttrConfidence], 64); err == nil {
			conf = c
		}
		if conf > bestConf {
			best, bestConf = email, conf
		}
	}
	return best
}

// why summarises the evidence of node i's row in a few lines: the
// privilege and the path that grants it, any other access path the query
// matched (who_can), the owners (and whether they left), the last
// recorded use and any leak.
func why(ix *graph.Index, i int32, evidence []query.EdgeRef, now time.Time) []string {
	type key struct {
		from, to string
		kind     graph.EdgeKind
	}
	priv, path := ix.Privilege(i)
	onPath := make(map[key]bool, len(path))
	for _, ei := range path {
		e := ix.Edge(ei)
		onPath[key{e.From, e.To, e.Kind}] = true
	}
	if len(evidence) == 0 {
		// Targets named by id arrive without a query row; the index's
		// own evidence (privilege path, leaks) stands in for it.
		for _, ei := range path {
			evidence = append(evidence, query.Ref(ix.Edge(ei)))
		}
		for _, ei := range ix.Leaks(i) {
			evidence = append(evidence, query.Ref(ix.Edge(ei)))
		}
	}
	var chain, access, leaks, other []string
	for _, e := range evidence {
		var step string
		switch e.Kind {
		case graph.EdgeMemberOf:
			step = "member of " + nameOf(ix, e.To)
		case graph.EdgeCanAssume:
			step = "can assume " + nameOf(ix, e.To)
		case graph.EdgeAttachedTo:
			step = nameOf(ix, e.From) + " attached to " + nameOf(ix, e.To)
		case graph.EdgeGrants:
			step = grantText(ix, e)
		case graph.EdgeHasCredential:
			if onPath[key{e.From, e.To, e.Kind}] {
				step = "credential of " + nameOf(ix, e.From)
			}
			// Otherwise it only links a credential to the holder whose
			// owners or use it inherits; those lines say so.
		case graph.EdgeOwns:
			// The owner line below reads the index: every owner counts,
			// whether or not the query returned its edge.
		case graph.EdgeLeaked:
			leaks = append(leaks, nameOf(ix, e.To))
		case graph.EdgeUsed:
			// The last-use line below comes from the index, which already
			// takes the latest of every use.
		default:
			other = append(other, fmt.Sprintf("%s %s %s", nameOf(ix, e.From), e.Kind, nameOf(ix, e.To)))
		}
		switch {
		case step == "":
		case onPath[key{e.From, e.To, e.Kind}]:
			chain = append(chain, step)
		default:
			access = append(access, step)
		}
	}
	var out []string
	if priv != "" && priv != graph.PrivNone {
		line := string(priv) + " privilege"
		if len(chain) > 0 {
			line += " via " + strings.Join(chain, ", ")
		}
		out = append(out, line)
	}
	if len(access) > 0 {
		out = append(out, "access via "+strings.Join(access, ", "))
	}
	var owners, departed []string
	ownerEdges, st := ix.Owners(i)
	for _, ei := range ownerEdges {
		if e := ix.Edge(ei); e.Kind == graph.EdgeOwns {
			if email, gone := humanEmail(ix, e.From); gone {
				departed = append(departed, email)
			} else {
				owners = append(owners, email)
			}
		}
	}
	switch {
	case len(owners) > 0:
		line := "owned by " + strings.Join(owners, ", ")
		if len(departed) > 0 {
			line += " (departed: " + strings.Join(departed, ", ") + ")"
		}
		out = append(out, line)
	case len(departed) > 0:
		out = append(out, "every owner has departed: "+strings.Join(departed, ", "))
	case st == graph.OwnerAbsent:
		out = append(out, "no known owner")
	}
	out = append(out, lastUse(ix, i, now))
	if len(leaks) > 0 {
		out = append(out, "leaked in "+strings.Join(leaks, ", "))
	}
	return append(out, other...)
}

func grantText(ix *graph.Index, e query.EdgeRef) string {
	prop := func(k string) string {
		if v, ok := e.Props[k].(string); ok {
			return v
		}
		return ""
	}
	res := prop("resource")
	if res == "" {
		res = nameOf(ix, e.To)
	}
	s := fmt.Sprintf("%s grants %s on %s", nameOf(ix, e.From), prop("action"), tools.MaskSecrets(res))
	if p := prop("privilege"); p != "" {
		s += " (" + p + ")"
	}
	if prop("effect") == graph.EffectDeny {
		s += " [deny]"
	}
	return s
}

func lastUse(ix *graph.Index, i int32, now time.Time) string {
	t, _ := ix.LastUsed(i)
	if t.IsZero() {
		if c := ix.NodeCreatedAt(i); !c.IsZero() {
			return fmt.Sprintf("no recorded use since it was created on %s", c.UTC().Format(time.DateOnly))
		}
		return "no recorded use"
	}
	days := int(now.Sub(t).Hours() / 24)
	return fmt.Sprintf("last used %s, %d days before %s", t.UTC().Format(time.DateOnly), days, now.UTC().Format(time.DateOnly))
}
