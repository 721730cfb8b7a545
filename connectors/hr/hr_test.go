package hr

import (
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

func newReader(t *testing.T, file string) connectors.Reader {
	t.Helper()
	return connectortest.New(t, "hr", connectors.Options{"from": "testdata/" + file}, connectors.Env{})
}

func TestRoster(t *testing.T) {
	sgs := connectortest.Suite(t, func() connectors.Reader { return newReader(t, "roster.csv") }, nil)
	if sgs[0].Source != "hr" {
		t.Fatalf("source = %q", sgs[0].Source)
	}
	tests := []struct {
		name, id, status, team, manager, endDate string
	}{
		{"active", "human:alice@example.com", graph.StatusActive, "payments", "carol@example.com", ""},
		{"terminated lower-cased", "human:bob.smith@example.com", graph.StatusDeparted, "payments", "carol@example.com", "2026-03-31T00:00:00Z"},
		{"leave is active", "human:dave@example.com", graph.StatusActive, "platform", "", ""},
		{"inactive with timestamp", "human:erin@example.com", graph.StatusDeparted, "platform", "dave@example.com", "2025-12-01T17:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := connectortest.Find(t, sgs, tt.id)
			if n.Kind != graph.KindHuman || n.Status != tt.status || n.Attrs[graph.AttrTeam] != tt.team ||
				n.Attrs[graph.AttrManager] != tt.manager || n.Attrs[graph.AttrEndDate] != tt.endDate {
				t.Errorf("got %+v", n)
			}
			if len(connectortest.Edges(sgs, graph.EdgeMemberOf, tt.id, TeamPrefix+tt.team)) != 1 {
				t.Errorf("no member_of %s", tt.team)
			}
		})
	}
	t.Run("quoted name", func(t *testing.T) {
		if n := connectortest.Find(t, sgs, "human:dave@example.com"); n.Name != "Dave Brown, CTO" {
			t.Errorf("name = %q", n.Name)
		}
	})
	t.Run("alias is a team, not a human", func(t *testing.T) {
		team := connectortest.Find(t, sgs, TeamPrefix+"payments")
		if team.Kind != graph.KindGroup || team.Attrs[graph.AttrEmail] != "payments-team@example.com" ||
			team.Attrs[graph.AttrManager] != "carol@example.com" || team.Attrs[AttrAlias] != "true" {
			t.Errorf("team = %+v", team)
		}
		for _, n := range sgs[0].Nodes {
			if n.ID == graph.HumanID("payments-team@example.com") {
				t.Error("alias row emitted as a human")
			}
		}
	})
	t.Run("column order free", func(t *testing.T) {
		sgs := connectortest.Read(t, newReader(t, "reordered.csv"))
		n := connectortest.Find(t, sgs, "human:frank@example.com")
		if n.Name != "Frank" || n.Attrs[graph.AttrManager] != "alice@example.com" {
			t.Errorf("got %+v", n)
		}
	})
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"bad-header.csv", []string{"bad-header.csv:1", `"status"`, "missing"}},
		{"bad-status.csv", []string{"bad-status.csv:3", `"status"`, "retired"}},
		{"bad-email.csv", []string{"bad-email.csv:3", `"email"`}},
		{"bad-date.csv", []string{"bad-date.csv:2", `"end_date"`}},
		{"dup.csv", []string{"dup.csv:3", "line 2"}},
		{"bad-quote.csv", []string{"bad-quote.csv:"}},
		{"short-row.csv", []string{"short-row.csv:2", "5 fields"}},
		{"missing.csv", []string{"missing.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			connectortest.Bad(t, newReader(t, tt.file), tt.want...)
		})
	}
}
