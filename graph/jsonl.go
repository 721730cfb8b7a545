package graph

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// The JSON-lines export format: one object a line, nodes
//
//	{"type":"node","id","kind","source","name","props":{...}}
//
// and edges
//
//	{"type":"edge","from","to","kind","source","props":{...}}
//
// with times in RFC 3339 (nanoseconds kept). It is the format of
// `steward export` and of `steward load graph`, the generic connector:
// export → load → export gives the same bytes.

// Line is one line of the export format.
type Line struct {
	Type   string         `json:"type"`
	ID     string         `json:"id,omitempty"`
	From   string         `json:"from,omitempty"`
	To     string         `json:"to,omitempty"`
	Kind   string         `json:"kind"`
	Source string         `json:"source"`
	Name   string         `json:"name,omitempty"`
	Props  map[string]any `json:"props,omitempty"`
}

func putTime(m map[string]any, k string, t time.Time) {
	if !t.IsZero() {
		m[k] = t.UTC().Format(time.RFC3339Nano)
	}
}

func putStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// NodeProps are the export props of n.
func NodeProps(n *Node) map[string]any {
	m := map[string]any{}
	putStr(m, "subtype", n.Subtype)
	putStr(m, "status", n.Status)
	putTime(m, "created_at", n.CreatedAt)
	putTime(m, "last_used_at", n.LastUsedAt)
	putTime(m, "rotated_at", n.RotatedAt)
	putTime(m, "expires_at", n.ExpiresAt)
	if len(n.Tags) > 0 {
		m["tags"] = n.Tags
	}
	if len(n.Attrs) > 0 {
		m["attrs"] = n.Attrs
	}
	return m
}

// EdgeProps are the export props of e.
func EdgeProps(e *Edge) map[string]any {
	m := map[string]any{}
	putStr(m, "action", e.Action)
	putStr(m, "resource", e.Resource)
	putStr(m, "effect", e.Effect)
	if e.Conditional {
		m["conditional"] = true
	}
	putStr(m, "privilege", string(e.Privilege))
	putTime(m, "last_seen", e.LastSeen)
	if len(e.Attrs) > 0 {
		m["attrs"] = e.Attrs
	}
	return m
}

// WriteJSONL writes sgs in the export format, sources in order, nodes then
// edges of each, each sorted, so equal graphs give equal bytes.
func WriteJSONL(w io.Writer, sgs []*Subgraph) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	sorted := append([]*Subgraph(nil), sgs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Source < sorted[j].Source })
	for _, sg := range sorted {
		c := *sg
		c.Nodes = append([]Node(nil), sg.Nodes...)
		c.Edges = append([]Edge(nil), sg.Edges...)
		c.Normalize()
		for i := range c.Nodes {
			n := &c.Nodes[i]
			l := Line{Type: "node", ID: n.ID, Kind: string(n.Kind), Source: c.Source, Name: n.Name, Props: NodeProps(n)}
			if err := enc.Encode(l); err != nil {
				return fmt.Errorf("graph: write node %q: %w", n.ID, err)
			}
		}
		for i := range c.Edges {
			e := &c.Edges[i]
			l := Line{Type: "edge", From: e.From, To: e.To, Kind: string(e.Kind), Source: c.Source, Props: EdgeProps(e)}
			if err := enc.Encode(l); err != nil {
				return fmt.Errorf("graph: write edge %s->%s: %w", e.From, e.To, err)
			}
		}
	}
	return bw.Flush()
}

// LineError names the line of a bad JSON-lines input.
type LineError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *LineError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Field, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

type rawLine struct {
	Type   string          `json:"type"`
	ID     string          `json:"id"`
	From   string          `json:"from"`
	To     string          `json:"to"`
	Kind   string          `json:"kind"`
	Source string          `json:"source"`
	Name   string          `json:"name"`
	Props  json.RawMessage `json:"props"`
}

type nodeProps struct {
	Subtype    string            `json:"subtype"`
	Status     string            `json:"status"`
	CreatedAt  time.Time         `json:"created_at"`
	LastUsedAt time.Time         `json:"last_used_at"`
	RotatedAt  time.Time         `json:"rotated_at"`
	ExpiresAt  time.Time         `json:"expires_at"`
	Tags       map[string]string `json:"tags"`
	Attrs      map[string]string `json:"attrs"`
}

type edgeProps struct {
	Action      string            `json:"action"`
	Resource    string            `json:"resource"`
	Effect      string            `json:"effect"`
	Conditional bool              `json:"conditional"`
	Privilege   Privilege         `json:"privilege"`
	LastSeen    time.Time         `json:"last_seen"`
	Attrs       map[string]string `json:"attrs"`
}

// ReadJSONL parses the export format into one subgraph per source named in
// it, validated. name labels errors (usually the file path). Nothing is
// returned on error.
func ReadJSONL(r io.Reader, name string) ([]*Subgraph, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	d := NewJSONLDecoder(name)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if err := d.Decode(lineNo, sc.Bytes()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &LineError{File: name, Line: lineNo + 1, Err: err}
	}
	return d.Subgraphs()
}

// JSONLDecoder decodes the export format one line at a time, so that a
// caller can stream a file of any size instead of holding its bytes. It
// interns the strings it decodes: an edge's ends share the string of the
// node they name, and kinds, sources, actions, resources and attribute
// keys and values repeat across hundreds of thousands of lines but are
// held once. Lines of one source may appear anywhere in the input.
type JSONLDecoder struct {
	name     string
	bySource map[string]*Subgraph
	order    []string
	strs     map[string]string
	last     *Subgraph
}

// NewJSONLDecoder starts decoding the input name (used in errors).
func NewJSONLDecoder(name string) *JSONLDecoder {
	return &JSONLDecoder{name: name, bySource: map[string]*Subgraph{}, strs: map[string]string{}}
}

// intern returns the held copy of s, holding s if it is new.
func (d *JSONLDecoder) intern(s string) string {
	if s == "" {
		return ""
	}
	if t, ok := d.strs[s]; ok {
		return t
	}
	d.strs[s] = s
	return s
}

func (d *JSONLDecoder) internMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[d.intern(k)] = d.intern(v)
	}
	return out
}

func (d *JSONLDecoder) source(src string) *Subgraph {
	if d.last != nil && d.last.Source == src {
		return d.last
	}
	sg, ok := d.bySource[src]
	if !ok {
		sg = &Subgraph{Source: src}
		d.bySource[src] = sg
		d.order = append(d.order, src)
	}
	d.last = sg
	return sg
}

// Decode adds line lineNo, b, to the subgraph of the source it names. A
// blank line is skipped. A bad line is a *LineError naming the line and,
// when one is to blame, the field.
func (d *JSONLDecoder) Decode(lineNo int, b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	name := d.name
	var l rawLine
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return &LineError{File: name, Line: lineNo, Err: err}
	}
	if l.Source == "" {
		return &LineError{File: name, Line: lineNo, Field: "source", Err: fmt.Errorf("empty")}
	}
	switch l.Type {
	case "node":
		var p nodeProps
		if err := strictProps(l.Props, &p); err != nil {
			return &LineError{File: name, Line: lineNo, Field: "props", Err: err}
		}
		if !Kind(l.Kind).Valid() {
			return &LineError{File: name, Line: lineNo, Field: "kind", Err: fmt.Errorf("unknown node kind %q", l.Kind)}
		}
		if l.ID == "" {
			return &LineError{File: name, Line: lineNo, Field: "id", Err: fmt.Errorf("empty")}
		}
		src := d.intern(l.Source)
		sg := d.source(src)
		sg.Nodes = append(sg.Nodes, Node{ID: d.intern(l.ID), Kind: Kind(d.intern(l.Kind)), Source: src, Name: d.intern(l.Name),
			Subtype: d.intern(p.Subtype), Status: d.intern(p.Status), CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt, RotatedAt: p.RotatedAt,
			ExpiresAt: p.ExpiresAt, Tags: d.internMap(p.Tags), Attrs: d.internMap(p.Attrs)})
	case "edge":
		var p edgeProps
		if err := strictProps(l.Props, &p); err != nil {
			return &LineError{File: name, Line: lineNo, Field: "props", Err: err}
		}
		if !EdgeKind(l.Kind).Valid() {
			return &LineError{File: name, Line: lineNo, Field: "kind", Err: fmt.Errorf("unknown edge kind %q", l.Kind)}
		}
		if l.From == "" || l.To == "" {
			return &LineError{File: name, Line: lineNo, Field: "from/to", Err: fmt.Errorf("empty")}
		}
		sg := d.source(d.intern(l.Source))
		sg.Edges = append(sg.Edges, Edge{From: d.intern(l.From), To: d.intern(l.To), Kind: EdgeKind(d.intern(l.Kind)),
			Action: d.intern(p.Action), Resource: d.intern(p.Resource), Effect: d.intern(p.Effect), Conditional: p.Conditional,
			Privilege: Privilege(d.intern(string(p.Privilege))), LastSeen: p.LastSeen, Attrs: d.internMap(p.Attrs)})
	default:
		return &LineError{File: name, Line: lineNo, Field: "type", Err: fmt.Errorf("want node or edge, got %q", l.Type)}
	}
	return nil
}

// Subgraphs returns one validated subgraph per source, in the order the
// sources first appeared, and ends the decode: the interned strings are
// released, the decoder is empty.
func (d *JSONLDecoder) Subgraphs() ([]*Subgraph, error) {
	out := make([]*Subgraph, 0, len(d.order))
	for _, src := range d.order {
		sg := d.bySource[src]
		if err := sg.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
		out = append(out, sg)
	}
	d.bySource, d.order, d.strs, d.last = map[string]*Subgraph{}, nil, map[string]string{}, nil
	return out, nil
}

func strictProps(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
