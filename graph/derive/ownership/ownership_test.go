package ownership

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
)

// roster is the HR subgraph every case shares, shaped as connectors/hr
// emits it.
func roster() *graph.Subgraph {
	sg := &graph.Subgraph{Source: "hr"}
	person := func(email, team, manager, status string) {
		sg.AddNode(graph.Node{ID: graph.HumanID(email), Kind: graph.KindHuman, Name: email, Status: status,
			Attrs: map[string]string{graph.AttrEmail: email, graph.AttrTeam: team, graph.AttrManager: manager}})
	}
	person("alice@example.com", "payments", "carol@example.com", graph.StatusActive)
	person("bob@example.com", "payments", "carol@example.com", graph.StatusDeparted)
	person("carol@example.com", "payments", "dave@example.com", graph.StatusActive)
	person("dave@example.com", "platform", "", graph.StatusActive)
	person("erin@example.com", "platform", "dave@example.com", graph.StatusActive)
	person("frank@example.com", "data", "alice@example.com", graph.StatusActive)
	person("gina@example.com", "data", "erin@example.com", graph.StatusActive)
	sg.AddNode(graph.Node{ID: "hr:team/payments", Kind: graph.KindGroup, Name: "payments", Attrs: map[string]string{
		graph.AttrTeam: "payments", graph.AttrEmail: "payments-team@example.com", graph.AttrManager: "carol@example.com", "alias": "true"}})
	sg.AddNode(graph.Node{ID: "hr:team/platform", Kind: graph.KindGroup, Name: "platform", Attrs: map[string]string{graph.AttrTeam: "platform"}})
	sg.AddNode(graph.Node{ID: "hr:team/data", Kind: graph.KindGroup, Name: "data", Attrs: map[string]string{graph.AttrTeam: "data"}})
	return sg
}

const target = "aws:111122223333:user/deploy"

func sa(tags, attrs map[string]string) graph.Node {
	return graph.Node{ID: target, Kind: graph.KindServiceAccount, Source: "aws:111122223333", Name: "deploy", Tags: tags, Attrs: attrs}
}

var setAt = time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)

func TestInfer(t *testing.T) {
	ldap := &graph.Subgraph{Source: "ldap:corp"}
	ldap.AddNode(graph.Node{ID: "ldap:corp:user/erin", Kind: graph.KindUser, Name: "erin",
		Attrs: map[string]string{AttrDN: "CN=Erin Green,OU=People,DC=corp,DC=example,DC=com", graph.AttrEmail: "erin@example.com"}})

	tests := []struct {
		name      string
		node      graph.Node
		extra     []*graph.Subgraph // other subgraphs (creators, namespaces)
		edges     []graph.Edge      // edges added to the target's subgraph
		overrides []Override
		want      string   // owner human id, "" for none
		rule      string   // rule on the edge
		conf      string   // confidence
		reason    string   // substring of the reason
		unres     []string // hints expected unresolved
	}{
		{name: "override wins over tag", node: sa(map[string]string{"owner": "alice@example.com"}, nil),
			overrides: []Override{{Identity: target, OwnerEmail: "Dave@example.com", SetBy: "erin@example.com", SetAt: setAt, Reason: "ticket SEC-1"}},
			want:      "human:dave@example.com", rule: RuleOverride, conf: "1.00", reason: "set by erin@example.com at 2026-05-01T09:30:00Z: ticket SEC-1"},
		{name: "latest override wins", node: sa(nil, nil),
			overrides: []Override{
				{Identity: target, OwnerEmail: "dave@example.com", SetBy: "erin@example.com", SetAt: setAt},
				{Identity: target, OwnerEmail: "carol@example.com", SetBy: "erin@example.com", SetAt: setAt.Add(time.Hour)},
			},
			want: "human:carol@example.com", rule: RuleOverride, conf: "1.00"},
		{name: "override to unknown person falls back and is reported", node: sa(map[string]string{"Owner": "alice@example.com"}, nil),
			overrides: []Override{{Identity: target, OwnerEmail: "nobody@example.com", SetBy: "erin@example.com", SetAt: setAt}},
			want:      "human:alice@example.com", rule: RuleTag, conf: "0.90", unres: []string{"nobody@example.com"}},
		{name: "owner tag any case", node: sa(map[string]string{"Owner": "ALICE@example.com"}, nil),
			want: "human:alice@example.com", rule: RuleTag, conf: "0.90", reason: `tag Owner="ALICE@example.com"`},
		{name: "owner_email tag", node: sa(map[string]string{"owner_email": "carol@example.com"}, nil),
			want: "human:carol@example.com", rule: RuleTag, conf: "0.90"},
		{name: "created-by tag", node: sa(map[string]string{"CreatedBy": "frank@example.com"}, nil),
			want: "human:frank@example.com", rule: RuleTag, conf: "0.80"},
		{name: "owner tag beats created-by tag", node: sa(map[string]string{"created-by": "frank@example.com", "owner": "alice@example.com"}, nil),
			want: "human:alice@example.com", rule: RuleTag},
		{name: "broken owner tag falls to created-by and is reported", node: sa(map[string]string{"created-by": "frank@example.com", "owner": "alcie@example.com"}, nil),
			want: "human:frank@example.com", rule: RuleTag, unres: []string{"owner=alcie@example.com"}},
		{name: "owner tag naming a team alias goes to its manager", node: sa(map[string]string{"owner": "payments-team@example.com"}, nil),
			want: "human:carol@example.com", rule: RuleTag, conf: "0.68", reason: "team alias of payments"},
		{name: "team tag with alias row manager", node: sa(map[string]string{"team": "Payments"}, nil),
			want: "human:carol@example.com", rule: RuleTag, conf: "0.60", reason: "HR team payments manager carol@example.com"},
		{name: "team tag by member majority", node: sa(map[string]string{"team": "platform"}, nil),
			want: "human:dave@example.com", rule: RuleTag, conf: "0.60"},
		{name: "team tag with split managers is unresolved", node: sa(map[string]string{"team": "data"}, nil),
			unres: []string{"team=data"}},
		{name: "tag beats managed_by", node: sa(map[string]string{"owner": "alice@example.com"}, map[string]string{graph.AttrManagedBy: "dave@example.com"}),
			want: "human:alice@example.com", rule: RuleTag},
		{name: "managed_by e-mail", node: sa(nil, map[string]string{graph.AttrManagedBy: "dave@example.com"}),
			want: "human:dave@example.com", rule: RuleManagedBy, conf: "0.80"},
		{name: "managed_by LDAP DN", node: sa(nil, map[string]string{graph.AttrManagedBy: "cn=Erin Green, ou=People,dc=corp,dc=example,dc=com"}),
			extra: []*graph.Subgraph{ldap},
			want:  "human:erin@example.com", rule: RuleManagedBy, conf: "0.80", reason: "DN of ldap:corp:user/erin"},
		{name: "managed_by node id", node: sa(nil, map[string]string{graph.AttrManagedBy: "ldap:corp:user/erin"}),
			extra: []*graph.Subgraph{ldap},
			want:  "human:erin@example.com", rule: RuleManagedBy},
		{name: "managed_by unknown DN is reported", node: sa(nil, map[string]string{graph.AttrManagedBy: "CN=Ghost,DC=corp"}),
			unres: []string{"CN=Ghost,DC=corp"}},
		{name: "managed_by beats installed_by", node: sa(nil, map[string]string{graph.AttrManagedBy: "dave@example.com", graph.AttrInstalledBy: "alice@example.com"}),
			want: "human:dave@example.com", rule: RuleManagedBy},
		{name: "installed_by login in the same source", node: sa(nil, map[string]string{graph.AttrInstalledBy: "alice-gh"}),
			extra: []*graph.Subgraph{{Source: "aws:111122223333", Nodes: []graph.Node{{ID: "aws:111122223333:user/alice-gh", Kind: graph.KindUser,
				Source: "aws:111122223333", Name: "alice-gh", Attrs: map[string]string{graph.AttrEmail: "alice@example.com"}}}}},
			want: "human:alice@example.com", rule: RuleInstalledBy, conf: "0.70"},
		{name: "installed_by beats created_by", node: sa(nil, map[string]string{graph.AttrInstalledBy: "alice@example.com"}),
			edges: []graph.Edge{{From: target, To: "human:dave@example.com", Kind: graph.EdgeCreatedBy}},
			want:  "human:alice@example.com", rule: RuleInstalledBy},
		{name: "created_by a human", node: sa(nil, nil),
			edges: []graph.Edge{{From: target, To: "human:dave@example.com", Kind: graph.EdgeCreatedBy, Attrs: map[string]string{"event": "CreateUser"}}},
			want:  "human:dave@example.com", rule: RuleCreatedBy, conf: "0.70", reason: "(event CreateUser)"},
		{name: "created_by a user whose person is known", node: sa(nil, nil),
			extra: []*graph.Subgraph{ldap},
			edges: []graph.Edge{{From: target, To: "ldap:corp:user/erin", Kind: graph.EdgeCreatedBy}},
			want:  "human:erin@example.com", rule: RuleCreatedBy, conf: "0.60"},
		{name: "created_by an identity inherits its owner", node: sa(nil, nil),
			extra: []*graph.Subgraph{{Source: "aws:111122223333", Nodes: []graph.Node{{ID: "aws:111122223333:role/ci", Kind: graph.KindRole,
				Source: "aws:111122223333", Name: "ci"}, {ID: "aws:111122223333:user/ci-bot", Kind: graph.KindServiceAccount,
				Source: "aws:111122223333", Name: "ci-bot", Tags: map[string]string{"owner": "frank@example.com"}}}}},
			edges: []graph.Edge{{From: target, To: "aws:111122223333:user/ci-bot", Kind: graph.EdgeCreatedBy}},
			want:  "human:frank@example.com", rule: RuleCreatedBy, conf: "0.54", reason: "owned by human:frank@example.com"},
		{name: "created_by unknown identity is reported", node: sa(nil, nil),
			edges: []graph.Edge{{From: target, To: "aws:111122223333:user/gone", Kind: graph.EdgeCreatedBy}},
			unres: []string{"aws:111122223333:user/gone"}},
		{name: "namespace owner annotation", node: graph.Node{ID: "k8s:prod:sa/pay/api", Kind: graph.KindWorkload, Source: "k8s:prod",
			Name: "api", Attrs: map[string]string{graph.AttrNamespace: "pay"}},
			extra: []*graph.Subgraph{{Source: "k8s:prod", Nodes: []graph.Node{{ID: "k8s:prod:namespace/pay", Kind: graph.KindResource, Subtype: "namespace",
				Source: "k8s:prod", Name: "pay", Tags: map[string]string{"owner": "alice@example.com", "team": "platform"}}}}},
			want: "human:alice@example.com", rule: RuleNamespace, conf: "0.50", reason: "namespace pay annotation owner"},
		{name: "namespace team annotation", node: graph.Node{ID: "k8s:prod:sa/pay/api", Kind: graph.KindWorkload, Source: "k8s:prod",
			Name: "api", Attrs: map[string]string{graph.AttrNamespace: "pay"}},
			extra: []*graph.Subgraph{{Source: "k8s:prod", Nodes: []graph.Node{{ID: "k8s:prod:namespace/pay", Kind: graph.KindResource, Subtype: "namespace",
				Source: "k8s:prod", Name: "pay", Tags: map[string]string{"team": "payments"}}}}},
			want: "human:carol@example.com", rule: RuleNamespace, conf: "0.40"},
		{name: "namespace contact alias", node: graph.Node{ID: "k8s:prod:sa/pay/api", Kind: graph.KindWorkload, Source: "k8s:prod",
			Name: "api", Attrs: map[string]string{graph.AttrNamespace: "pay"}},
			extra: []*graph.Subgraph{{Source: "k8s:prod", Nodes: []graph.Node{{ID: "k8s:prod:namespace/pay", Kind: graph.KindResource, Subtype: "namespace",
				Source: "k8s:prod", Name: "pay", Attrs: map[string]string{"contact": "payments-team@example.com"}}}}},
			want: "human:carol@example.com", rule: RuleNamespace, conf: "0.38"},
		{name: "own tag beats namespace", node: graph.Node{ID: "k8s:prod:sa/pay/api", Kind: graph.KindWorkload, Source: "k8s:prod",
			Name: "api", Tags: map[string]string{"owner": "frank@example.com"}, Attrs: map[string]string{graph.AttrNamespace: "pay"}},
			extra: []*graph.Subgraph{{Source: "k8s:prod", Nodes: []graph.Node{{ID: "k8s:prod:namespace/pay", Kind: graph.KindResource, Subtype: "namespace",
				Source: "k8s:prod", Name: "pay", Tags: map[string]string{"owner": "alice@example.com"}}}}},
			want: "human:frank@example.com", rule: RuleTag},
		{name: "user login e-mail", node: graph.Node{ID: "okta:corp:user/00u1", Kind: graph.KindUser, Source: "okta:corp", Name: "alice",
			Attrs: map[string]string{graph.AttrEmail: "Alice@Example.com"}},
			want: "human:alice@example.com", rule: RuleLoginEmail, conf: "0.95"},
		{name: "departed owner still resolves", node: sa(map[string]string{"owner": "bob@example.com"}, nil),
			want: "human:bob@example.com", rule: RuleTag},
		{name: "no hints", node: sa(nil, nil)},
		{name: "credential has its own owner", node: graph.Node{ID: "aws:111122223333:key/AKIA…WXYZ", Kind: graph.KindCredential, Source: "aws:111122223333",
			Tags: map[string]string{"owner": "erin@example.com"}},
			want: "human:erin@example.com", rule: RuleTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			own := &graph.Subgraph{Source: tt.node.Source}
			own.AddNode(tt.node)
			own.Edges = tt.edges
			sgs := append([]*graph.Subgraph{roster(), own}, tt.extra...)
			out, unres := Infer(sgs, tt.overrides)
			if err := out.Validate(); err != nil {
				t.Fatal(err)
			}
			var got []graph.Edge
			for _, e := range out.Edges {
				if e.To == tt.node.ID {
					got = append(got, e)
				}
			}
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("want no owner, got %+v", got)
				}
			} else {
				if len(got) != 1 {
					t.Fatalf("want 1 owns edge, got %+v (unresolved %+v)", got, unres)
				}
				e := got[0]
				if e.From != tt.want || e.Kind != graph.EdgeOwns || e.Attrs[AttrRule] != tt.rule {
					t.Errorf("got %s by rule %s, want %s by %s (%q)", e.From, e.Attrs[AttrRule], tt.want, tt.rule, e.Attrs[graph.AttrReason])
				}
				if tt.conf != "" && e.Attrs[graph.AttrConfidence] != tt.conf {
					t.Errorf("confidence %s, want %s", e.Attrs[graph.AttrConfidence], tt.conf)
				}
				if !strings.Contains(e.Attrs[graph.AttrReason], tt.reason) {
					t.Errorf("reason %q lacks %q", e.Attrs[graph.AttrReason], tt.reason)
				}
			}
			for _, w := range tt.unres {
				found := false
				for _, u := range unres {
					if u.Hint == w && u.Target == tt.node.ID && u.Why != "" {
						found = true
					}
				}
				if !found {
					t.Errorf("hint %q not reported unresolved: %+v", w, unres)
				}
			}
			if len(tt.unres) == 0 && len(unres) != 0 {
				t.Errorf("unexpected unresolved %+v", unres)
			}
		})
	}
}

func TestInferSkipsHumansAndIsStable(t *testing.T) {
	own := &graph.Subgraph{Source: "aws:1"}
	own.AddNode(graph.Node{ID: "aws:1:user/a", Kind: graph.KindServiceAccount, Tags: map[string]string{"owner": "alice@example.com"}})
	own.AddNode(graph.Node{ID: "aws:1:user/b", Kind: graph.KindServiceAccount, Tags: map[string]string{"owner": "dave@example.com"}})
	own.AddNode(graph.Node{ID: "aws:1:bucket/x", Kind: graph.KindResource, Tags: map[string]string{"owner": "dave@example.com"}})
	a, _ := Infer([]*graph.Subgraph{roster(), own}, nil)
	b, _ := Infer([]*graph.Subgraph{own, roster()}, nil)
	if len(a.Edges) != 2 {
		t.Fatalf("want 2 owns edges (resources and humans are not owned), got %+v", a.Edges)
	}
	if a.Source != Source {
		t.Errorf("source %q", a.Source)
	}
	for i := range a.Edges {
		if a.Edges[i].Key() != b.Edges[i].Key() {
			t.Fatal("input order changed the output")
		}
	}
}

func TestOverrideForMissingIdentity(t *testing.T) {
	_, unres := Infer([]*graph.Subgraph{roster()}, []Override{{Identity: "aws:1:user/gone", OwnerEmail: "alice@example.com", SetBy: "x@example.com", SetAt: setAt}})
	if len(unres) != 1 || unres[0].Rule != RuleOverride || unres[0].Target != "aws:1:user/gone" {
		t.Fatalf("got %+v", unres)
	}
}

func TestStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "overrides.json")
	s := NewStore(path)
	if all, err := s.List(); err != nil || len(all) != 0 {
		t.Fatalf("empty store: %v %v", all, err)
	}
	o1 := Override{Identity: "aws:1:user/b", OwnerEmail: "Alice@Example.com", SetBy: "erin@example.com", SetAt: setAt, Reason: "r"}
	o2 := Override{Identity: "aws:1:user/a", OwnerEmail: "dave@example.com", SetBy: "erin@example.com", SetAt: setAt}
	for _, o := range []Override{o1, o2} {
		if err := s.Set(o); err != nil {
			t.Fatal(err)
		}
	}
	// A correction replaces the earlier one for the same identity.
	o3 := o2
	o3.OwnerEmail = "carol@example.com"
	if err := s.Set(o3); err != nil {
		t.Fatal(err)
	}
	// A new Store on the same file sees the same list: corrections survive.
	all, err := NewStore(path).List()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Identity != "aws:1:user/a" || all[0].OwnerEmail != "carol@example.com" || all[1].OwnerEmail != "alice@example.com" {
		t.Fatalf("got %+v", all)
	}
	if ok, err := s.Delete("aws:1:user/a"); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if ok, _ := s.Delete("aws:1:user/a"); ok {
		t.Fatal("deleted twice")
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".overrides-*")); len(matches) != 0 {
		t.Fatalf("temp files left: %v", matches)
	}

	bad := []struct {
		name string
		o    Override
		want string
	}{
		{"no identity", Override{OwnerEmail: "a@example.com", SetBy: "x", SetAt: setAt}, "identity"},
		{"no e-mail", Override{Identity: "x", OwnerEmail: "alice", SetBy: "x", SetAt: setAt}, "owner_email"},
		{"no setter", Override{Identity: "x", OwnerEmail: "a@example.com", SetAt: setAt}, "set_by"},
		{"no time", Override{Identity: "x", OwnerEmail: "a@example.com", SetBy: "x"}, "set_at"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Set(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want mention of %s", err, tt.want)
			}
		})
	}
}

func TestStoreCorruptFile(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"truncated", `{"overrides": [{"identity": "x"`, "overrides.json"},
		{"unknown field", `{"overrides": [], "extra": 1}`, "extra"},
		{"invalid entry", `{"overrides": [{"identity": "x", "owner_email": "nope"}]}`, "overrides[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "overrides.json")
			if err := writeFile(path, tt.body); err != nil {
				t.Fatal(err)
			}
			if _, err := NewStore(path).List(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
}

func TestHintList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"bob@example.com", []string{"bob@example.com"}},
		{"9b8a-id, bob@example.com", []string{"9b8a-id", "bob@example.com"}},
		{"CN=Bob Smith,OU=Staff,DC=acme,DC=example", []string{"CN=Bob Smith,OU=Staff,DC=acme,DC=example"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := hintList(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("%q: %v", tt.in, got)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("%q: %v", tt.in, got)
				}
			}
		})
	}
}
