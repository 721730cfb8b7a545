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
	bySource := map[string]*Subgraph{}
	var order []string
	get := func(src string) *Subgraph {
		sg, ok := bySource[src]
		if !ok {
			sg = &Subgraph{Source: src}
			bySource[src] = sg
			order = append(order, src)
		}
		return sg
	}
	lineNo := 0
	for sc.Scan() {
		lineNo++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var l rawLine
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, &LineError{File: name, Line: lineNo, Err: err}
		}
		if l.Source == "" {
			return nil, &LineError{File: name, Line: lineNo, Field: "source", Err: fmt.Errorf("empty")}
		}
		switch l.Type {
		case "node":
			var p nodeProps
			if err := strictProps(l.Props, &p); err != nil {
				return nil, &LineError{File: name, Line: lineNo, Field: "props", Err: err}
			}
			if !Kind(l.Kind).Valid() {
				return nil, &LineError{File: name, Line: lineNo, Field: "kind", Err: fmt.Errorf("unknown node kind %q", l.Kind)}
			}
			if l.ID == "" {
				return nil, &LineError{File: name, Line: lineNo, Field: "id", Err: fmt.Errorf("empty")}
			}
			get(l.Source).Nodes = append(get(l.Source).Nodes, Node{ID: l.ID, Kind: Kind(l.Kind), Source: l.Source, Name: l.Name,
				Subtype: p.Subtype, Status: p.Status, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt, RotatedAt: p.RotatedAt,
				ExpiresAt: p.ExpiresAt, Tags: p.Tags, Attrs: p.Attrs})
		case "edge":
			var p edgeProps
			if err := strictProps(l.Props, &p); err != nil {
				return nil, &LineError{File: name, Line: lineNo, Field: "props", Err: err}
			}
			if !EdgeKind(l.Kind).Valid() {
				return nil, &LineError{File: name, Line: lineNo, Field: "kind", Err: fmt.Errorf("unknown edge kind %q", l.Kind)}
			}
			if l.From == "" || l.To == "" {
				return nil, &LineError{File: name, Line: lineNo, Field: "from/to", Err: fmt.Errorf("empty")}
			}
			get(l.Source).Edges = append(get(l.Source).Edges, Edge{From: l.From, To: l.To, Kind: EdgeKind(l.Kind),
				Action: p.Action, Resource: p.Resource, Effect: p.Effect, Conditional: p.Conditional, Privilege: p.Privilege,
				LastSeen: p.LastSeen, Attrs: p.Attrs})
		default:
			return nil, &LineError{File: name, Line: lineNo, Field: "type", Err: fmt.Errorf("want node or edge, got %q", l.Type)}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &LineError{File: name, Line: lineNo + 1, Err: err}
	}
	out := make([]*Subgraph, 0, len(order))
	for _, src := range order {
		sg := bySource[src]
		if err := sg.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, sg)
	}
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
