package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/steward-oss/steward/graph"
)

func encode(t *testing.T, sgs []*graph.Subgraph) []byte {
	t.Helper()
	b, err := json.Marshal(sgs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDeterminism(t *testing.T) {
	base := encode(t, Generate(Config{Seed: 7, Size: 2000}))
	tests := []struct {
		name string
		cfg  Config
		same bool
	}{
		{"same config", Config{Seed: 7, Size: 2000}, true},
		{"other seed", Config{Seed: 8, Size: 2000}, false},
		{"other size", Config{Seed: 7, Size: 2001}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encode(t, Generate(tt.cfg))
			if bytes.Equal(got, base) != tt.same {
				t.Errorf("output equal to seed 7 size 2000: %v, want %v", !tt.same, tt.same)
			}
		})
	}
	t.Run("normalized", func(t *testing.T) {
		for _, sg := range Generate(Config{Seed: 7, Size: 2000}) {
			before := encode(t, []*graph.Subgraph{sg})
			sg.Normalize()
			if !bytes.Equal(before, encode(t, []*graph.Subgraph{sg})) {
				t.Errorf("source %s changes under Normalize", sg.Source)
			}
		}
	})
}

func TestStreamMatchesGenerate(t *testing.T) {
	cfg := Config{Seed: 3, Size: 1500}
	var streamed []*graph.Subgraph
	if err := Stream(cfg, func(sg *graph.Subgraph) error { streamed = append(streamed, sg); return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(t, streamed), encode(t, Generate(cfg))) {
		t.Error("Stream and Generate differ")
	}
	// hr comes first so that owners exist when sources load; ownership and
	// the scanner's findings, which refer to every source, come last.
	n := len(streamed)
	if streamed[0].Source != "hr" || streamed[n-2].Source != "ownership" || streamed[n-1].Source != "gitleaks:demo" {
		t.Errorf("order %s, ..., %s, %s; want hr first, ownership and gitleaks:demo last",
			streamed[0].Source, streamed[n-2].Source, streamed[n-1].Source)
	}
	t.Run("callback error stops the stream", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := Stream(cfg, func(sg *graph.Subgraph) error {
			calls++
			if sg.Source == "entra:acme.onmicrosoft.com" {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || !strings.Contains(err.Error(), "entra:acme.onmicrosoft.com") {
			t.Errorf("err = %v, want wrapped stop naming the source", err)
		}
		if calls >= len(streamed) {
			t.Errorf("callback called %d times after the error, want fewer than %d", calls, len(streamed))
		}
	})
}

func TestValid(t *testing.T) {
	for _, size := range []int{MinSize, 1000, 5000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			sgs := Generate(Config{Seed: 11, Size: size})
			sources := map[string]bool{}
			ids := map[string]*graph.Node{}
			for _, sg := range sgs {
				if err := sg.Validate(); err != nil {
					t.Errorf("validate: %v", err)
				}
				if sources[sg.Source] {
					t.Errorf("source %s emitted twice", sg.Source)
				}
				sources[sg.Source] = true
				if typ := graph.SourceType(sg.Source); sg.Source != "hr" && sg.Source != "ownership" && typ == sg.Source {
					t.Errorf("source %q is not <type>:<scope>", sg.Source)
				}
				for i := range sg.Nodes {
					n := &sg.Nodes[i]
					if prev, dup := ids[n.ID]; dup {
						t.Errorf("node %s in %s and %s", n.ID, prev.Source, n.Source)
					}
					ids[n.ID] = n
					if n.Kind != graph.KindHuman && !strings.HasPrefix(n.ID, sg.Source) {
						t.Errorf("node %s not qualified by its source %s", n.ID, sg.Source)
					}
				}
			}
			for _, sg := range sgs {
				for _, e := range sg.Edges {
					if ids[e.From] == nil || ids[e.To] == nil {
						t.Errorf("%s: edge %s %s -> %s has a missing end", sg.Source, e.Kind, e.From, e.To)
					}
				}
			}
		})
	}
}

// TestEdgeDirections checks the node kinds at both ends of every edge
// against graph/README.md.
func TestEdgeDirections(t *testing.T) {
	sgs := Generate(Config{Seed: 5, Size: 3000})
	m := merge(sgs)
	identity := func(n *graph.Node) bool { return n.Kind.IsIdentity() }
	principalOrGroup := func(n *graph.Node) bool { return identity(n) || n.Kind == graph.KindGroup }
	target := func(n *graph.Node) bool { return n.Kind == graph.KindResource || n.Kind == graph.KindAccount }
	rules := map[graph.EdgeKind][2]func(*graph.Node) bool{
		graph.EdgeOwns:          {func(n *graph.Node) bool { return n.Kind == graph.KindHuman }, identity},
		graph.EdgeMemberOf:      {principalOrGroup, func(n *graph.Node) bool { return n.Kind == graph.KindGroup || n.Kind == graph.KindRole }},
		graph.EdgeCanAssume:     {identity, func(n *graph.Node) bool { return n.Kind == graph.KindRole || identity(n) }},
		graph.EdgeHasCredential: {identity, func(n *graph.Node) bool { return n.Kind == graph.KindCredential }},
		graph.EdgeGrants: {func(n *graph.Node) bool {
			return principalOrGroup(n) || n.Kind == graph.KindRole || n.Kind == graph.KindPolicy
		}, target},
		graph.EdgeAttachedTo: {func(n *graph.Node) bool { return n.Kind == graph.KindPolicy }, func(n *graph.Node) bool {
			return identity(n) || n.Kind == graph.KindGroup || n.Kind == graph.KindRole
		}},
		graph.EdgeUsed: {func(n *graph.Node) bool { return identity(n) || n.Kind == graph.KindCredential }, target},
		graph.EdgeCreatedBy: {func(n *graph.Node) bool { return identity(n) || n.Kind == graph.KindCredential }, func(n *graph.Node) bool {
			return n.Kind == graph.KindHuman || identity(n)
		}},
		graph.EdgeInAccount: {identity, func(n *graph.Node) bool { return n.Kind == graph.KindAccount }},
		graph.EdgeLeaked: {func(n *graph.Node) bool { return n.Kind == graph.KindCredential }, func(n *graph.Node) bool {
			return n.Kind == graph.KindResource
		}},
	}
	for _, sg := range sgs {
		for _, e := range sg.Edges {
			if sg.Source == "hr" && e.Kind == graph.EdgeMemberOf {
				continue // people in their HR team
			}
			r, ok := rules[e.Kind]
			if !ok {
				t.Errorf("%s: unexpected edge kind %s", sg.Source, e.Kind)
				continue
			}
			from, to := m.nodes[e.From], m.nodes[e.To]
			if from == nil || to == nil || !r[0](from) || !r[1](to) {
				t.Errorf("%s: edge %s %s -> %s has the wrong ends", sg.Source, e.Kind, e.From, e.To)
			}
			switch e.Kind {
			case graph.EdgeGrants:
				if e.Privilege == "" || e.Effect != graph.EffectAllow {
					t.Errorf("%s: grant %s -> %s without privilege or effect", sg.Source, e.From, e.To)
				}
			case graph.EdgeUsed:
				if e.LastSeen.IsZero() || e.LastSeen.After(Reference) || e.Attrs[graph.AttrUsedAction] == "" {
					t.Errorf("%s: used %s -> %s without a past last_seen and an action", sg.Source, e.From, e.To)
				}
			}
		}
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		name      string
		size      int
		want      int
		accounts  int // AWS accounts: three up to 60,000 AWS identities, then one per 20,000
		shortSkip bool
	}{
		{"default", 0, DefaultSize, 3, false},
		{"raised to minimum", 5, MinSize, 3, false},
		{"1k", 1000, 1000, 3, false},
		{"12345", 12345, 12345, 3, false},
		{"100k", 100_000, 100_000, 3, false},
		{"1M", 1_000_000, 1_000_000, 9, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.shortSkip && testing.Short() {
				t.Skip("1M identities under -short")
			}
			var identities, roles, creds, humans, nodes int
			err := Stream(Config{Seed: 1, Size: tt.size}, func(sg *graph.Subgraph) error {
				for i := range sg.Nodes {
					n := &sg.Nodes[i]
					nodes++
					switch {
					case n.Source == "gitleaks:demo":
					case isIAMRole(n):
						roles++
					case isPrincipalNHI(n):
						identities++
					case n.Kind == graph.KindCredential:
						creds++
					case n.Kind == graph.KindHuman:
						humans++
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if identities != tt.want {
				t.Errorf("identities = %d, want %d", identities, tt.want)
			}
			// Each account's IAM roles: OrganizationAccountAccessRole,
			// terraform-apply, legacy-ec2-admin, readonly-audit, and a deploy
			// and a task role per application.
			if want := tt.accounts * (4 + 2*len(apps)); roles != want {
				t.Errorf("IAM roles = %d, want %d", roles, want)
			}
			if wantH := max(20, tt.want/10); humans != wantH {
				t.Errorf("humans = %d, want %d", humans, wantH)
			}
			// About one credential for every two identities, and a bounded amount of
			// fixed structure (roles, policies, resources) on top.
			if r := float64(creds) / float64(identities); r < 0.4 || r > 1.2 {
				t.Errorf("credentials per identity = %.2f, want 0.4..1.2", r)
			}
			if r := float64(nodes) / float64(identities); tt.want >= 1000 && (r < 1.4 || r > 6) {
				t.Errorf("nodes per identity = %.2f, want 1.4..6", r)
			}
		})
	}
}

func TestRates(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			m := measure(Generate(Config{Seed: seed, Size: 5000}))
			if m.identities != 5000 {
				t.Fatalf("identities = %d, want 5000", m.identities)
			}
			tests := []struct {
				name       string
				got, want  float64
				population int
			}{
				{"Idle30", m.rate(m.idle, m.identities), Rates.Idle30, m.identities},
				{"Admin", m.rate(m.admin, m.identities), Rates.Admin, m.identities},
				{"NoOwner", m.rate(m.noOwner, m.identities), Rates.NoOwner, m.identities},
				{"OwnerDeparted", m.rate(m.ownerDeparted, m.identities), Rates.OwnerDeparted, m.identities},
				{"OverPrivileged", m.rate(m.overPriv, m.identities), Rates.OverPrivileged, m.identities},
				{"Expiring30", m.rate(m.expiring, m.credsWithExpiry), Rates.Expiring30, m.credsWithExpiry},
				{"Leaked", m.rate(m.leaked, m.credsWithFingerprint), Rates.Leaked, m.credsWithFingerprint},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					// Four binomial standard deviations, and never less than
					// half a point: a mis-wired case is off by far more.
					tol := max(0.005, 4*math.Sqrt(tt.want*(1-tt.want)/float64(tt.population)))
					if math.Abs(tt.got-tt.want) > tol {
						t.Errorf("%s = %.4f over %d, want %.4f ± %.4f", tt.name, tt.got, tt.population, tt.want, tol)
					}
					t.Logf("%s = %.4f over %d (target %.4f)", tt.name, tt.got, tt.population, tt.want)
				})
			}
		})
	}
}

func TestHumans(t *testing.T) {
	var hr *graph.Subgraph
	for _, sg := range Generate(Config{Seed: 4, Size: 3000}) {
		if sg.Source == "hr" {
			hr = sg
		}
	}
	if hr == nil {
		t.Fatal("no hr subgraph")
	}
	email := regexp.MustCompile(`^[a-z]+\.[a-z]+[0-9]*@example\.com$`)
	seen := map[string]bool{}
	humans, departed := 0, 0
	for _, n := range hr.Nodes {
		if n.Kind != graph.KindHuman {
			continue
		}
		humans++
		e := n.Attrs[graph.AttrEmail]
		if !email.MatchString(e) || n.ID != graph.HumanID(e) || seen[e] {
			t.Errorf("human %s: email %q not a unique firstname.lastname@example.com", n.ID, e)
		}
		seen[e] = true
		if n.Attrs[graph.AttrTeam] == "" {
			t.Errorf("human %s has no team", n.ID)
		}
		switch n.Status {
		case graph.StatusDeparted:
			departed++
			if n.Attrs[graph.AttrEndDate] == "" {
				t.Errorf("departed %s has no end_date", n.ID)
			}
		case graph.StatusActive:
			if n.Attrs[graph.AttrEndDate] != "" {
				t.Errorf("active %s has an end_date", n.ID)
			}
		default:
			t.Errorf("human %s status %q", n.ID, n.Status)
		}
	}
	managed := 0
	for _, n := range hr.Nodes {
		if m := n.Attrs[graph.AttrManager]; m != "" {
			managed++
			if !seen[m] {
				t.Errorf("human %s: manager %s is not on the roster", n.ID, m)
			}
		}
	}
	if managed != humans-1 {
		t.Errorf("%d of %d people have a manager, want all but the CTO", managed, humans)
	}
	if r := float64(departed) / float64(humans); math.Abs(r-departedRate) > 0.03 {
		t.Errorf("departed share = %.3f, want about %.2f", r, departedRate)
	}
}

// TestOwnerTags checks that the owner hints the sources carry (owner tags,
// created_by edges) name the same people as the ownership subgraph, so
// owner inference run on the demo agrees with it.
func TestOwnerTags(t *testing.T) {
	sgs := Generate(Config{Seed: 9, Size: 2000})
	m := merge(sgs)
	tagged := 0
	for id, n := range m.nodes {
		owner := n.Tags["owner"]
		var byTag []string
		for _, e := range m.in[id] {
			if e.Kind == graph.EdgeOwns && e.Attrs[graph.AttrReason] == "tag owner" {
				byTag = append(byTag, e.From)
			}
		}
		switch {
		case owner == "" && len(byTag) > 0:
			t.Errorf("%s: tag owner edge without an owner tag", id)
		case owner != "" && (len(byTag) != 1 || byTag[0] != graph.HumanID(owner)):
			t.Errorf("%s: owner tag %q, tag owner edges %v", id, owner, byTag)
		case owner != "":
			tagged++
		}
	}
	if tagged < 100 {
		t.Errorf("only %d identities carry an owner tag", tagged)
	}
	t.Run("created_by edges match created_by owners", func(t *testing.T) {
		creators := 0
		for _, sg := range sgs {
			for _, e := range sg.Edges {
				if e.Kind != graph.EdgeCreatedBy {
					continue
				}
				creators++
				ok := false
				for _, o := range m.in[e.From] {
					ok = ok || (o.Kind == graph.EdgeOwns && o.From == e.To && o.Attrs[graph.AttrReason] == "created_by")
				}
				if !ok || e.Attrs["event"] == "" {
					t.Errorf("%s: created_by %s has no matching owns edge or no event", e.From, e.To)
				}
			}
		}
		if creators < 50 {
			t.Errorf("only %d created_by edges", creators)
		}
	})
}

// TestNoSecrets scans every string of the output for a full credential id
// of the kinds the generator draws.
func TestNoSecrets(t *testing.T) {
	b := encode(t, Generate(Config{Seed: 2, Size: 3000}))
	secret := regexp.MustCompile(`AKIA[A-Z2-7]{16}|ghp_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{20,}|"00[A-Za-z0-9_-]{40}"`)
	if s := secret.Find(b); s != nil {
		t.Errorf("output holds a full credential id %q...", s[:8])
	}
	masked := regexp.MustCompile(`^.{4}….{4}$`)
	for _, sg := range Generate(Config{Seed: 2, Size: 1000}) {
		for _, n := range sg.Nodes {
			if v, ok := n.Attrs[graph.AttrKeyIDMasked]; ok && !masked.MatchString(v) {
				t.Errorf("%s: key_id_masked %q is not first4…last4", n.ID, v)
			}
			if v, ok := n.Attrs[graph.AttrFingerprint]; ok && !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(v) {
				t.Errorf("%s: fingerprint %q is not hex SHA-256", n.ID, v)
			}
		}
	}
}

// TestStory checks the named identities the demo questions rely on.
func TestStory(t *testing.T) {
	sgs := Generate(Config{Seed: 1, Size: 1000})
	m := merge(sgs)
	node := func(id string) *graph.Node {
		t.Helper()
		n := m.nodes[id]
		if n == nil {
			t.Fatalf("missing node %s", id)
		}
		return n
	}
	ci := node("aws:111111111111:user/ci-deployer")
	if ci.Kind != graph.KindServiceAccount {
		t.Errorf("ci-deployer kind %s", ci.Kind)
	}
	t.Run("ci-deployer deploys to prod through a role", func(t *testing.T) {
		var roles []string
		for _, e := range m.outOf(ci.ID, graph.EdgeCanAssume) {
			roles = append(roles, e.To)
		}
		want := []string{"aws:111111111111:role/deploy-payments-api", "aws:222222222222:role/deploy-payments-api"}
		if strings.Join(roles, ",") != strings.Join(want, ",") {
			t.Errorf("ci-deployer assumes %v, want %v", roles, want)
		}
		if p := m.privilege(ci.ID); p != graph.PrivWrite {
			t.Errorf("ci-deployer privilege %s, want write", p)
		}
		if env := node("aws:111111111111").Attrs[graph.AttrEnvironment]; env != "prod" {
			t.Errorf("account 111111111111 environment %q", env)
		}
	})
	t.Run("ci-deployer key leaked", func(t *testing.T) {
		fps := map[string]bool{}
		for _, k := range m.creds(ci.ID) {
			if !strings.HasPrefix(k, "aws:111111111111:access-key/ci-deployer/AKIA…") {
				t.Errorf("key id %s not in the AWS connector's form", k)
			}
			fps[node(k).Attrs[graph.AttrFingerprint]] = true
		}
		found := false
		for _, n := range m.nodes {
			if n.Source == "gitleaks:demo" && fps[n.Attrs[graph.AttrFingerprint]] {
				found = len(m.outOf(n.ID, graph.EdgeLeaked)) == 1
			}
		}
		if !found {
			t.Error("no gitleaks finding with ci-deployer's key fingerprint and a leaked_in edge")
		}
	})
	t.Run("admins", func(t *testing.T) {
		for _, id := range []string{"aws:111111111111:user/terraform", "k8s:prod-cluster:sa/argocd/argocd-application-controller"} {
			if p := m.privilege(id); p != graph.PrivAdmin {
				t.Errorf("%s privilege %s, want admin", id, p)
			}
		}
	})
	t.Run("backup-agent idle and orphaned", func(t *testing.T) {
		id := "aws:111111111111:user/backup-agent"
		if last := m.lastUse(id); !last.Before(Reference.Add(-90 * day)) {
			t.Errorf("backup-agent last use %v", last)
		}
		for _, e := range m.in[id] {
			if e.Kind == graph.EdgeOwns && m.nodes[e.From].Status != graph.StatusDeparted {
				t.Errorf("backup-agent owned by current employee %s", e.From)
			}
		}
	})
	t.Run("ai-support-agent", func(t *testing.T) {
		var agent *graph.Node
		for _, n := range m.nodes {
			if n.Name == "ai-support-agent" {
				agent = n
			}
		}
		if agent == nil || agent.Kind != graph.KindAIAgent {
			t.Fatalf("ai-support-agent = %+v", agent)
		}
		if len(m.outOf(agent.ID, graph.EdgeGrants)) < 5 {
			t.Error("ai-support-agent has narrow access")
		}
		exp := node(agent.ID + "/secret/1").ExpiresAt
		if !exp.After(Reference) || exp.After(Reference.Add(14*day)) {
			t.Errorf("ai-support-agent secret expires %v, want within 14 days", exp)
		}
	})
	t.Run("prompt injection bot", func(t *testing.T) {
		n := node("github:acme:user/ignore-previous-instructions")
		if n.Name != PromptInjectionName || n.Kind != graph.KindBot {
			t.Errorf("bot = %q %s", n.Name, n.Kind)
		}
	})
	t.Run("rare cases present", func(t *testing.T) {
		counts := map[string]int{}
		for _, n := range m.nodes {
			switch {
			case n.Attrs[graph.AttrPasswordNever] == "true":
				counts["password never expires"]++
			case n.Attrs["superuser"] == "true":
				counts["superuser"]++
			case n.Subtype == "k8s_service_account" && m.privilege(n.ID) == graph.PrivAdmin:
				counts["cluster-admin"]++
			case n.Kind == graph.KindCredential && !n.ExpiresAt.IsZero() && n.ExpiresAt.Before(Reference):
				counts["expired"]++
			}
			if n.Source == "ldap:dc=acme,dc=example" && isPrincipalNHI(n) && m.privilege(n.ID) == graph.PrivAdmin {
				direct := false
				for _, e := range m.outOf(n.ID, graph.EdgeMemberOf) {
					direct = direct || m.nodes[e.To].Name == "Domain Admins"
				}
				if !direct {
					counts["Domain Admins through nested groups"]++
				}
			}
		}
		for _, k := range []string{"password never expires", "superuser", "cluster-admin", "expired", "Domain Admins through nested groups"} {
			if counts[k] == 0 {
				t.Errorf("no %s", k)
			}
		}
	})
}

// TestLeaks checks that each finding names an active credential by
// fingerprint (apart from the strays), was committed after the credential
// was created, and points at a repository.
func TestLeaks(t *testing.T) {
	sgs := Generate(Config{Seed: 6, Size: 4000})
	m := merge(sgs)
	byFP := map[string]*graph.Node{}
	for _, n := range m.nodes {
		if fp := n.Attrs[graph.AttrFingerprint]; fp != "" && n.Source != "gitleaks:demo" {
			byFP[fp] = n
		}
	}
	findings, stray := 0, 0
	for _, n := range m.nodes {
		if n.Source != "gitleaks:demo" {
			continue
		}
		findings++
		leaked := m.outOf(n.ID, graph.EdgeLeaked)
		if len(leaked) != 1 || m.nodes[leaked[0].To].Subtype != "repository" || leaked[0].Attrs["file"] == "" {
			t.Errorf("%s: leaked_in edges %v, want one to a repository with a file", n.ID, leaked)
		}
		c := byFP[n.Attrs[graph.AttrFingerprint]]
		if c == nil {
			stray++
			continue
		}
		if c.Status != graph.StatusActive || n.CreatedAt.Before(c.CreatedAt) || c.Attrs[graph.AttrKeyIDMasked] != n.Attrs[graph.AttrKeyIDMasked] {
			t.Errorf("%s matches %s: status %s, created %v before %v, or masks differ", n.ID, c.ID, c.Status, n.CreatedAt, c.CreatedAt)
		}
	}
	if stray != strayLeaks || findings < 20 {
		t.Errorf("%d findings, %d matching nothing; want at least 20 and %d", findings, stray, strayLeaks)
	}
}
