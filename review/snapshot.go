package review

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/derive/usage"
	"github.com/steward-oss/steward/remediation"
	"github.com/steward-oss/steward/tools"
)

// maxGrants bounds the grants a snapshot keeps; the rest are counted.
const maxGrants = 50

// Graph is the current graph: the index questions run on and, when the
// caller has them, the subgraphs usage is computed from (nil: the unused
// permissions are not known and Modify is not offered).
type Graph interface {
	Index() *graph.Index
}

// Subgraphs is implemented by a Graph that also gives the loaded
// subgraphs (*inventory.Inventory does).
type Subgraphs interface {
	All() []*graph.Subgraph
}

// Finder runs the scope's plan and snapshots the targets as remediation
// proposals do (workflow.Finder).
type Finder interface {
	Find(ctx context.Context, plan json.RawMessage, now time.Time) ([]remediation.Target, error)
}

// snapshot freezes identity t at now.
func snapshot(ix *graph.Index, sgs []*graph.Subgraph, t remediation.Target, idleDays int, now time.Time) (Snapshot, error) {
	i, ok := ix.Lookup(t.ID)
	if !ok {
		return Snapshot{}, fmt.Errorf("review: snapshot: %s is not in the graph", t.ID)
	}
	n := ix.Node(i)
	priv, _ := ix.Privilege(i)
	s := Snapshot{ID: n.ID, Name: t.Name, Kind: n.Kind, Source: n.Source, Privilege: string(priv),
		Owner: t.OwnerEmail, Evidence: t.Why, Expect: t.Expect, CredentialAgeDays: -1}
	owners, st := ix.Owners(i)
	s.OwnerState = string(st)
	for _, ei := range owners {
		e := ix.Edge(ei)
		if e.Kind != graph.EdgeOwns {
			continue
		}
		email, departed := humanEmail(ix, e.From)
		s.Owners = append(s.Owners, OwnerRef{Email: email, Departed: departed})
	}
	s.Grants = grants(ix, i)
	last, _ := ix.LastUsed(i)
	s.LastUsed = last
	since := last
	if since.IsZero() {
		since = n.CreatedAt
	}
	if !since.IsZero() {
		s.IdleDays = int(now.Sub(since).Hours() / 24)
	}
	s.CredentialAgeDays = credentialAge(ix, i, now)
	for _, ei := range ix.Leaks(i) {
		s.Leaks = append(s.Leaks, tools.MaskSecrets(ix.Edge(ei).To))
	}
	if sgs != nil {
		rep, err := usage.UnusedPermissions(sgs, n.ID, time.Duration(idleDays)*24*time.Hour, now)
		switch {
		case err == nil:
			s.Unused, s.Used, s.UnusedKnown = rep.Unused, rep.Used, true
		case errors.Is(err, usage.ErrNotFound):
		default:
			return Snapshot{}, fmt.Errorf("review: snapshot %s: %w", n.ID, err)
		}
	}
	s.Fingerprint = fingerprint(ix, i)
	return s, nil
}

// fingerprint hashes the facts of node i a reviewer judged: status,
// privilege, grants, owners, credentials' status and leaks.
func fingerprint(ix *graph.Index, i int32) string {
	n := ix.Node(i)
	priv, _ := ix.Privilege(i)
	parts := []string{"status=" + n.Status, "privilege=" + string(priv)}
	for _, g := range grants(ix, i) {
		parts = append(parts, "grant="+g.From+"|"+g.To+"|"+g.Action+"|"+g.Resource)
	}
	owners, _ := ix.Owners(i)
	for _, ei := range owners {
		e := ix.Edge(ei)
		email, departed := humanEmail(ix, e.From)
		parts = append(parts, "owner="+email+"|"+strconv.FormatBool(departed))
	}
	for _, ei := range ix.Out(i) {
		e := ix.Edge(ei)
		if e.Kind == graph.EdgeHasCredential {
			if j, ok := ix.Lookup(e.To); ok {
				parts = append(parts, "credential="+e.To+"|"+ix.NodeStatus(j))
			}
		}
	}
	parts = append(parts, "leaks="+strconv.Itoa(len(ix.Leaks(i))))
	sort.Strings(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:12])
}

// changes describes how node i differs from the snapshot, "" if not.
func changes(ix *graph.Index, s *Snapshot) string {
	i, ok := ix.Lookup(s.ID)
	if !ok {
		return "the identity is no longer in the graph"
	}
	if fingerprint(ix, i) == s.Fingerprint {
		return ""
	}
	var how []string
	n := ix.Node(i)
	if priv, _ := ix.Privilege(i); string(priv) != s.Privilege {
		how = append(how, fmt.Sprintf("privilege %s -> %s", s.Privilege, priv))
	}
	if g := grants(ix, i); len(g) != len(s.Grants) {
		how = append(how, fmt.Sprintf("grants %d -> %d", len(s.Grants), len(g)))
	}
	if n.Status != "" && s.Expect["status"] != "" && s.Expect["status"] != n.Status {
		how = append(how, "status "+s.Expect["status"]+" -> "+n.Status)
	}
	if len(how) == 0 {
		how = append(how, "owners, credentials or leaks changed")
	}
	return strings.Join(how, "; ")
}

// grants collects the grants reaching node i: its own, its groups'
// (transitively) and those of policies attached to it or its groups.
func grants(ix *graph.Index, i int32) []Grant {
	seen := map[int32]bool{i: true}
	queue := []int32{i}
	var out []Grant
	for len(queue) > 0 && len(out) < maxGrants {
		cur := queue[0]
		queue = queue[1:]
		for _, ei := range ix.Out(cur) {
			e := ix.Edge(ei)
			switch e.Kind {
			case graph.EdgeGrants:
				if e.Effect == graph.EffectDeny || len(out) >= maxGrants {
					continue
				}
				out = append(out, Grant{From: e.From, To: e.To, Action: e.Action, Resource: tools.MaskSecrets(e.Resource), Privilege: string(e.Privilege)})
			case graph.EdgeMemberOf:
				if j, ok := ix.Lookup(e.To); ok && !seen[j] {
					seen[j] = true
					queue = append(queue, j)
				}
			}
		}
		for _, ei := range ix.In(cur) {
			e := ix.Edge(ei)
			if e.Kind != graph.EdgeAttachedTo {
				continue
			}
			if j, ok := ix.Lookup(e.From); ok && !seen[j] {
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	return out
}

// credentialAge is the age in days of the oldest active credential of
// node i (or of i itself when it is a credential); -1 when it has none.
func credentialAge(ix *graph.Index, i int32, now time.Time) int {
	age := func(n *graph.Node) int {
		t := n.CreatedAt
		if n.RotatedAt.After(t) {
			t = n.RotatedAt
		}
		if t.IsZero() {
			return -1
		}
		return int(now.Sub(t).Hours() / 24)
	}
	if n := ix.Node(i); n.Kind == graph.KindCredential {
		return age(&n)
	}
	best := -1
	for _, ei := range ix.Out(i) {
		e := ix.Edge(ei)
		if e.Kind != graph.EdgeHasCredential {
			continue
		}
		if j, ok := ix.Lookup(e.To); ok && ix.NodeStatus(j) != graph.StatusDisabled {
			nj := ix.Node(j)
			if a := age(&nj); a > best {
				best = a
			}
		}
	}
	return best
}

// humanEmail is the e-mail of a human node id and whether they left.
func humanEmail(ix *graph.Index, id string) (string, bool) {
	i, ok := ix.Lookup(id)
	if !ok {
		return norm(strings.TrimPrefix(id, "human:")), false
	}
	n := ix.Node(i)
	email := n.Attrs[graph.AttrEmail]
	if email == "" {
		email = strings.TrimPrefix(n.ID, "human:")
	}
	return norm(email), n.Status == graph.StatusDeparted
}

// person returns the HR facts of e-mail: whether they are known, left,
// and their manager.
func person(ix *graph.Index, email string) (known, departed bool, manager string) {
	i, ok := ix.Lookup(graph.HumanID(email))
	if !ok {
		return false, false, ""
	}
	n := ix.Node(i)
	return true, n.Status == graph.StatusDeparted, norm(n.Attrs[graph.AttrManager])
}
