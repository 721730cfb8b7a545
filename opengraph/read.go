package opengraph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/steward-oss/steward/graph"
)

// FieldError names the place in a payload that is wrong, as a JSON path
// ("graph.nodes[3].kinds").
type FieldError struct {
	File  string
	Field string
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s: %v", e.File, e.Field, e.Err) }

func (e *FieldError) Unwrap() error { return e.Err }

// ReadOptions say how to read a payload Steward did not write.
type ReadOptions struct {
	// Source names the subgraph of nodes and edges without a
	// steward_source property; empty means "opengraph:" + the payload's
	// source_kind (or just "opengraph").
	Source string
}

// Read parses one OpenGraph payload into one subgraph per source,
// validated; name labels errors (usually the file path). Kinds must be
// Steward's (SWServiceAccount...): a node or edge with none is an error
// naming it. Edges matched by name are resolved against the payload's
// nodes. Nothing is returned on error.
func Read(r io.Reader, name string, opts ReadOptions) ([]*graph.Subgraph, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("opengraph: read %s: %w", name, err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("opengraph: %s: %w", name, err)
	}
	rawGraph, ok := top["graph"]
	if !ok {
		return nil, &FieldError{name, "graph", fmt.Errorf("missing (an OpenGraph payload is {\"graph\":{\"nodes\":[],\"edges\":[]}})")}
	}
	var p Payload
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("opengraph: %s: %w", name, err)
	}
	var g struct {
		Nodes *json.RawMessage `json:"nodes"`
		Edges *json.RawMessage `json:"edges"`
	}
	if err := json.Unmarshal(rawGraph, &g); err != nil || g.Nodes == nil || g.Edges == nil {
		return nil, &FieldError{name, "graph", fmt.Errorf("want an object with nodes and edges arrays")}
	}
	def := opts.Source
	if def == "" {
		def = "opengraph"
		if p.Metadata != nil && p.Metadata.SourceKind != "" && p.Metadata.SourceKind != SourceKind {
			def += ":" + p.Metadata.SourceKind
		}
	}

	bySource := map[string]*graph.Subgraph{}
	get := func(src string) *graph.Subgraph {
		sg, ok := bySource[src]
		if !ok {
			sg = &graph.Subgraph{Source: src}
			bySource[src] = sg
		}
		return sg
	}
	byName := map[string][]string{}
	ids := map[string]bool{}
	for i, n := range p.Graph.Nodes {
		f := fmt.Sprintf("graph.nodes[%d]", i)
		node, src, err := readNode(n, def)
		if err != nil {
			return nil, &FieldError{name, f + err.(*FieldError).Field, err.(*FieldError).Err}
		}
		if ids[node.ID] {
			return nil, &FieldError{name, f + ".id", fmt.Errorf("duplicate id %q", node.ID)}
		}
		ids[node.ID] = true
		if node.Name != "" {
			byName[node.Name] = append(byName[node.Name], node.ID)
		}
		get(src).AddNode(node)
	}
	resolve := func(f string, ref Ref) (string, error) {
		switch ref.MatchBy {
		case "", "id":
			if ref.Value == "" {
				return "", &FieldError{name, f + ".value", fmt.Errorf("empty")}
			}
			return ref.Value, nil
		case "name":
			m := byName[ref.Value]
			if len(m) != 1 {
				return "", &FieldError{name, f, fmt.Errorf("match_by name %q matches %d nodes of the payload, want 1", ref.Value, len(m))}
			}
			return m[0], nil
		}
		return "", &FieldError{name, f + ".match_by", fmt.Errorf("want id or name, got %q", ref.MatchBy)}
	}
	for i, e := range p.Graph.Edges {
		f := fmt.Sprintf("graph.edges[%d]", i)
		kind, ok := edgeKinds[e.Kind]
		if !ok {
			return nil, &FieldError{name, f + ".kind", fmt.Errorf("%q is not a Steward edge kind (want one of %s)", e.Kind, known(edgeKindNames()))}
		}
		from, err := resolve(f+".start", e.Start)
		if err != nil {
			return nil, err
		}
		to, err := resolve(f+".end", e.End)
		if err != nil {
			return nil, err
		}
		pr := props{e.Properties}
		edge := graph.Edge{From: from, To: to, Kind: kind, Action: pr.str(propAction), Resource: pr.str(propResource),
			Effect: pr.str(propEffect), Privilege: graph.Privilege(pr.str(propPriv))}
		edge.Conditional, _ = e.Properties[propCond].(bool)
		if edge.LastSeen, err = pr.time(propLastSeen); err != nil {
			return nil, &FieldError{name, f + ".properties." + propLastSeen, err}
		}
		if edge.Attrs, err = pr.strMap(propAttrs); err != nil {
			return nil, &FieldError{name, f + ".properties." + propAttrs, err}
		}
		if _, ours := e.Properties[propSource]; !ours {
			edge.Attrs = foreignAttrs(e.Properties, edge.Attrs)
		}
		src := pr.str(propSource)
		if src == "" {
			src = def
		}
		get(src).Edges = append(get(src).Edges, edge)
	}
	srcs := make([]string, 0, len(bySource))
	for s := range bySource {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	out := make([]*graph.Subgraph, 0, len(srcs))
	for _, s := range srcs {
		sg := bySource[s]
		if err := sg.Validate(); err != nil {
			return nil, fmt.Errorf("opengraph: %s: %w", name, err)
		}
		out = append(out, sg)
	}
	return out, nil
}

func readNode(n Node, def string) (graph.Node, string, error) {
	if n.ID == "" {
		return graph.Node{}, "", &FieldError{Field: ".id", Err: fmt.Errorf("empty")}
	}
	if len(n.Kinds) == 0 || len(n.Kinds) > 3 {
		return graph.Node{}, "", &FieldError{Field: ".kinds", Err: fmt.Errorf("want 1 to 3 kinds, got %d", len(n.Kinds))}
	}
	var kind graph.Kind
	for _, k := range n.Kinds {
		if sk, ok := nodeKinds[k]; ok {
			kind = sk
			break
		}
	}
	if kind == "" {
		return graph.Node{}, "", &FieldError{Field: ".kinds", Err: fmt.Errorf("%q has no Steward node kind (want one of %s)", n.Kinds, known(nodeKindNames()))}
	}
	pr := props{n.Properties}
	node := graph.Node{ID: n.ID, Kind: kind, Name: pr.str(propName), Subtype: pr.str(propSubtype), Status: pr.str(propStatus)}
	var err error
	for _, t := range []struct {
		key string
		dst *time.Time
	}{{propCreated, &node.CreatedAt}, {propLastUsed, &node.LastUsedAt}, {propRotated, &node.RotatedAt}, {propExpires, &node.ExpiresAt}} {
		if *t.dst, err = pr.time(t.key); err != nil {
			return graph.Node{}, "", &FieldError{Field: ".properties." + t.key, Err: err}
		}
	}
	if node.Tags, err = pr.strMap(propTags); err != nil {
		return graph.Node{}, "", &FieldError{Field: ".properties." + propTags, Err: err}
	}
	if node.Attrs, err = pr.strMap(propAttrs); err != nil {
		return graph.Node{}, "", &FieldError{Field: ".properties." + propAttrs, Err: err}
	}
	src := pr.str(propSource)
	if src == "" {
		// Not written by Steward: its other properties are source facts.
		src = def
		node.Attrs = foreignAttrs(n.Properties, node.Attrs)
	}
	node.Source = src
	return node, src, nil
}

// reserved are the properties Steward maps to fields of its own.
var reserved = map[string]bool{propSource: true, propName: true, propDisplay: true, propSubtype: true, propStatus: true,
	propCreated: true, propLastUsed: true, propRotated: true, propExpires: true, propTags: true, propAttrs: true,
	propAction: true, propResource: true, propEffect: true, propCond: true, propPriv: true, propLastSeen: true, "objectid": true}

// foreignAttrs keeps the properties of a payload Steward did not write as
// string attributes, so nothing the source said is dropped.
func foreignAttrs(p map[string]any, attrs map[string]string) map[string]string {
	for k, v := range p {
		if reserved[k] || v == nil {
			continue
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		switch x := v.(type) {
		case string:
			attrs[k] = x
		case bool:
			attrs[k] = strconv.FormatBool(x)
		case float64:
			attrs[k] = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			b, _ := json.Marshal(x)
			attrs[k] = string(b)
		}
	}
	return attrs
}

type props struct{ m map[string]any }

func (p props) str(k string) string {
	s, _ := p.m[k].(string)
	return s
}

func (p props) time(k string) (time.Time, error) {
	s := p.str(k)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time: %w", err)
	}
	return t.UTC(), nil
}

// strMap decodes a map written as a JSON string (objects are not allowed
// as OpenGraph property values).
func (p props) strMap(k string) (map[string]string, error) {
	s := p.str(k)
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("want a JSON object of strings: %w", err)
	}
	return m, nil
}

func nodeKindNames() []string {
	out := make([]string, 0, len(graph.Kinds))
	for _, k := range graph.Kinds {
		out = append(out, NodeKind(k))
	}
	return out
}

func edgeKindNames() []string {
	out := make([]string, 0, len(graph.EdgeKinds))
	for _, k := range graph.EdgeKinds {
		out = append(out, EdgeKind(k))
	}
	return out
}

func known(names []string) string {
	b, _ := json.Marshal(names)
	return string(b)
}
