// Package graphml writes the identity graph as GraphML for Neo4j users:
// the labels/label conventions of APOC's GraphML import
// (CALL apoc.import.graphml("steward.graphml", {readLabels: true})), so
// nodes get a label per Steward kind and relationships a type per edge
// kind, with Steward's fields as properties.
package graphml

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
)

// Label is the Neo4j label of a node kind (service_account →
// ServiceAccount).
func Label(k graph.Kind) string {
	var b strings.Builder
	for _, p := range strings.Split(string(k), "_") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

// RelType is the Neo4j relationship type of an edge kind (member_of →
// MEMBER_OF).
func RelType(k graph.EdgeKind) string { return strings.ToUpper(string(k)) }

// keys are the GraphML attributes written, in order: id, for, name, type.
var nodeKeys = []string{"labels", "name", "source", "subtype", "status", "created_at", "last_used_at", "rotated_at", "expires_at", "tags", "attrs"}
var edgeKeys = []string{"label", "source", "action", "resource", "effect", "conditional", "privilege", "last_seen", "attrs"}

func esc(w *bufio.Writer, s string) {
	xml.EscapeText(w, []byte(s))
}

func data(w *bufio.Writer, key, v string) {
	if v == "" {
		return
	}
	fmt.Fprintf(w, `<data key="%s">`, key)
	esc(w, v)
	w.WriteString("</data>")
}

func tm(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func mp(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// Write writes sgs as one directed GraphML graph, sources in order and
// nodes and edges sorted, so equal graphs give equal bytes. An edge whose
// end is in no subgraph still gets its node (labelled by nothing), since
// GraphML needs both ends declared.
func Write(w io.Writer, sgs []*graph.Subgraph) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(xml.Header)
	bw.WriteString(`<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">` + "\n")
	for _, k := range nodeKeys {
		fmt.Fprintf(bw, `<key id="%s" for="node" attr.name="%s" attr.type="string"/>`+"\n", k, k)
	}
	for _, k := range edgeKeys {
		typ := "string"
		if k == "conditional" {
			typ = "boolean"
		}
		fmt.Fprintf(bw, `<key id="e_%s" for="edge" attr.name="%s" attr.type="%s"/>`+"\n", k, k, typ)
	}
	bw.WriteString(`<graph id="steward" edgedefault="directed">` + "\n")
	sorted := append([]*graph.Subgraph(nil), sgs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Source < sorted[j].Source })
	declared := map[string]bool{}
	var edges []struct {
		src string
		e   graph.Edge
	}
	for _, sg := range sorted {
		c := *sg
		c.Nodes = append([]graph.Node(nil), sg.Nodes...)
		c.Edges = append([]graph.Edge(nil), sg.Edges...)
		c.Normalize()
		for _, n := range c.Nodes {
			if declared[n.ID] {
				continue
			}
			declared[n.ID] = true
			label := ":" + Label(n.Kind)
			bw.WriteString(`<node id="`)
			esc(bw, n.ID)
			fmt.Fprintf(bw, `" labels="%s">`, label)
			data(bw, "labels", label)
			data(bw, "name", n.Name)
			data(bw, "source", c.Source)
			data(bw, "subtype", n.Subtype)
			data(bw, "status", n.Status)
			data(bw, "created_at", tm(n.CreatedAt))
			data(bw, "last_used_at", tm(n.LastUsedAt))
			data(bw, "rotated_at", tm(n.RotatedAt))
			data(bw, "expires_at", tm(n.ExpiresAt))
			data(bw, "tags", mp(n.Tags))
			data(bw, "attrs", mp(n.Attrs))
			bw.WriteString("</node>\n")
		}
		for _, e := range c.Edges {
			edges = append(edges, struct {
				src string
				e   graph.Edge
			}{c.Source, e})
		}
	}
	for _, x := range edges {
		for _, id := range []string{x.e.From, x.e.To} {
			if !declared[id] {
				declared[id] = true
				bw.WriteString(`<node id="`)
				esc(bw, id)
				bw.WriteString(`"/>` + "\n")
			}
		}
	}
	for i, x := range edges {
		e := x.e
		rel := RelType(e.Kind)
		fmt.Fprintf(bw, `<edge id="e%d" source="`, i)
		esc(bw, e.From)
		bw.WriteString(`" target="`)
		esc(bw, e.To)
		fmt.Fprintf(bw, `" label="%s">`, rel)
		data(bw, "e_label", rel)
		data(bw, "e_source", x.src)
		data(bw, "e_action", e.Action)
		data(bw, "e_resource", e.Resource)
		data(bw, "e_effect", e.Effect)
		if e.Conditional {
			data(bw, "e_conditional", "true")
		}
		data(bw, "e_privilege", string(e.Privilege))
		data(bw, "e_last_seen", tm(e.LastSeen))
		data(bw, "e_attrs", mp(e.Attrs))
		bw.WriteString("</edge>\n")
	}
	bw.WriteString("</graph>\n</graphml>\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("graphml: write: %w", err)
	}
	return nil
}
