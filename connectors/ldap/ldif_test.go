package ldap

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

const fixture = "testdata/ad-export.ldif"

// fixtureSecrets are values in the fixture that must never reach the graph.
var fixtureSecrets = []string{"ExampleOnly-NotASecret-1", "ExampleOnly-Desc-2"}

func id(dn string) string { return "ldap:example.com:" + dn }

func newReader(t *testing.T, opts connectors.Options) connectors.Reader {
	t.Helper()
	return connectortest.New(t, "ldap", opts, connectors.Env{})
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// checkADFixture asserts what ad-export.ldif says, whichever path read it.
func checkADFixture(t *testing.T, sgs []*graph.Subgraph) {
	t.Helper()
	if len(sgs) != 1 || sgs[0].Source != "ldap:example.com" {
		t.Fatalf("want one subgraph ldap:example.com, got %d (%v)", len(sgs), sgs[0].Source)
	}
	nodes := []struct {
		name string
		id   string
		want graph.Node
		// attrs that must be absent
		absent []string
	}{
		{
			name: "person with mail is a user with email and dn",
			id:   id("cn=alice admin,ou=people,dc=example,dc=com"),
			want: graph.Node{Kind: graph.KindUser, Name: "alice", Status: graph.StatusActive,
				CreatedAt: date("2023-05-12T08:30:15Z"), RotatedAt: date("2025-03-15T12:00:00Z"),
				LastUsedAt: date("2026-11-20T07:15:00Z"),
				Attrs: map[string]string{"email": "alice@example.com", "dn": "cn=alice admin,ou=people,dc=example,dc=com",
					"user_principal_name": "alice@example.com", "sam_account_name": "alice", "user_account_control": "512"}},
			absent: []string{"password_never_expires"},
		},
		{
			name: "disabled person",
			id:   id("cn=bob departed,ou=people,dc=example,dc=com"),
			want: graph.Node{Kind: graph.KindUser, Name: "bob", Status: graph.StatusDisabled,
				CreatedAt: date("2021-03-01T10:00:00Z"), RotatedAt: date("2019-06-01T00:00:00Z"),
				Attrs: map[string]string{"email": "bob@example.com", "dn": "cn=bob departed,ou=people,dc=example,dc=com",
					"sam_account_name": "bob", "user_account_control": "514"}},
		},
		{
			name: "user with SPN is a service account; never-expires, managedBy, SID",
			id:   id("cn=svc-sql,ou=service accounts,dc=example,dc=com"),
			want: graph.Node{Kind: graph.KindServiceAccount, Name: "svc-sql", Status: graph.StatusActive,
				CreatedAt: date("2019-06-01T00:00:00Z"), RotatedAt: date("2019-06-01T00:00:00Z"),
				LastUsedAt: date("2026-10-01T08:30:00Z"),
				Attrs: map[string]string{"dn": "cn=svc-sql,ou=service accounts,dc=example,dc=com",
					"sam_account_name": "svc-sql", "user_principal_name": "svc-sql@example.com",
					"service_principal_names": "MSSQLSvc/sql01.example.com,MSSQLSvc/sql01.example.com:1433",
					"user_account_control":    "66048", "password_never_expires": "true",
					"managed_by": "cn=alice admin,ou=people,dc=example,dc=com",
					"object_sid": "S-1-5-21-3623811015-3361044348-30300820-1105"}},
		},
		{
			name: "accountExpires sets ExpiresAt",
			id:   id("cn=svc-web,ou=service accounts,dc=example,dc=com"),
			want: graph.Node{Kind: graph.KindServiceAccount, Name: "svc-web", Status: graph.StatusActive,
				CreatedAt: date("2024-01-10T09:00:00Z"), RotatedAt: date("2024-01-10T09:00:00Z"),
				ExpiresAt: date("2027-12-31T00:00:00Z"),
				Attrs: map[string]string{"dn": "cn=svc-web,ou=service accounts,dc=example,dc=com",
					"sam_account_name": "svc-web", "service_principal_names": "HTTP/web.example.com",
					"user_account_control": "512"}},
		},
		{
			name: "disabled never-expires service account; pwdLastSet 0 is no rotation",
			id:   id("cn=svc-legacy,ou=service accounts,dc=example,dc=com"),
			want: graph.Node{Kind: graph.KindServiceAccount, Name: "svc-legacy", Status: graph.StatusDisabled,
				CreatedAt: date("2019-06-01T00:00:00Z"), LastUsedAt: date("2019-06-01T00:00:00Z"),
				Attrs: map[string]string{"dn": "cn=svc-legacy,ou=service accounts,dc=example,dc=com",
					"sam_account_name": "svc-legacy", "service_principal_names": "HTTP/legacy.example.com",
					"user_account_control": "66050", "password_never_expires": "true"}},
		},
		{
			name: "gMSA",
			id:   id("cn=gmsa-app,ou=service accounts,dc=example,dc=com"),
			want: graph.Node{Kind: graph.KindServiceAccount, Subtype: SubtypeGMSA, Name: "gmsa-app$", Status: graph.StatusActive,
				CreatedAt: date("2025-03-15T12:00:00Z"), RotatedAt: date("2026-10-01T08:30:00Z"),
				LastUsedAt: date("2026-11-20T07:15:00Z"),
				Attrs: map[string]string{"dn": "cn=gmsa-app,ou=service accounts,dc=example,dc=com",
					"sam_account_name": "gmsa-app$", "service_principal_names": "HTTP/app.example.com",
					"user_account_control": "4096", "dns_host_name": "gmsa-app.example.com"}},
		},
		{
			name: "standalone MSA",
			id:   id("cn=msa-print,ou=service accounts,dc=example,dc=com"),
			want: graph.Node{Kind: graph.KindServiceAccount, Subtype: SubtypeMSA, Name: "msa-print$", Status: graph.StatusActive,
				CreatedAt: date("2025-03-15T12:00:00Z"),
				Attrs: map[string]string{"dn": "cn=msa-print,ou=service accounts,dc=example,dc=com",
					"sam_account_name": "msa-print$", "user_account_control": "4096"}},
		},
		{
			name: "computer account",
			id:   id("cn=ws01,ou=servers,dc=example,dc=com"),
			want: graph.Node{Kind: graph.KindServiceAccount, Subtype: SubtypeComputer, Name: "WS01$", Status: graph.StatusActive,
				CreatedAt: date("2023-05-12T08:30:15Z"), LastUsedAt: date("2026-11-20T07:15:00Z"),
				Attrs: map[string]string{"dn": "cn=ws01,ou=servers,dc=example,dc=com",
					"sam_account_name": "WS01$", "service_principal_names": "HOST/WS01,HOST/ws01.example.com",
					"user_account_control": "4096", "dns_host_name": "ws01.example.com"}},
		},
		{
			name: "Domain Admins found by SID",
			id:   id("cn=domain admins,ou=groups,dc=example,dc=com"),
			want: graph.Node{Kind: graph.KindGroup, Name: "Domain Admins", Status: graph.StatusActive,
				CreatedAt: date("2019-06-01T00:00:00Z"),
				Attrs: map[string]string{"dn": "cn=domain admins,ou=groups,dc=example,dc=com",
					"sam_account_name": "Domain Admins", "well_known_group": "domain_admins",
					"object_sid": "S-1-5-21-3623811015-3361044348-30300820-512"}},
		},
		{
			name: "group with managedBy and no SID",
			id:   id("cn=tier0 admins,ou=groups,dc=example,dc=com"),
			want: graph.Node{Kind: graph.KindGroup, Name: "Tier0 Admins", Status: graph.StatusActive,
				CreatedAt: date("2023-05-12T08:30:15Z"),
				Attrs: map[string]string{"dn": "cn=tier0 admins,ou=groups,dc=example,dc=com",
					"sam_account_name": "Tier0 Admins", "managed_by": "cn=alice admin,ou=people,dc=example,dc=com"}},
		},
		{
			name: "directory account node",
			id:   "ldap:example.com",
			want: graph.Node{Kind: graph.KindAccount, Name: "example.com",
				Attrs: map[string]string{"base_dn": "dc=example,dc=com"}},
		},
	}
	for _, tt := range nodes {
		t.Run(tt.name, func(t *testing.T) {
			got := connectortest.Find(t, sgs, tt.id)
			want := tt.want
			want.ID, want.Source = tt.id, "ldap:example.com"
			if !reflect.DeepEqual(got, want) {
				t.Errorf("node %s\n got %+v\nwant %+v", tt.id, got, want)
			}
		})
	}

	t.Run("containers are not nodes", func(t *testing.T) {
		for _, n := range sgs[0].Nodes {
			if strings.HasPrefix(n.ID, id("ou=")) {
				t.Errorf("unexpected node %s", n.ID)
			}
		}
		if got := len(sgs[0].Nodes); got != 15 {
			t.Errorf("got %d nodes, want 15 (8 accounts, 6 groups, 1 directory)", got)
		}
	})

	memberships := []struct{ member, group string }{
		{"cn=svc-sql,ou=service accounts", "cn=sql admins,ou=groups"},
		{"cn=sql admins,ou=groups", "cn=tier0 admins,ou=groups"}, // member value written in lower case
		{"cn=tier0 admins,ou=groups", "cn=domain admins,ou=groups"},
		{"cn=alice admin,ou=people", "cn=domain admins,ou=groups"},
		{"cn=bob departed,ou=people", "cn=enterprise admins,ou=groups"},
		{"cn=domain admins,ou=groups", "cn=administrators,ou=groups"},
		{"cn=enterprise admins,ou=groups", "cn=administrators,ou=groups"},
		{"cn=svc-web,ou=service accounts", "cn=web operators,ou=groups"},
		{"cn=gmsa-app,ou=service accounts", "cn=web operators,ou=groups"},
	}
	t.Run("member_of edges", func(t *testing.T) {
		for _, m := range memberships {
			from, to := id(m.member+",dc=example,dc=com"), id(m.group+",dc=example,dc=com")
			if len(connectortest.Edges(sgs, graph.EdgeMemberOf, from, to)) != 1 {
				t.Errorf("missing member_of %s -> %s", from, to)
			}
		}
		if got := len(connectortest.Edges(sgs, graph.EdgeMemberOf, "", "")); got != len(memberships) {
			t.Errorf("got %d member_of edges, want %d (the foreign security principal is skipped)", got, len(memberships))
		}
	})

	t.Run("admin groups grant admin on the directory", func(t *testing.T) {
		grants := connectortest.Edges(sgs, graph.EdgeGrants, "", "ldap:example.com")
		var from []string
		for _, g := range grants {
			if g.Privilege != graph.PrivAdmin || g.Effect != graph.EffectAllow || g.Action != "*" {
				t.Errorf("grant %+v: want allow * admin", g)
			}
			from = append(from, g.From)
		}
		want := []string{id("cn=administrators,ou=groups,dc=example,dc=com"),
			id("cn=domain admins,ou=groups,dc=example,dc=com"), id("cn=enterprise admins,ou=groups,dc=example,dc=com")}
		if !reflect.DeepEqual(from, want) {
			t.Errorf("admin grants from %v, want %v", from, want)
		}
	})

	admins := adminClosure(sgs[0])
	for _, tt := range []struct {
		dn    string
		admin bool
	}{
		{"cn=svc-sql,ou=service accounts,dc=example,dc=com", true}, // three levels of nesting
		{"cn=alice admin,ou=people,dc=example,dc=com", true},
		{"cn=bob departed,ou=people,dc=example,dc=com", true},
		{"cn=sql admins,ou=groups,dc=example,dc=com", true},
		{"cn=svc-web,ou=service accounts,dc=example,dc=com", false},
		{"cn=gmsa-app,ou=service accounts,dc=example,dc=com", false},
		{"cn=web operators,ou=groups,dc=example,dc=com", false},
	} {
		t.Run("transitive admin "+tt.dn, func(t *testing.T) {
			if admins[id(tt.dn)] != tt.admin {
				t.Errorf("admin = %v, want %v", admins[id(tt.dn)], tt.admin)
			}
		})
	}

	t.Run("every node is in the directory account", func(t *testing.T) {
		for _, n := range sgs[0].Nodes {
			if n.Kind != graph.KindAccount && len(connectortest.Edges(sgs, graph.EdgeInAccount, n.ID, "ldap:example.com")) != 1 {
				t.Errorf("%s has no in_account edge", n.ID)
			}
		}
	})
}

// adminClosure returns the nodes that reach an admin grant through
// member_of, the way the graph derives privilege.
func adminClosure(sg *graph.Subgraph) map[string]bool {
	up := map[string][]string{}
	admin := map[string]bool{}
	for _, e := range sg.Edges {
		switch {
		case e.Kind == graph.EdgeMemberOf:
			up[e.From] = append(up[e.From], e.To)
		case e.Kind == graph.EdgeGrants && e.Privilege == graph.PrivAdmin:
			admin[e.From] = true
		}
	}
	out := map[string]bool{}
	for _, n := range sg.Nodes {
		seen := map[string]bool{}
		stack := []string{n.ID}
		for len(stack) > 0 {
			cur := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[cur] {
				continue
			}
			seen[cur] = true
			if admin[cur] {
				out[n.ID] = true
				break
			}
			stack = append(stack, up[cur]...)
		}
	}
	return out
}

func TestLDIFFile(t *testing.T) {
	sgs := connectortest.Suite(t, func() connectors.Reader {
		return newReader(t, connectors.Options{"from": fixture})
	}, fixtureSecrets)
	checkADFixture(t, sgs)
}

func TestLDIFFormats(t *testing.T) {
	for _, file := range []string{"testdata/ldifde-export.ldf", "testdata/ldifde-unicode.ldf"} {
		t.Run("ldifde export: CRLF, folding, changetype add, memberOf: "+file, func(t *testing.T) {
			testLDIFDE(t, file)
		})
	}
	t.Run("ldapsearch -L: trailer, inetOrgPerson, groupOfNames, createTimestamp, OU base", func(t *testing.T) {
		sgs := connectortest.Suite(t, func() connectors.Reader {
			return newReader(t, connectors.Options{"from": "testdata/ldapsearch-L.ldif", "base-dn": "ou=apps,dc=example,dc=net"})
		}, nil)
		src := "ldap:ou=apps,dc=example,dc=net"
		if sgs[0].Source != src {
			t.Fatalf("source %q, want %q", sgs[0].Source, src)
		}
		bot := connectortest.Find(t, sgs, src+":uid=ci-bot,ou=apps,dc=example,dc=net")
		if bot.Kind != graph.KindUser || bot.Name != "ci-bot" || bot.Attrs["email"] != "ci-bot@example.net" ||
			!bot.CreatedAt.Equal(date("2024-02-02T10:10:10Z")) {
			t.Errorf("ci-bot = %+v", bot)
		}
		if len(connectortest.Edges(sgs, graph.EdgeMemberOf, bot.ID, src+":cn=deployers,ou=apps,dc=example,dc=net")) != 1 {
			t.Error("groupOfNames member did not become a member_of edge")
		}
	})
}

func testLDIFDE(t *testing.T, file string) {
	sgs := connectortest.Suite(t, func() connectors.Reader {
		return newReader(t, connectors.Options{"from": file})
	}, nil)
	if sgs[0].Source != "ldap:corp.example.org" {
		t.Fatalf("source %q, want ldap:corp.example.org (inferred from the dc= suffix)", sgs[0].Source)
	}
	group := "ldap:corp.example.org:cn=backup operators with a deliberately long name for folding,ou=groups,dc=corp,dc=example,dc=org"
	svc := "ldap:corp.example.org:cn=svc-backup,ou=service accounts,dc=corp,dc=example,dc=org"
	if n := connectortest.Find(t, sgs, group); n.Name != "Backup Operators With A Deliberately Long Name For Folding" {
		t.Errorf("folded cn = %q", n.Name)
	}
	if len(connectortest.Edges(sgs, graph.EdgeMemberOf, svc, group)) != 1 {
		t.Error("memberOf back-link did not become a member_of edge")
	}
	if got := len(connectortest.Edges(sgs, graph.EdgeMemberOf, "", "")); got != 1 {
		t.Errorf("%d member_of edges, want 1 (the group in another domain is skipped)", got)
	}
}

func TestLDIFBad(t *testing.T) {
	const sok = "CN=svc-ok,OU=Service Accounts,DC=example,DC=com"
	tests := []struct {
		file string
		base string
		want []string
	}{
		{"missing-sam.ldif", "", []string{"missing-sam.ldif:11", "CN=svc-nosam,OU=Service Accounts,DC=example,DC=com", `"sAMAccountName"`, "missing"}},
		{"bad-uac.ldif", "", []string{"bad-uac.ldif:11", "CN=svc-uac,", `"userAccountControl"`, `"enabled"`}},
		{"two-uac.ldif", "", []string{"two-uac.ldif:11", "CN=svc-2,", `"userAccountControl"`, "more than one"}},
		{"bad-filetime.ldif", "", []string{"bad-filetime.ldif:11", "CN=svc-llt,", `"lastLogonTimestamp"`, "yesterday"}},
		{"bad-whencreated.ldif", "", []string{"bad-whencreated.ldif:11", "CN=svc-wc,", `"whenCreated"`, "2023-05-12"}},
		{"bad-managedby.ldif", "", []string{"bad-managedby.ldif:11", "CN=svc-mb,", `"managedBy"`, "alice"}},
		{"bad-member.ldif", "", []string{"bad-member.ldif:11", "CN=Ops,OU=Groups", `"member"`, "svc-ok"}},
		{"group-no-cn.ldif", "", []string{"group-no-cn.ldif:11", "CN=NoName,", `"cn"`, "missing"}},
		{"no-dn.ldif", "", []string{"no-dn.ldif:11", "does not start with dn:"}},
		{"changetype-modify.ldif", "", []string{"changetype-modify.ldif:12", sok, `"modify"`}},
		{"bad-base64.ldif", "", []string{"bad-base64.ldif:19", "CN=svc-sid,", `"objectSid"`, "base64"}},
		{"bad-sid.ldif", "", []string{"bad-sid.ldif:11", "CN=svc-sid,", `"objectSid"`, "SID"}},
		{"ranged-slice.ldif", "", []string{"ranged-slice.ldif:2", "CN=Big,", `"member;range=0-1"`, "ranges"}},
		{"duplicate-dn.ldif", "", []string{"duplicate-dn.ldif:11", sok, "duplicate"}},
		{"missing-sam.ldif", "ou=elsewhere,dc=example,dc=com", []string{"missing-sam.ldif:2", sok, "outside base DN"}},
	}
	for _, tt := range tests {
		t.Run(tt.file+tt.base, func(t *testing.T) {
			opts := connectors.Options{"from": filepath.Join("testdata", "bad", tt.file)}
			if tt.base != "" {
				opts["base-dn"] = tt.base
			}
			connectortest.Bad(t, newReader(t, opts), tt.want...)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		connectortest.Bad(t, newReader(t, connectors.Options{"from": "testdata/nope.ldif"}), "testdata/nope.ldif")
	})
}

func TestOptions(t *testing.T) {
	pw := connectortest.WriteTemp(t, "pw", "x")
	tests := []struct {
		name string
		opts connectors.Options
		want string
	}{
		{"neither url nor from", connectors.Options{}, "exactly one of url and from"},
		{"both url and from", connectors.Options{"url": "ldap://h", "from": fixture}, "exactly one of url and from"},
		{"url without bind", connectors.Options{"url": "ldaps://h", "base-dn": "dc=x"}, "needs base-dn, bind-dn and password-file"},
		{"bad scheme", connectors.Options{"url": "http://h", "base-dn": "dc=x", "bind-dn": "cn=r", "password-file": pw}, "scheme must be ldap or ldaps"},
		{"bad base dn", connectors.Options{"from": fixture, "base-dn": "not a dn"}, `base-dn "not a dn"`},
		{"bad page size", connectors.Options{"from": fixture, "page-size": "0"}, "page-size"},
		{"bad bool", connectors.Options{"from": fixture, "insecure-skip-verify": "maybe"}, "insecure-skip-verify"},
		{"unknown option", connectors.Options{"from": fixture, "password": "x"}, `unknown option "password"`},
		{"actuator reuses reader DN", connectors.Options{"url": "ldap://h", "base-dn": "dc=x", "bind-dn": "cn=r,dc=x",
			"password-file": pw, "actuator-bind-dn": "CN=r,dc=x", "actuator-password-file": pw}, "must differ from bind-dn"},
		{"actuator without password", connectors.Options{"url": "ldap://h", "base-dn": "dc=x", "bind-dn": "cn=r,dc=x",
			"password-file": pw, "actuator-bind-dn": "cn=w,dc=x"}, "actuator-password-file"},
		{"start-tls on ldaps", connectors.Options{"url": "ldaps://h", "base-dn": "dc=x", "bind-dn": "cn=r,dc=x",
			"password-file": pw, "start-tls": "true"}, "already TLS"},
		{"ca file without PEM", connectors.Options{"from": fixture, "ca-file": pw}, "no PEM certificates"},
	}
	for _, tt := range tests {
		connectortest.Refuses(t, tt.name, "ldap", tt.opts, connectors.Env{}, tt.want)
	}
	t.Run("reader without actuator credentials cannot act", func(t *testing.T) {
		r := newReader(t, connectors.Options{"from": fixture})
		if _, ok := r.(connectors.Actuator); ok {
			t.Fatal("a read-only configuration implements connectors.Actuator")
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		r, err := NewReader(Config{URL: "ldap://127.0.0.1:1", BaseDN: "dc=x", BindDN: "cn=r", PasswordFile: pw})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := r.Read(ctx); err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("err = %v, want context canceled", err)
		}
	})
}
