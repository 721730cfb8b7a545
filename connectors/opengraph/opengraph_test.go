package opengraph

import (
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
)

func TestSuite(t *testing.T) {
	sgs := connectortest.Suite(t, func() connectors.Reader { return &Reader{Path: "testdata/bloodhound-minimal.json"} }, nil)
	if n := connectortest.Find(t, sgs, "123"); n.Name != "BOB" || n.Attrs["team"] != "payments" {
		t.Fatalf("node 123: %+v", n)
	}
	if len(connectortest.Edges(sgs, "member_of", "123", "234")) != 1 {
		t.Fatal("edge matched by name missing")
	}
}

func TestSourceOption(t *testing.T) {
	sgs := connectortest.Read(t, &Reader{Path: "testdata/bloodhound-minimal.json", Source: "bloodhound:lab"})
	if len(sgs) != 1 || sgs[0].Source != "bloodhound:lab" {
		t.Fatalf("sources %v", sgs)
	}
}

func TestBad(t *testing.T) {
	connectortest.Bad(t, &Reader{Path: "testdata/foreign-kind.json"}, "foreign-kind.json", "graph.nodes[0].kinds")
	connectortest.Bad(t, &Reader{Path: "testdata/missing.json"}, "missing.json")
}
