// Package opengraph writes and reads BloodHound OpenGraph JSON, so a
// BloodHound CE user can load Steward's identity graph ("Upload File" or
// the file-upload API) and Steward can load an OpenGraph payload back.
//
// The payload is {"metadata":{"source_kind":...},"graph":{"nodes":[...],
// "edges":[...]}}; nodes are {id, kinds (1 to 3), properties} and edges
// {start:{value,match_by}, end:{...}, kind, properties}, with properties
// flat: strings, numbers, booleans or homogeneous arrays, never objects or
// null (BloodHound's published node and edge JSON schemas, vendored in
// testdata/ and checked by the tests).
//
// Steward's kinds become PascalCase kinds with the SW prefix
// (service_account → SWServiceAccount, member_of → SWMemberOf); NHI kinds
// also carry SWNHI. Every Steward field is kept in a lower-case property
// (tags and attrs as JSON strings, since objects are not allowed), so
// Write followed by Read gives back the same subgraphs.
package opengraph

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
)

// SourceKind is the metadata source_kind Steward writes: BloodHound adds
// it as a kind to every node of the upload and can delete by it.
const SourceKind = "Steward"

// KindPrefix starts every node and edge kind Steward writes.
const KindPrefix = "SW"

// KindNHI is the extra kind of non-human identity nodes.
const KindNHI = KindPrefix + "NHI"

// Payload is one OpenGraph file.
type Payload struct {
	Metadata *Metadata `json:"metadata,omitempty"`
	Graph    Graph     `json:"graph"`
}

// Metadata is the optional metadata block.
type Metadata struct {
	SourceKind string `json:"source_kind,omitempty"`
}

// Graph holds the nodes and edges.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// Node is one OpenGraph node.
type Node struct {
	ID         string         `json:"id"`
	Kinds      []string       `json:"kinds"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Edge is one OpenGraph edge.
type Edge struct {
	Start      Ref            `json:"start"`
	End        Ref            `json:"end"`
	Kind       string         `json:"kind"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Ref names an edge's end by id (the default) or by name.
type Ref struct {
	Value   string `json:"value"`
	MatchBy string `json:"match_by,omitempty"`
	Kind    string `json:"kind,omitempty"`
}

// Property names Steward writes, all lower case as BloodHound requires.
const (
	propSource   = "steward_source"
	propName     = "name"
	propDisplay  = "displayname"
	propSubtype  = "subtype"
	propStatus   = "status"
	propCreated  = "created_at"
	propLastUsed = "last_used_at"
	propRotated  = "rotated_at"
	propExpires  = "expires_at"
	propTags     = "tags"
	propAttrs    = "attrs"
	propAction   = "action"
	propResource = "resource"
	propEffect   = "effect"
	propCond     = "conditional"
	propPriv     = "privilege"
	propLastSeen = "last_seen"
)

// pascal turns snake_case into PascalCase.
func pascal(s string) string {
	var b strings.Builder
	for _, p := range strings.Split(s, "_") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

// NodeKind is the OpenGraph kind of a Steward node kind.
func NodeKind(k graph.Kind) string { return KindPrefix + pascal(string(k)) }

// EdgeKind is the OpenGraph kind of a Steward edge kind.
func EdgeKind(k graph.EdgeKind) string { return KindPrefix + pascal(string(k)) }

var (
	nodeKinds = map[string]graph.Kind{}
	edgeKinds = map[string]graph.EdgeKind{}
)

func init() {
	for _, k := range graph.Kinds {
		nodeKinds[NodeKind(k)] = k
	}
	for _, k := range graph.EdgeKinds {
		edgeKinds[EdgeKind(k)] = k
	}
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

func putMap(m map[string]any, k string, v map[string]string) {
	if len(v) > 0 {
		b, _ := json.Marshal(v) // a map of strings always marshals
		m[k] = string(b)
	}
}

// FromSubgraphs converts sgs to a payload, sources in order and nodes and
// edges sorted within each, so equal graphs give equal bytes.
func FromSubgraphs(sgs []*graph.Subgraph) *Payload {
	p := &Payload{Metadata: &Metadata{SourceKind: SourceKind}, Graph: Graph{Nodes: []Node{}, Edges: []Edge{}}}
	sorted := append([]*graph.Subgraph(nil), sgs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Source < sorted[j].Source })
	for _, sg := range sorted {
		c := *sg
		c.Nodes = append([]graph.Node(nil), sg.Nodes...)
		c.Edges = append([]graph.Edge(nil), sg.Edges...)
		c.Normalize()
		for i := range c.Nodes {
			n := &c.Nodes[i]
			props := map[string]any{propSource: c.Source}
			putStr(props, propName, n.Name)
			putStr(props, propDisplay, n.Name)
			putStr(props, propSubtype, n.Subtype)
			putStr(props, propStatus, n.Status)
			putTime(props, propCreated, n.CreatedAt)
			putTime(props, propLastUsed, n.LastUsedAt)
			putTime(props, propRotated, n.RotatedAt)
			putTime(props, propExpires, n.ExpiresAt)
			putMap(props, propTags, n.Tags)
			putMap(props, propAttrs, n.Attrs)
			kinds := []string{NodeKind(n.Kind)}
			if n.Kind.IsNHI() {
				kinds = append(kinds, KindNHI)
			}
			p.Graph.Nodes = append(p.Graph.Nodes, Node{ID: n.ID, Kinds: kinds, Properties: props})
		}
		for i := range c.Edges {
			e := &c.Edges[i]
			props := map[string]any{propSource: c.Source}
			putStr(props, propAction, e.Action)
			putStr(props, propResource, e.Resource)
			putStr(props, propEffect, e.Effect)
			if e.Conditional {
				props[propCond] = true
			}
			putStr(props, propPriv, string(e.Privilege))
			putTime(props, propLastSeen, e.LastSeen)
			putMap(props, propAttrs, e.Attrs)
			p.Graph.Edges = append(p.Graph.Edges, Edge{Start: Ref{Value: e.From, MatchBy: "id"}, End: Ref{Value: e.To, MatchBy: "id"},
				Kind: EdgeKind(e.Kind), Properties: props})
		}
	}
	return p
}

// Write writes sgs as one OpenGraph JSON payload.
func Write(w io.Writer, sgs []*graph.Subgraph) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(FromSubgraphs(sgs)); err != nil {
		return fmt.Errorf("opengraph: write: %w", err)
	}
	return bw.Flush()
}
