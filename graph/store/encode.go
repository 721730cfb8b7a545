package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cayleygraph/quad"
	"github.com/steward-oss/steward/graph"
)

// Predicates of node and reified-edge quads. Plain edges use the edge kind
// itself as predicate and are told apart from properties by their object,
// which is an IRI (a node id) where a property's is a string.
const (
	predKind        = quad.IRI("kind")
	predName        = quad.IRI("name")
	predSubtype     = quad.IRI("subtype")
	predStatus      = quad.IRI("status")
	predCreatedAt   = quad.IRI("created_at")
	predLastUsedAt  = quad.IRI("last_used_at")
	predRotatedAt   = quad.IRI("rotated_at")
	predExpiresAt   = quad.IRI("expires_at")
	predFrom        = quad.IRI("from")
	predTo          = quad.IRI("to")
	predAction      = quad.IRI("action")
	predResource    = quad.IRI("resource")
	predEffect      = quad.IRI("effect")
	predConditional = quad.IRI("conditional")
	predPrivilege   = quad.IRI("privilege")
	predLastSeen    = quad.IRI("last_seen")
	// predTags and predAttrs mark a map that is present but empty, the
	// one case its entries cannot express.
	predTags  = quad.IRI("tags")
	predAttrs = quad.IRI("attrs")

	tagPrefix  = "tag:"
	attrPrefix = "attr:"

	// edgeNodePrefix starts the blank-node name of a reified edge. Edge
	// nodes are blank nodes, not IRIs, so no node id can ever collide with
	// one.
	edgeNodePrefix = "e"
)

// trueValue is the only stored value of a conditional grant; false is
// stored as absence.
const trueValue = quad.String("true")

// sourceLabel is the label of every quad a source owns.
func sourceLabel(source string) quad.Value { return quad.String(source) }

// edgeNode names the reified node of e: a hash of its source and key, so
// the same fact keeps the same node across loads and a reload that only
// changes a property rewrites only that property's quad.
func edgeNode(source string, e graph.Edge) quad.BNode {
	h := sha256.Sum256([]byte(source + "\x00" + e.Key()))
	return quad.BNode(edgeNodePrefix + hex.EncodeToString(h[:16]))
}

// reified reports whether e needs an edge node: anything beyond From,
// Kind and To (a non-nil empty Attrs map included) cannot be said by one
// quad.
func reified(e graph.Edge) bool {
	return e.Action != "" || e.Resource != "" || e.Effect != "" || e.Conditional ||
		e.Privilege != "" || !e.LastSeen.IsZero() || e.Attrs != nil
}

// encodeError names the element of a subgraph the store cannot hold.
type encodeError struct {
	source, where, field, msg string
}

func (e *encodeError) Error() string {
	return fmt.Sprintf("store: source %q: %s.%s: %s", e.source, e.where, e.field, e.msg)
}

// checkString rejects what one of the backends cannot store verbatim:
// PostgreSQL text holds neither NUL nor invalid UTF-8, and the store
// promises the same behaviour on every backend.
func checkString(s string) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL byte"
	}
	return ""
}

// encodeTime renders t in UTC with nanoseconds. Strings, not quad.Time,
// because the SQL backend keeps microseconds only.
func encodeTime(t time.Time) (quad.String, string) {
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return "", fmt.Sprintf("year %d outside 0..9999", y)
	}
	return quad.String(u.Format(time.RFC3339Nano)), ""
}

func decodeTime(v quad.Value) (time.Time, error) {
	s, ok := v.(quad.String)
	if !ok {
		return time.Time{}, fmt.Errorf("time is a %T, want a string", v)
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// check reports the first string or time in sg that the store cannot
// hold, naming its position in sg as given (encode sees the normalized
// copy, whose positions the caller does not know).
func check(sg *graph.Subgraph) error {
	if msg := checkString(sg.Source); msg != "" {
		return &encodeError{sg.Source, "subgraph", "source", msg}
	}
	type field struct {
		name string
		s    string
	}
	type tfield struct {
		name string
		t    time.Time
	}
	bad := func(where string, fs []field, ts []tfield, maps map[string]map[string]string) error {
		for _, f := range fs {
			if msg := checkString(f.s); msg != "" {
				return &encodeError{sg.Source, where, f.name, msg}
			}
		}
		for _, f := range ts {
			if f.t.IsZero() {
				continue
			}
			if _, msg := encodeTime(f.t); msg != "" {
				return &encodeError{sg.Source, where, f.name, msg}
			}
		}
		for _, name := range []string{"tags", "attrs"} {
			for k, v := range maps[name] {
				for _, x := range []string{k, v} {
					if msg := checkString(x); msg != "" {
						return &encodeError{sg.Source, where, fmt.Sprintf("%s[%q]", name, k), msg}
					}
				}
			}
		}
		return nil
	}
	for i, n := range sg.Nodes {
		if err := bad(fmt.Sprintf("node[%d]", i),
			[]field{{"id", n.ID}, {"name", n.Name}, {"subtype", n.Subtype}, {"status", n.Status}},
			[]tfield{{"created_at", n.CreatedAt}, {"last_used_at", n.LastUsedAt}, {"rotated_at", n.RotatedAt}, {"expires_at", n.ExpiresAt}},
			map[string]map[string]string{"tags": n.Tags, "attrs": n.Attrs}); err != nil {
			return err
		}
	}
	for i, e := range sg.Edges {
		if err := bad(fmt.Sprintf("edge[%d]", i),
			[]field{{"from", e.From}, {"to", e.To}, {"action", e.Action}, {"resource", e.Resource}, {"effect", e.Effect}, {"privilege", string(e.Privilege)}},
			[]tfield{{"last_seen", e.LastSeen}},
			map[string]map[string]string{"attrs": e.Attrs}); err != nil {
			return err
		}
	}
	return nil
}

// encode turns a validated, normalized subgraph into its quads, all
// labelled with the subgraph's source. Empty fields produce no quad.
func encode(sg *graph.Subgraph) ([]quad.Quad, error) {
	label := sourceLabel(sg.Source)
	if msg := checkString(sg.Source); msg != "" {
		return nil, &encodeError{sg.Source, "subgraph", "source", msg}
	}
	out := make([]quad.Quad, 0, 3*len(sg.Nodes)+len(sg.Edges))
	var bad *encodeError
	str := func(where, field, s string) bool {
		if msg := checkString(s); msg != "" {
			bad = &encodeError{sg.Source, where, field, msg}
			return false
		}
		return true
	}
	add := func(s quad.Value, p quad.IRI, o quad.Value) {
		out = append(out, quad.Quad{Subject: s, Predicate: p, Object: o, Label: label})
	}
	addStr := func(s quad.Value, p quad.IRI, where, field, v string) bool {
		if v == "" {
			return true
		}
		if !str(where, field, v) {
			return false
		}
		add(s, p, quad.String(v))
		return true
	}
	addTime := func(s quad.Value, p quad.IRI, where, field string, t time.Time) bool {
		if t.IsZero() {
			return true
		}
		v, msg := encodeTime(t)
		if msg != "" {
			bad = &encodeError{sg.Source, where, field, msg}
			return false
		}
		add(s, p, v)
		return true
	}
	addMap := func(s quad.Value, marker quad.IRI, prefix, where, field string, m map[string]string) bool {
		if m == nil {
			return true
		}
		if len(m) == 0 {
			add(s, marker, quad.String(""))
			return true
		}
		for k, v := range m {
			if !str(where, fmt.Sprintf("%s[%q]", field, k), k) || !str(where, fmt.Sprintf("%s[%q]", field, k), v) {
				return false
			}
			add(s, quad.IRI(prefix+k), quad.String(v))
		}
		return true
	}

	for i, n := range sg.Nodes {
		where := fmt.Sprintf("node[%d]", i)
		if !str(where, "id", n.ID) {
			return nil, bad
		}
		id := quad.IRI(n.ID)
		add(id, predKind, quad.String(n.Kind))
		ok := addStr(id, predName, where, "name", n.Name) &&
			addStr(id, predSubtype, where, "subtype", n.Subtype) &&
			addStr(id, predStatus, where, "status", n.Status) &&
			addTime(id, predCreatedAt, where, "created_at", n.CreatedAt) &&
			addTime(id, predLastUsedAt, where, "last_used_at", n.LastUsedAt) &&
			addTime(id, predRotatedAt, where, "rotated_at", n.RotatedAt) &&
			addTime(id, predExpiresAt, where, "expires_at", n.ExpiresAt) &&
			addMap(id, predTags, tagPrefix, where, "tags", n.Tags) &&
			addMap(id, predAttrs, attrPrefix, where, "attrs", n.Attrs)
		if !ok {
			return nil, bad
		}
	}
	for i, e := range sg.Edges {
		where := fmt.Sprintf("edge[%d]", i)
		if !str(where, "from", e.From) || !str(where, "to", e.To) {
			return nil, bad
		}
		if !reified(e) {
			add(quad.IRI(e.From), quad.IRI(e.Kind), quad.IRI(e.To))
			continue
		}
		en := edgeNode(sg.Source, e)
		add(en, predKind, quad.String(e.Kind))
		add(en, predFrom, quad.IRI(e.From))
		add(en, predTo, quad.IRI(e.To))
		ok := addStr(en, predAction, where, "action", e.Action) &&
			addStr(en, predResource, where, "resource", e.Resource) &&
			addStr(en, predEffect, where, "effect", e.Effect) &&
			addStr(en, predPrivilege, where, "privilege", string(e.Privilege)) &&
			addTime(en, predLastSeen, where, "last_seen", e.LastSeen) &&
			addMap(en, predAttrs, attrPrefix, where, "attrs", e.Attrs)
		if !ok {
			return nil, bad
		}
		if e.Conditional {
			add(en, predConditional, trueValue)
		}
	}
	return out, nil
}

// ErrCorrupt is wrapped by every error about stored quads that no
// encoder of this package could have written.
var ErrCorrupt = errors.New("store: stored graph is corrupt")

func corrupt(source, format string, args ...any) error {
	return fmt.Errorf("%w: source %q: %s", ErrCorrupt, source, fmt.Sprintf(format, args...))
}

// decode rebuilds the subgraph of source from its quads (any order). The
// result is normalized.
func decode(source string, quads []quad.Quad) (*graph.Subgraph, error) {
	type edgeParts struct {
		e                  graph.Edge
		hasKind, hasFromTo int
	}
	nodes := map[string]*graph.Node{}
	edgeNodes := map[quad.BNode]*edgeParts{}
	var plain []graph.Edge

	node := func(id string) *graph.Node {
		n := nodes[id]
		if n == nil {
			n = &graph.Node{ID: id, Source: source}
			nodes[id] = n
		}
		return n
	}
	setStr := func(dst *string, what string, o quad.Value) error {
		s, ok := o.(quad.String)
		if !ok {
			return corrupt(source, "%s: value is a %T, want a string", what, o)
		}
		if *dst != "" || s == "" {
			return corrupt(source, "%s: duplicate or empty value", what)
		}
		*dst = string(s)
		return nil
	}
	setTime := func(dst *time.Time, what string, o quad.Value) error {
		if !dst.IsZero() {
			return corrupt(source, "%s: duplicate value", what)
		}
		t, err := decodeTime(o)
		if err != nil {
			return corrupt(source, "%s: %v", what, err)
		}
		*dst = t
		return nil
	}
	setMap := func(dst *map[string]string, what string, key string, o quad.Value, marker bool) error {
		s, ok := o.(quad.String)
		if !ok {
			return corrupt(source, "%s: value is a %T, want a string", what, o)
		}
		if *dst == nil {
			*dst = map[string]string{}
		}
		if marker {
			return nil
		}
		if _, dup := (*dst)[key]; dup {
			return corrupt(source, "%s: duplicate key %q", what, key)
		}
		(*dst)[key] = string(s)
		return nil
	}

	for _, q := range quads {
		p, ok := q.Predicate.(quad.IRI)
		if !ok {
			return nil, corrupt(source, "quad %v: predicate is a %T, want an IRI", q, q.Predicate)
		}
		switch s := q.Subject.(type) {
		case quad.IRI:
			if to, isEdge := q.Object.(quad.IRI); isEdge {
				plain = append(plain, graph.Edge{From: string(s), To: string(to), Kind: graph.EdgeKind(p)})
				continue
			}
			n := node(string(s))
			what := fmt.Sprintf("node %q: %s", s, p)
			var err error
			switch p {
			case predKind:
				var k string
				err = setStr(&k, what, q.Object)
				if n.Kind != "" {
					err = corrupt(source, "%s: duplicate value", what)
				}
				n.Kind = graph.Kind(k)
			case predName:
				err = setStr(&n.Name, what, q.Object)
			case predSubtype:
				err = setStr(&n.Subtype, what, q.Object)
			case predStatus:
				err = setStr(&n.Status, what, q.Object)
			case predCreatedAt:
				err = setTime(&n.CreatedAt, what, q.Object)
			case predLastUsedAt:
				err = setTime(&n.LastUsedAt, what, q.Object)
			case predRotatedAt:
				err = setTime(&n.RotatedAt, what, q.Object)
			case predExpiresAt:
				err = setTime(&n.ExpiresAt, what, q.Object)
			case predTags:
				err = setMap(&n.Tags, what, "", q.Object, true)
			case predAttrs:
				err = setMap(&n.Attrs, what, "", q.Object, true)
			default:
				switch {
				case strings.HasPrefix(string(p), tagPrefix):
					err = setMap(&n.Tags, what, strings.TrimPrefix(string(p), tagPrefix), q.Object, false)
				case strings.HasPrefix(string(p), attrPrefix):
					err = setMap(&n.Attrs, what, strings.TrimPrefix(string(p), attrPrefix), q.Object, false)
				default:
					err = corrupt(source, "%s: unknown node predicate", what)
				}
			}
			if err != nil {
				return nil, err
			}
		case quad.BNode:
			ep := edgeNodes[s]
			if ep == nil {
				ep = &edgeParts{}
				edgeNodes[s] = ep
			}
			e := &ep.e
			what := fmt.Sprintf("edge node %s: %s", s, p)
			var err error
			switch p {
			case predKind:
				var k string
				err = setStr(&k, what, q.Object)
				e.Kind = graph.EdgeKind(k)
				ep.hasKind++
			case predFrom, predTo:
				iri, ok := q.Object.(quad.IRI)
				if !ok || iri == "" {
					return nil, corrupt(source, "%s: value is %v, want a node IRI", what, q.Object)
				}
				dst := &e.From
				if p == predTo {
					dst = &e.To
				}
				if *dst != "" {
					return nil, corrupt(source, "%s: duplicate value", what)
				}
				*dst = string(iri)
				ep.hasFromTo++
			case predAction:
				err = setStr(&e.Action, what, q.Object)
			case predResource:
				err = setStr(&e.Resource, what, q.Object)
			case predEffect:
				err = setStr(&e.Effect, what, q.Object)
			case predPrivilege:
				var pv string
				err = setStr(&pv, what, q.Object)
				e.Privilege = graph.Privilege(pv)
			case predConditional:
				if q.Object != trueValue || e.Conditional {
					return nil, corrupt(source, "%s: value %v, want a single %v", what, q.Object, trueValue)
				}
				e.Conditional = true
			case predLastSeen:
				err = setTime(&e.LastSeen, what, q.Object)
			case predAttrs:
				err = setMap(&e.Attrs, what, "", q.Object, true)
			default:
				if !strings.HasPrefix(string(p), attrPrefix) {
					return nil, corrupt(source, "%s: unknown edge predicate", what)
				}
				err = setMap(&e.Attrs, what, strings.TrimPrefix(string(p), attrPrefix), q.Object, false)
			}
			if err != nil {
				return nil, err
			}
		default:
			return nil, corrupt(source, "quad %v: subject is a %T, want an IRI or a blank node", q, q.Subject)
		}
	}

	sg := &graph.Subgraph{Source: source}
	for id, n := range nodes {
		if n.Kind == "" {
			return nil, corrupt(source, "node %q has properties but no kind", id)
		}
		sg.Nodes = append(sg.Nodes, *n)
	}
	sg.Edges = plain
	names := make([]quad.BNode, 0, len(edgeNodes))
	for b := range edgeNodes {
		names = append(names, b)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	for _, b := range names {
		ep := edgeNodes[b]
		if ep.hasKind != 1 || ep.hasFromTo != 2 {
			return nil, corrupt(source, "edge node %s lacks its kind, from or to", b)
		}
		sg.Edges = append(sg.Edges, ep.e)
	}
	sg.Normalize()
	return sg, nil
}
