package store

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cayleygraph/quad"
	"github.com/steward-oss/steward/graph"
)

// diffSubgraph describes the first difference between two subgraphs, or
// returns "" when they are equal field for field.
func diffSubgraph(got, want *graph.Subgraph) string {
	if got.Source != want.Source {
		return fmt.Sprintf("source %q, want %q", got.Source, want.Source)
	}
	if len(got.Nodes) != len(want.Nodes) {
		return fmt.Sprintf("%d nodes, want %d", len(got.Nodes), len(want.Nodes))
	}
	for i := range got.Nodes {
		if !reflect.DeepEqual(got.Nodes[i], want.Nodes[i]) {
			return fmt.Sprintf("node[%d]:\n got %#v\nwant %#v", i, got.Nodes[i], want.Nodes[i])
		}
	}
	if len(got.Edges) != len(want.Edges) {
		return fmt.Sprintf("%d edges, want %d", len(got.Edges), len(want.Edges))
	}
	for i := range got.Edges {
		if !reflect.DeepEqual(got.Edges[i], want.Edges[i]) {
			return fmt.Sprintf("edge[%d]:\n got %#v\nwant %#v", i, got.Edges[i], want.Edges[i])
		}
	}
	return ""
}

func TestEncodeRoundTrip(t *testing.T) {
	ts := time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name string
		sg   *graph.Subgraph
	}{
		{name: "empty subgraph", sg: &graph.Subgraph{Source: "aws"}},
		{name: "bare node", sg: &graph.Subgraph{Source: "aws", Nodes: []graph.Node{{ID: "aws:1:user/a", Kind: graph.KindUser, Source: "aws"}}}},
		{name: "nil, empty and filled maps", sg: &graph.Subgraph{Source: "s", Nodes: []graph.Node{
			{ID: "a", Kind: graph.KindRole, Source: "s"},
			{ID: "b", Kind: graph.KindRole, Source: "s", Tags: map[string]string{}, Attrs: map[string]string{}},
			{ID: "c", Kind: graph.KindRole, Source: "s", Tags: map[string]string{"": "", "k": ""}, Attrs: map[string]string{"arn": "x"}},
		}}},
		{name: "times keep nanoseconds and come back in UTC", sg: &graph.Subgraph{Source: "s", Nodes: []graph.Node{
			{ID: "a", Kind: graph.KindCredential, Source: "s", CreatedAt: ts, LastUsedAt: ts.In(time.FixedZone("x", 5*3600)),
				RotatedAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), ExpiresAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		}}},
		{name: "plain and reified edges", sg: &graph.Subgraph{Source: "s", Edges: []graph.Edge{
			{From: "a", To: "g", Kind: graph.EdgeMemberOf},
			{From: "a", To: "g", Kind: graph.EdgeGrants, Action: "s3:Get*", Resource: "arn:aws:s3:::b/*", Effect: graph.EffectAllow, Privilege: graph.PrivRead},
			{From: "a", To: "r", Kind: graph.EdgeCanAssume, Conditional: true},
			{From: "a", To: "r", Kind: graph.EdgeUsed, LastSeen: ts},
			{From: "h", To: "a", Kind: graph.EdgeOwns, Attrs: map[string]string{}},
			{From: "h", To: "b", Kind: graph.EdgeOwns, Attrs: map[string]string{"reason": "tag", "confidence": "0.9"}},
		}}},
	}
	for seed := uint64(1); seed <= 200; seed++ {
		tests = append(tests, struct {
			name string
			sg   *graph.Subgraph
		}{fmt.Sprintf("random seed %d", seed), newGen(seed).subgraph(fmt.Sprintf("src:%d", seed), int(seed%13))})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.sg.Validate(); err != nil {
				t.Fatalf("fixture invalid: %v", err)
			}
			w := want(tc.sg)
			qs, err := encode(w)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			for _, q := range qs {
				if q.Label != quad.String(tc.sg.Source) {
					t.Fatalf("quad %v labelled %v, want the source", q, q.Label)
				}
			}
			// decode must not depend on quad order
			for i, j := 0, len(qs)-1; i < j; i, j = i+1, j-1 {
				qs[i], qs[j] = qs[j], qs[i]
			}
			got, err := decode(tc.sg.Source, qs)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if d := diffSubgraph(got, w); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestEncodeQuadCounts(t *testing.T) {
	tests := []struct {
		name  string
		sg    graph.Subgraph
		quads int
	}{
		{name: "bare node is one quad", sg: graph.Subgraph{Source: "s", Nodes: []graph.Node{{ID: "a", Kind: graph.KindGroup, Source: "s"}}}, quads: 1},
		{name: "each non-empty field adds one", sg: graph.Subgraph{Source: "s", Nodes: []graph.Node{{ID: "a", Kind: graph.KindGroup, Source: "s", Name: "n", Status: "active", Attrs: map[string]string{"x": "1", "y": "2"}}}}, quads: 5},
		{name: "empty map is one marker", sg: graph.Subgraph{Source: "s", Nodes: []graph.Node{{ID: "a", Kind: graph.KindGroup, Source: "s", Tags: map[string]string{}}}}, quads: 2},
		{name: "plain edge is one quad", sg: graph.Subgraph{Source: "s", Edges: []graph.Edge{{From: "a", To: "b", Kind: graph.EdgeMemberOf}}}, quads: 1},
		{name: "grant is kind, from, to and its fields", sg: graph.Subgraph{Source: "s", Edges: []graph.Edge{{From: "a", To: "b", Kind: graph.EdgeGrants, Action: "*", Effect: "allow"}}}, quads: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			qs, err := encode(&tc.sg)
			if err != nil {
				t.Fatal(err)
			}
			if len(qs) != tc.quads {
				t.Errorf("%d quads, want %d: %v", len(qs), tc.quads, qs)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	node := func(mut func(*graph.Node)) *graph.Subgraph {
		n := graph.Node{ID: "a", Kind: graph.KindGroup, Source: "s"}
		mut(&n)
		return &graph.Subgraph{Source: "s", Nodes: []graph.Node{n}}
	}
	tests := []struct {
		name string
		sg   *graph.Subgraph
		want string
	}{
		{name: "NUL in id", sg: node(func(n *graph.Node) { n.ID = "a\x00b" }), want: `source "s": node[0].id: contains a NUL byte`},
		{name: "invalid UTF-8 in name", sg: node(func(n *graph.Node) { n.Name = "\xff" }), want: `node[0].name: not valid UTF-8`},
		{name: "NUL in attr value", sg: node(func(n *graph.Node) { n.Attrs = map[string]string{"k": "\x00"} }), want: `node[0].attrs["k"]: contains a NUL byte`},
		{name: "year beyond 9999", sg: node(func(n *graph.Node) { n.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), want: `node[0].expires_at: year 10000 outside 0..9999`},
		{name: "NUL in edge action", sg: &graph.Subgraph{Source: "s", Edges: []graph.Edge{{From: "a", To: "b", Kind: graph.EdgeGrants, Action: "x\x00"}}}, want: `edge[0].action: contains a NUL byte`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for name, f := range map[string]func(*graph.Subgraph) error{
				"check":  check,
				"encode": func(sg *graph.Subgraph) error { _, err := encode(sg); return err },
			} {
				if err := f(tc.sg); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: err = %v, want it to contain %q", name, err, tc.want)
				}
			}
		})
	}
}

func TestDecodeRejectsCorruptQuads(t *testing.T) {
	l := quad.String("s")
	q := func(s, p, o quad.Value) quad.Quad { return quad.Quad{Subject: s, Predicate: p, Object: o, Label: l} }
	tests := []struct {
		name  string
		quads []quad.Quad
	}{
		{name: "properties without kind", quads: []quad.Quad{q(quad.IRI("a"), predName, quad.String("x"))}},
		{name: "two kinds", quads: []quad.Quad{q(quad.IRI("a"), predKind, quad.String("group")), q(quad.IRI("a"), predKind, quad.String("role"))}},
		{name: "unknown node predicate", quads: []quad.Quad{q(quad.IRI("a"), predKind, quad.String("group")), q(quad.IRI("a"), quad.IRI("colour"), quad.String("red"))}},
		{name: "bad time", quads: []quad.Quad{q(quad.IRI("a"), predKind, quad.String("group")), q(quad.IRI("a"), predCreatedAt, quad.String("yesterday"))}},
		{name: "edge node without to", quads: []quad.Quad{q(quad.BNode("e1"), predKind, quad.String("grants")), q(quad.BNode("e1"), predFrom, quad.IRI("a"))}},
		{name: "literal subject", quads: []quad.Quad{q(quad.String("a"), predKind, quad.String("group"))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode("s", tc.quads)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestEncoderCoversEveryField fails when graph.Node or graph.Edge gains
// a field, which encode and decode would otherwise drop without a word.
func TestEncoderCoversEveryField(t *testing.T) {
	tests := []struct {
		typ   reflect.Type
		known []string
	}{
		{reflect.TypeFor[graph.Node](), []string{"ID", "Kind", "Source", "Name", "Subtype", "Status",
			"CreatedAt", "LastUsedAt", "RotatedAt", "ExpiresAt", "Tags", "Attrs"}},
		{reflect.TypeFor[graph.Edge](), []string{"From", "To", "Kind", "Action", "Resource", "Effect",
			"Conditional", "Privilege", "LastSeen", "Attrs"}},
	}
	for _, tc := range tests {
		t.Run(tc.typ.Name(), func(t *testing.T) {
			var fields []string
			for i := 0; i < tc.typ.NumField(); i++ {
				fields = append(fields, tc.typ.Field(i).Name)
			}
			if fmt.Sprint(fields) != fmt.Sprint(tc.known) {
				t.Fatalf("graph.%s has fields %v; the store encodes %v: teach encode, decode, check and the test generator the difference",
					tc.typ.Name(), fields, tc.known)
			}
		})
	}
}
