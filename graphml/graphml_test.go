package graphml

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
)

type doc struct {
	XMLName xml.Name `xml:"graphml"`
	Keys    []struct {
		ID  string `xml:"id,attr"`
		For string `xml:"for,attr"`
	} `xml:"key"`
	Graph struct {
		EdgeDefault string `xml:"edgedefault,attr"`
		Nodes       []struct {
			ID     string  `xml:"id,attr"`
			Labels string  `xml:"labels,attr"`
			Data   []datum `xml:"data"`
		} `xml:"node"`
		Edges []struct {
			Source string  `xml:"source,attr"`
			Target string  `xml:"target,attr"`
			Label  string  `xml:"label,attr"`
			Data   []datum `xml:"data"`
		} `xml:"edge"`
	} `xml:"graph"`
}

type datum struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

// The demo as GraphML is well-formed XML in which every edge's ends are
// declared nodes, every data element uses a key declared for its element,
// and labels/types follow the Steward kinds.
func TestDemoGraphML(t *testing.T) {
	sgs := demo.Generate(demo.Config{Seed: 1, Size: 300})
	var buf bytes.Buffer
	if err := Write(&buf, sgs); err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := xml.Unmarshal(buf.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Graph.EdgeDefault != "directed" {
		t.Fatal("graph not directed")
	}
	keys := map[string]string{}
	for _, k := range d.Keys {
		keys[k.ID] = k.For
	}
	ids := map[string]bool{}
	labelled := 0
	for _, n := range d.Graph.Nodes {
		if ids[n.ID] {
			t.Fatalf("node %q declared twice", n.ID)
		}
		ids[n.ID] = true
		if n.Labels != "" {
			labelled++
		}
		for _, x := range n.Data {
			if keys[x.Key] != "node" {
				t.Fatalf("node %q: data key %q not declared for nodes", n.ID, x.Key)
			}
		}
	}
	wantN, wantE := map[string]bool{}, 0
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			wantN[n.ID] = true
		}
		c := *sg
		c.Edges = append([]graph.Edge(nil), sg.Edges...)
		c.Normalize()
		wantE += len(c.Edges)
	}
	if labelled != len(wantN) || len(d.Graph.Edges) != wantE || wantE == 0 {
		t.Fatalf("%d labelled nodes, %d edges; want %d, %d", labelled, len(d.Graph.Edges), len(wantN), wantE)
	}
	for i, e := range d.Graph.Edges {
		if !ids[e.Source] || !ids[e.Target] {
			t.Fatalf("edge %d: end not declared: %s -> %s", i, e.Source, e.Target)
		}
		if e.Label == "" || strings.ToUpper(e.Label) != e.Label {
			t.Fatalf("edge %d: relationship type %q", i, e.Label)
		}
		for _, x := range e.Data {
			if keys[x.Key] != "edge" {
				t.Fatalf("edge %d: data key %q not declared for edges", i, x.Key)
			}
		}
	}
	if !strings.Contains(buf.String(), `labels=":ServiceAccount"`) || !strings.Contains(buf.String(), `label="MEMBER_OF"`) {
		t.Fatal("labels or relationship types missing")
	}
}
