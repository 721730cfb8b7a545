package graph_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

// kinds are the kinds of edges eis of ix, the shape of a derivation's
// evidence.
func kinds(ix *graph.Index, eis []int32) []graph.EdgeKind {
	var out []graph.EdgeKind
	for _, ei := range eis {
		out = append(out, ix.EdgeKind(ei))
	}
	return out
}

func lookup(t *testing.T, ix *graph.Index, id string) int32 {
	t.Helper()
	i, ok := ix.Lookup(id)
	if !ok {
		t.Fatalf("no node %s", id)
	}
	return i
}

func wantPrivilege(t *testing.T, ix *graph.Index, id string, want graph.Privilege, path []graph.EdgeKind) {
	t.Helper()
	got, eis := ix.Privilege(lookup(t, ix, id))
	if got != want || !slices.Equal(kinds(ix, eis), path) {
		t.Errorf("privilege of %s = %s via %v, want %s via %v", id, got, kinds(ix, eis), want, path)
	}
}

// chain is n groups g1..gn, each a member of the next, the last granted
// admin, and the service account svc a member of g1: svc is n hops from
// the grant's holder.
func chain(n int) *testgraph.Builder {
	b := testgraph.New().Nodes(graph.KindServiceAccount, "svc").Nodes(graph.KindResource, "acct")
	ids := []string{"svc"}
	for i := 1; i <= n; i++ {
		g := fmt.Sprintf("g%d", i)
		b.Nodes(graph.KindGroup, g)
		ids = append(ids, g)
	}
	return b.Link(graph.EdgeMemberOf, ids...).Grant(ids[n], "acct", graph.PrivAdmin)
}

func TestDerivePrivilege(t *testing.T) {
	const (
		m, a, at, g, hc = graph.EdgeMemberOf, graph.EdgeCanAssume, graph.EdgeAttachedTo, graph.EdgeGrants, graph.EdgeHasCredential
	)
	base := func() *testgraph.Builder {
		return testgraph.New().Nodes(graph.KindServiceAccount, "svc").Nodes(graph.KindGroup, "grp", "grp2").
			Nodes(graph.KindRole, "role").Nodes(graph.KindPolicy, "pol").Nodes(graph.KindResource, "acct").
			Nodes(graph.KindCredential, "key")
	}
	tests := []struct {
		name  string
		build func(b *testgraph.Builder)
		id    string
		want  graph.Privilege
		path  []graph.EdgeKind
	}{
		{"no grant is none", func(*testgraph.Builder) {}, "svc", graph.PrivNone, nil},
		{"direct grant", func(b *testgraph.Builder) { b.Grant("svc", "acct", graph.PrivWrite) }, "svc", graph.PrivWrite, []graph.EdgeKind{g}},
		{"the strongest direct grant", func(b *testgraph.Builder) {
			b.Grant("svc", "acct", graph.PrivRead).Grant("svc", "acct", graph.PrivAdmin).Grant("svc", "acct", graph.PrivWrite)
		}, "svc", graph.PrivAdmin, []graph.EdgeKind{g}},
		{"unrated grant classified from its patterns", func(b *testgraph.Builder) {
			b.Edge(graph.Edge{From: "svc", To: "acct", Kind: g, Action: "s3:GetObject", Resource: "*", Effect: graph.EffectAllow})
		}, "svc", graph.PrivRead, []graph.EdgeKind{g}},
		{"star on star is admin", func(b *testgraph.Builder) {
			b.Edge(graph.Edge{From: "svc", To: "acct", Kind: g, Action: "*", Resource: "*", Effect: graph.EffectAllow})
		}, "svc", graph.PrivAdmin, []graph.EdgeKind{g}},
		{"a deny grants nothing", func(b *testgraph.Builder) {
			b.Edge(graph.Edge{From: "svc", To: "acct", Kind: g, Action: "*", Resource: "*", Effect: graph.EffectDeny, Privilege: graph.PrivAdmin})
		}, "svc", graph.PrivNone, nil},
		{"through a group", func(b *testgraph.Builder) { b.Link(m, "svc", "grp").Grant("grp", "acct", graph.PrivWrite) },
			"svc", graph.PrivWrite, []graph.EdgeKind{m, g}},
		{"through a nested group", func(b *testgraph.Builder) { b.Link(m, "svc", "grp", "grp2").Grant("grp2", "acct", graph.PrivAdmin) },
			"svc", graph.PrivAdmin, []graph.EdgeKind{m, m, g}},
		{"through an assumable role", func(b *testgraph.Builder) { b.Link(a, "svc", "role").Grant("role", "acct", graph.PrivAdmin) },
			"svc", graph.PrivAdmin, []graph.EdgeKind{a, g}},
		{"through a policy attached to it", func(b *testgraph.Builder) { b.Link(at, "pol", "svc").Grant("pol", "acct", graph.PrivAdmin) },
			"svc", graph.PrivAdmin, []graph.EdgeKind{at, g}},
		{"through a policy attached to its group", func(b *testgraph.Builder) {
			b.Link(m, "svc", "grp").Link(at, "pol", "grp").Grant("pol", "acct", graph.PrivAdmin)
		}, "svc", graph.PrivAdmin, []graph.EdgeKind{m, at, g}},
		{"a policy itself holds none", func(b *testgraph.Builder) { b.Grant("pol", "acct", graph.PrivAdmin) }, "pol", graph.PrivNone, nil},
		{"the strongest of group and role", func(b *testgraph.Builder) {
			b.Link(m, "svc", "grp").Grant("grp", "acct", graph.PrivRead).Link(a, "svc", "role").Grant("role", "acct", graph.PrivAdmin)
		}, "svc", graph.PrivAdmin, []graph.EdgeKind{a, g}},
		{"own grant beats a weaker group", func(b *testgraph.Builder) {
			b.Grant("svc", "acct", graph.PrivWrite).Link(m, "svc", "grp").Grant("grp", "acct", graph.PrivRead)
		}, "svc", graph.PrivWrite, []graph.EdgeKind{g}},
		{"privilege does not flow up to members' groups", func(b *testgraph.Builder) { b.Link(m, "svc", "grp").Grant("svc", "acct", graph.PrivAdmin) },
			"grp", graph.PrivNone, nil},
		{"a membership cycle ends", func(b *testgraph.Builder) {
			b.Link(m, "svc", "grp", "grp2", "grp").Grant("grp2", "acct", graph.PrivWrite)
		}, "svc", graph.PrivWrite, []graph.EdgeKind{m, m, g}},
		{"the connector's effective privilege caps the walk", func(b *testgraph.Builder) {
			b.Node(graph.Node{ID: "capped", Kind: graph.KindServiceAccount, Attrs: map[string]string{graph.AttrEffectivePrivilege: "read"}}).
				Link(m, "capped", "grp").Grant("grp", "acct", graph.PrivAdmin)
		}, "capped", graph.PrivRead, []graph.EdgeKind{m, g}},
		{"a credential does what its holder can", func(b *testgraph.Builder) {
			b.Link(hc, "svc", "key").Link(m, "svc", "grp").Grant("grp", "acct", graph.PrivAdmin)
		}, "key", graph.PrivAdmin, []graph.EdgeKind{hc, m, g}},
		{"a credential's own grant", func(b *testgraph.Builder) { b.Grant("key", "acct", graph.PrivWrite) }, "key", graph.PrivWrite, []graph.EdgeKind{g}},
	}
	// The walk through groups and roles stops at 12 hops (maxPrivDepth),
	// as internal/oracle does.
	chains := []struct {
		name string
		hops int
		want graph.Privilege
		path []graph.EdgeKind
	}{
		{"12 hops of groups reach the grant", 12, graph.PrivAdmin, append(slices.Repeat([]graph.EdgeKind{m}, 12), g)},
		{"13 hops do not", 13, graph.PrivNone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			tt.build(b)
			wantPrivilege(t, b.Build(t), tt.id, tt.want, tt.path)
		})
	}
	for _, tt := range chains {
		t.Run(tt.name, func(t *testing.T) { wantPrivilege(t, chain(tt.hops).Build(t), "svc", tt.want, tt.path) })
	}
}

func TestDeriveOwners(t *testing.T) {
	const o, hc = graph.EdgeOwns, graph.EdgeHasCredential
	base := func() *testgraph.Builder {
		return testgraph.New().Nodes(graph.KindServiceAccount, "svc", "other").Nodes(graph.KindCredential, "key").
			Nodes(graph.KindHuman, "alice", "carol").
			Node(graph.Node{ID: "bob", Kind: graph.KindHuman, Status: graph.StatusDeparted})
	}
	tests := []struct {
		name   string
		build  func(b *testgraph.Builder)
		id     string
		want   graph.OwnerStatus
		owners []string // the owns edges' humans, in order
		path   []graph.EdgeKind
	}{
		{"nobody", func(*testgraph.Builder) {}, "svc", graph.OwnerAbsent, nil, nil},
		{"an active human", func(b *testgraph.Builder) { b.Link(o, "alice", "svc") }, "svc", graph.OwnerPresent, []string{"alice"}, []graph.EdgeKind{o}},
		{"a human who left", func(b *testgraph.Builder) { b.Link(o, "bob", "svc") }, "svc", graph.OwnerDeparted, []string{"bob"}, []graph.EdgeKind{o}},
		{"one left, one stayed", func(b *testgraph.Builder) { b.Link(o, "bob", "svc").Link(o, "alice", "svc") },
			"svc", graph.OwnerPresent, []string{"bob", "alice"}, []graph.EdgeKind{o, o}},
		{"an owner that is not a human", func(b *testgraph.Builder) { b.Link(o, "other", "svc") }, "svc", graph.OwnerAbsent, nil, nil},
		{"an owner of no known node", func(b *testgraph.Builder) { b.Link(o, "human:gone@example.com", "svc") }, "svc", graph.OwnerAbsent, nil, nil},
		{"one human named twice counts once", func(b *testgraph.Builder) { b.Link(o, "alice", "svc").Link(o, "alice", "svc") },
			"svc", graph.OwnerPresent, []string{"alice"}, []graph.EdgeKind{o}},
		{"an analyst's correction replaces the others", func(b *testgraph.Builder) {
			b.Link(o, "alice", "svc").Edge(graph.Edge{From: "bob", To: "svc", Kind: o, Attrs: map[string]string{"rule": "override"}})
		}, "svc", graph.OwnerDeparted, []string{"bob"}, []graph.EdgeKind{o}},
		{"a credential answers to its holder's owner", func(b *testgraph.Builder) { b.Link(hc, "svc", "key").Link(o, "alice", "svc") },
			"key", graph.OwnerPresent, []string{"alice"}, []graph.EdgeKind{hc, o}},
		{"a credential's own owner comes first", func(b *testgraph.Builder) {
			b.Link(hc, "svc", "key").Link(o, "alice", "svc").Link(o, "carol", "key")
		}, "key", graph.OwnerPresent, []string{"carol"}, []graph.EdgeKind{o}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			tt.build(b)
			ix := b.Build(t)
			eis, st := ix.Owners(lookup(t, ix, tt.id))
			var humans []string
			for _, ei := range eis {
				if ix.EdgeKind(ei) == o {
					humans = append(humans, ix.NodeID(ix.EdgeFrom(ei)))
				}
			}
			if st != tt.want || !slices.Equal(humans, tt.owners) || !slices.Equal(kinds(ix, eis), tt.path) {
				t.Errorf("owners of %s = %s %v via %v, want %s %v via %v", tt.id, st, humans, kinds(ix, eis), tt.want, tt.owners, tt.path)
			}
		})
	}
}

func TestDeriveLastUse(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	const u, hc = graph.EdgeUsed, graph.EdgeHasCredential
	used := func(from string, at time.Time) graph.Edge {
		return graph.Edge{From: from, To: "acct", Kind: u, LastSeen: at}
	}
	base := func() *testgraph.Builder {
		return testgraph.New().Node(graph.Node{ID: "svc", Kind: graph.KindServiceAccount, LastUsedAt: t0}).
			Nodes(graph.KindResource, "acct").Nodes(graph.KindCredential, "key").Nodes(graph.KindGroup, "grp")
	}
	tests := []struct {
		name  string
		build func(b *testgraph.Builder)
		id    string
		want  time.Time
		edge  graph.EdgeKind // of the edge behind it; "" for none
	}{
		{"its own last_used_at", func(*testgraph.Builder) {}, "svc", t0, ""},
		{"never used", func(*testgraph.Builder) {}, "key", time.Time{}, ""},
		{"a later use edge", func(b *testgraph.Builder) { b.Edge(used("svc", t0.Add(day))) }, "svc", t0.Add(day), u},
		{"an earlier use edge does not count", func(b *testgraph.Builder) { b.Edge(used("svc", t0.Add(-day))) }, "svc", t0, ""},
		{"the latest of several edges", func(b *testgraph.Builder) {
			b.Edge(used("key", t0.Add(2*day))).Edge(used("key", t0.Add(5*day))).Edge(used("key", t0.Add(3*day)))
		}, "key", t0.Add(5 * day), u},
		{"an identity is in use when its credential is", func(b *testgraph.Builder) {
			b.Link(hc, "svc", "key").Edge(used("key", t0.Add(3*day)))
		}, "svc", t0.Add(3 * day), u},
		{"a credential's own last_used_at, behind its has_credential edge", func(b *testgraph.Builder) {
			b.Node(graph.Node{ID: "key2", Kind: graph.KindCredential, LastUsedAt: t0.Add(4 * day)}).Link(hc, "svc", "key2")
		}, "svc", t0.Add(4 * day), hc},
		{"a group does not take its members' use", func(b *testgraph.Builder) {
			b.Link(graph.EdgeMemberOf, "svc", "grp").Link(hc, "grp", "key").Edge(used("key", t0.Add(day)))
		}, "grp", time.Time{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			tt.build(b)
			ix := b.Build(t)
			at, ei := ix.LastUsed(lookup(t, ix, tt.id))
			var kind graph.EdgeKind
			if ei >= 0 {
				kind = ix.EdgeKind(ei)
			}
			if !at.Equal(tt.want) || kind != tt.edge {
				t.Errorf("last use of %s = %v by %q, want %v by %q", tt.id, at, kind, tt.want, tt.edge)
			}
		})
	}
}

func TestDeriveLeaks(t *testing.T) {
	cred := func(id, fp string) graph.Node {
		n := graph.Node{ID: id, Kind: graph.KindCredential}
		if fp != "" {
			n.Attrs = map[string]string{graph.AttrFingerprint: fp}
		}
		return n
	}
	leak := func(from string) graph.Edge {
		return graph.Edge{From: from, To: "repo", Kind: graph.EdgeLeaked}
	}
	tests := []struct {
		name  string
		build func(b *testgraph.Builder)
		leaks map[string]int // credential -> leaked_in edges matched
	}{
		{"a finding matches the live key with its fingerprint", func(b *testgraph.Builder) {
			b.In("aws:1").Node(cred("live", "fp1")).Node(cred("other", "fp2")).
				In("gitleaks:r").Node(cred("finding", "fp1")).Edge(leak("finding"))
		}, map[string]int{"live": 1, "finding": 1, "other": 0}},
		{"a finding without fingerprint reports on itself", func(b *testgraph.Builder) {
			b.In("aws:1").Node(cred("live", "fp1")).In("gitleaks:r").Node(cred("finding", "")).Edge(leak("finding"))
		}, map[string]int{"live": 0, "finding": 1}},
		{"two findings of one key", func(b *testgraph.Builder) {
			b.In("aws:1").Node(cred("live", "fp1")).
				In("gitleaks:r").Node(cred("f1", "fp1")).Node(cred("f2", "fp1")).Edge(leak("f1")).Edge(leak("f2"))
		}, map[string]int{"live": 2, "f1": 2, "f2": 2}},
		{"a leak of an unknown finding matches nothing", func(b *testgraph.Builder) {
			b.In("aws:1").Node(cred("live", "fp1")).In("gitleaks:r").Edge(leak("gone"))
		}, map[string]int{"live": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testgraph.New().Nodes(graph.KindResource, "repo")
			tt.build(b)
			ix := b.Build(t)
			for id, want := range tt.leaks {
				eis := ix.Leaks(lookup(t, ix, id))
				if len(eis) != want || slices.ContainsFunc(eis, func(ei int32) bool { return ix.EdgeKind(ei) != graph.EdgeLeaked }) {
					t.Errorf("leaks of %s = %v, want %d leaked_in edges", id, kinds(ix, eis), want)
				}
			}
		})
	}
}
