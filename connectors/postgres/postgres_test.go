package postgres

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const src = "postgres:test"

// secrets are the passwords in testdata/setup.sql.
var secrets = []string{"fake-etl-password-1", "fake-reporting-password-2", "fake-dba-password-3",
	"fake-repl-password-4", "fake-tenant-password-5", "fake-alice-password-6", "fake-weird-password-7",
	"fake-reader-password-8", "fake-actuator-password-9"}

func rid(name string) string { return roleID(src, name) }

// fixture is a database set up by testdata/setup.sql.
type fixture struct {
	db        string
	superDSN  string
	super     *pgx.Conn
	etlStart  time.Time // backend_start of the etl session held open
	dsnFor    func(user, password string) string
	readerDSN string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	srv := pgtest.Start(t)
	superDSN := srv.CreateDB(t, "steward_pg")
	ctx := context.Background()
	u, err := url.Parse(superDSN)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: strings.TrimPrefix(u.Path, "/"), superDSN: superDSN}
	f.dsnFor = func(user, password string) string {
		v := *u
		v.User = url.UserPassword(user, password)
		return v.String()
	}
	f.readerDSN = f.dsnFor("steward_reader", "fake-reader-password-8")

	// Held open for the whole test, so the superuser's newest session is
	// stable between reads.
	f.super, err = pgx.Connect(ctx, superDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.super.Close(context.Background()) })
	sql, err := os.ReadFile("testdata/setup.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := pgx.Identifier{f.db}.Sanitize()
	for _, stmt := range []string{string(sql),
		"ALTER DATABASE " + db + " OWNER TO app_owner",
		"REVOKE CONNECT, TEMPORARY ON DATABASE " + db + " FROM PUBLIC",
		"GRANT CONNECT ON DATABASE " + db + " TO steward_reader, steward_actuator, etl, reporting, alice",
	} {
		if _, err := f.super.Exec(ctx, stmt); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	// Roles outlive the database; drop them so the next test can set up again.
	t.Cleanup(func() { dropRoles(t, superDSN, f.db) })

	etl, err := pgx.Connect(ctx, f.dsnFor("etl", "fake-etl-password-1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { etl.Close(context.Background()) })
	if err := etl.QueryRow(ctx, `SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()`).Scan(&f.etlStart); err != nil {
		t.Fatal(err)
	}
	return f
}

func dropRoles(t *testing.T, superDSN, db string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, superDSN)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer conn.Close(ctx)
	// terminate the test's sessions so the roles can go
	_, _ = conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename <> current_user AND usename IS NOT NULL`)
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" OWNER TO "+pgtest.Superuser); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	roles := []string{"etl", "reporting", "dba_break_glass", "repl", "tenant_api", "alice", `we"ird/role`,
		"steward_reader", "steward_actuator", "app_rw", "app_ro", "app_owner"}
	for _, r := range roles {
		id := pgx.Identifier{r}.Sanitize()
		if _, err := conn.Exec(ctx, "DROP OWNED BY "+id+" CASCADE"); err != nil {
			t.Errorf("cleanup: drop owned by %s: %v", r, err)
		}
	}
	for _, r := range roles {
		if _, err := conn.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{r}.Sanitize()); err != nil {
			t.Errorf("cleanup: drop role %s: %v", r, err)
		}
	}
}

func newReader(t *testing.T, opts connectors.Options) connectors.Reader {
	t.Helper()
	return connectortest.New(t, "postgres", opts, connectors.Env{})
}

func (f *fixture) opts(extra connectors.Options) connectors.Options {
	o := connectors.Options{"dsn": f.readerDSN, "name": "test", "person-roles": "alice, dev_*"}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

func TestPostgres(t *testing.T) {
	f := setup(t)
	sgs := connectortest.Suite(t, func() connectors.Reader { return newReader(t, f.opts(nil)) },
		append(secrets, f.readerDSN))
	table := tableID(src, f.db, "app", "orders")

	nodes := []struct {
		name string
		id   string
		kind graph.Kind
		// attrs that must hold, and times
		attrs            map[string]string
		expires, lastUse time.Time
	}{
		{name: "login role with expiry, seen connected", id: rid("etl"), kind: graph.KindServiceAccount,
			attrs:   map[string]string{"can_login": "true", "superuser": "false", "inherit": "true"},
			expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC), lastUse: f.etlStart.UTC()},
		{name: "superuser that can log in", id: rid("dba_break_glass"), kind: graph.KindServiceAccount,
			attrs: map[string]string{"can_login": "true", "superuser": "true"}},
		{name: "replication role, valid until infinity", id: rid("repl"), kind: graph.KindServiceAccount,
			attrs: map[string]string{"replication": "true", "superuser": "false"}},
		{name: "NOINHERIT createrole bypassrls role with a connection limit", id: rid("tenant_api"), kind: graph.KindServiceAccount,
			attrs: map[string]string{"inherit": "false", "create_role": "true", "bypass_rls": "true", "connection_limit": "5"}},
		{name: "person-roles makes a user", id: rid("alice"), kind: graph.KindUser,
			attrs: map[string]string{"can_login": "true"}},
		{name: "group role", id: rid("app_ro"), kind: graph.KindRole,
			attrs: map[string]string{"can_login": "false"}},
		{name: "predefined role", id: rid("pg_read_all_stats"), kind: graph.KindRole,
			attrs: map[string]string{"predefined": "true", "can_login": "false"}},
		{name: "name with quote and slash", id: src + `:role/we"ird%2Frole`, kind: graph.KindServiceAccount},
		{name: "table", id: table, kind: graph.KindResource,
			attrs: map[string]string{"owner": "app_owner", "database": f.db, "schema": "app"}},
		{name: "view", id: tableID(src, f.db, "app", "order_totals"), kind: graph.KindResource,
			attrs: map[string]string{"owner": "app_owner"}},
		{name: "schema", id: schemaID(src, f.db, "app"), kind: graph.KindResource,
			attrs: map[string]string{"owner": "app_owner", "database": f.db}},
		{name: "database", id: dbID(src, f.db), kind: graph.KindResource,
			attrs: map[string]string{"owner": "app_owner"}},
		{name: "server account", id: src, kind: graph.KindAccount},
	}
	for _, tt := range nodes {
		t.Run("node "+tt.name, func(t *testing.T) {
			n := connectortest.Find(t, sgs, tt.id)
			if n.Kind != tt.kind {
				t.Errorf("kind %s, want %s", n.Kind, tt.kind)
			}
			connectortest.HasAttrs(t, n.Attrs, tt.attrs)
			if !n.ExpiresAt.Equal(tt.expires) {
				t.Errorf("expires_at %v, want %v", n.ExpiresAt, tt.expires)
			}
			if !n.LastUsedAt.Equal(tt.lastUse) {
				t.Errorf("last_used_at %v, want %v", n.LastUsedAt, tt.lastUse)
			}
		})
	}
	t.Run("subtypes", func(t *testing.T) {
		for id, want := range map[string]string{table: SubtypeTable, tableID(src, f.db, "app", "order_totals"): SubtypeView,
			schemaID(src, f.db, "app"): SubtypeSchema, dbID(src, f.db): SubtypeDatabase} {
			if got := connectortest.Find(t, sgs, id).Subtype; got != want {
				t.Errorf("%s subtype %q, want %q", id, got, want)
			}
		}
	})

	t.Run("superusers that can log in", func(t *testing.T) {
		var got []string
		for _, n := range sgs[0].Nodes {
			if n.Attrs[AttrSuperuser] == "true" && n.Attrs[AttrCanLogin] == "true" {
				got = append(got, n.Name)
			}
		}
		if want := []string{"dba_break_glass", pgtest.Superuser}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for _, name := range got {
			g := connectortest.Edges(sgs, graph.EdgeGrants, rid(name), src)
			if len(g) != 1 || g[0].Privilege != graph.PrivAdmin {
				t.Errorf("%s: grants to the server %+v, want one admin grant", name, g)
			}
		}
	})

	edges := []struct {
		name     string
		kind     graph.EdgeKind
		from, to string
		action   string
		priv     graph.Privilege
		attrs    map[string]string
	}{
		{"etl member of app_rw", graph.EdgeMemberOf, rid("etl"), rid("app_rw"), "", "", nil},
		{"app_rw member of app_ro (nested)", graph.EdgeMemberOf, rid("app_rw"), rid("app_ro"), "", "", nil},
		{"NOINHERIT member can only SET ROLE", graph.EdgeCanAssume, rid("tenant_api"), rid("app_rw"), "", "", map[string]string{"via": "SET ROLE"}},
		{"reader in pg_read_all_stats", graph.EdgeMemberOf, rid("steward_reader"), rid("pg_read_all_stats"), "", "", nil},
		{"SELECT is read", graph.EdgeGrants, rid("app_ro"), table, "SELECT", graph.PrivRead, nil},
		{"INSERT is write", graph.EdgeGrants, rid("app_rw"), table, "INSERT", graph.PrivWrite, nil},
		{"DELETE is write", graph.EdgeGrants, rid("app_rw"), table, "DELETE", graph.PrivWrite, nil},
		{"grant option", graph.EdgeGrants, rid("reporting"), table, "SELECT", graph.PrivRead, map[string]string{"grantable": "true"}},
		{"owner", graph.EdgeGrants, rid("app_owner"), table, "OWNER", graph.PrivWrite, nil},
		{"owner's privileges from the ACL", graph.EdgeGrants, rid("app_owner"), table, "TRUNCATE", graph.PrivWrite, nil},
		{"schema USAGE", graph.EdgeGrants, rid("app_ro"), schemaID(src, f.db, "app"), "USAGE", graph.PrivRead, nil},
		{"database CONNECT", graph.EdgeGrants, rid("etl"), dbID(src, f.db), "CONNECT", graph.PrivRead, nil},
		{"PUBLIC USAGE on schema public", graph.EdgeGrants, rid(PublicRole), schemaID(src, f.db, "public"), "USAGE", graph.PrivRead, nil},
		{"every role is in PUBLIC", graph.EdgeMemberOf, rid("etl"), rid(PublicRole), "", "", nil},
	}
	for _, tt := range edges {
		t.Run("edge "+tt.name, func(t *testing.T) {
			match := connectortest.ActionEdges(sgs, tt.kind, tt.from, tt.to, tt.action)
			if len(match) != 1 {
				t.Fatalf("%d %s edges %s -> %s action %q, want 1", len(match), tt.kind, tt.from, tt.to, tt.action)
			}
			if match[0].Privilege != tt.priv {
				t.Errorf("privilege %q, want %q", match[0].Privilege, tt.priv)
			}
			if !reflect.DeepEqual(match[0].Attrs, tt.attrs) {
				t.Errorf("attrs %v, want %v", match[0].Attrs, tt.attrs)
			}
		})
	}
	t.Run("no grants that were not made", func(t *testing.T) {
		for _, e := range connectortest.Edges(sgs, graph.EdgeGrants, rid("reporting"), table) {
			if e.Action != "SELECT" {
				t.Errorf("reporting has %s on orders", e.Action)
			}
		}
		if n := len(connectortest.Edges(sgs, graph.EdgeGrants, rid(PublicRole), dbID(src, f.db))); n != 0 {
			t.Errorf("PUBLIC has %d grants on the test database after REVOKE", n)
		}
	})

	t.Run("transitive membership reaches table privileges", func(t *testing.T) {
		got := reachableActions(sgs[0], rid("etl"), table)
		for _, want := range []string{"SELECT", "INSERT", "UPDATE", "DELETE"} {
			if !got[want] {
				t.Errorf("etl does not reach %s on orders (got %v)", want, got)
			}
		}
		if got["TRUNCATE"] {
			t.Error("etl reaches TRUNCATE, which nobody granted it")
		}
	})

	t.Run("without pg_read_all_stats other roles' sessions are not visible", func(t *testing.T) {
		sgs := connectortest.Read(t, newReader(t, f.opts(connectors.Options{"dsn": f.dsnFor("reporting", "fake-reporting-password-2")})))
		if n := connectortest.Find(t, sgs, rid("etl")); !n.LastUsedAt.IsZero() {
			t.Errorf("etl last_used_at %v visible without pg_read_all_stats", n.LastUsedAt)
		}
	})

	t.Run("default name is host:port/database", func(t *testing.T) {
		o := f.opts(nil)
		delete(o, "name")
		r := newReader(t, o).(*Reader)
		u, _ := url.Parse(f.readerDSN)
		if want := "postgres:" + u.Host + "/" + f.db; r.Source() != want {
			t.Fatalf("source %q, want %q", r.Source(), want)
		}
	})

	testActuator(t, f)
}

// reachableActions returns the grants actions on res that role reaches
// through member_of, the way the graph derives privilege.
func reachableActions(sg *graph.Subgraph, role, res string) map[string]bool {
	up := map[string][]string{}
	for _, e := range sg.Edges {
		if e.Kind == graph.EdgeMemberOf {
			up[e.From] = append(up[e.From], e.To)
		}
	}
	seen := map[string]bool{}
	stack := []string{role}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen[cur] {
			seen[cur] = true
			stack = append(stack, up[cur]...)
		}
	}
	out := map[string]bool{}
	for _, e := range sg.Edges {
		if e.Kind == graph.EdgeGrants && e.To == res && seen[e.From] {
			out[e.Action] = true
		}
	}
	return out
}

func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	dsnFile := filepath.Join(dir, "dsn")
	if err := os.WriteFile(dsnFile, []byte("postgres://r:fake-secret-pw@db.example.com/app\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts connectors.Options
		want string
	}{
		{"no dsn", connectors.Options{}, "give dsn or dsn-file"},
		{"both", connectors.Options{"dsn": "postgres://x@h/db", "dsn-file": dsnFile}, "not both"},
		{"unparsable dsn hides the password", connectors.Options{"dsn": "postgres://r:fake-secret-pw@db.example.com:notaport/app"}, "cannot parse"},
		{"missing dsn file", connectors.Options{"dsn-file": filepath.Join(dir, "nope")}, "dsn-file"},
		{"empty dsn file", connectors.Options{"dsn-file": empty}, "is empty"},
		{"bad person pattern", connectors.Options{"dsn-file": dsnFile, "person-roles": "a[b"}, "person-roles"},
		{"actuator as the reader's role", connectors.Options{"dsn-file": dsnFile, "actuator-dsn": "postgres://r:other@db.example.com/app"}, "the reader's role"},
		{"unparsable actuator dsn", connectors.Options{"dsn-file": dsnFile, "actuator-dsn": "postgres://w:fake-secret-pw@h:x/app"}, "actuator-dsn: cannot parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := connectors.New("postgres", tt.opts, connectors.Env{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "fake-secret-pw") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
	t.Run("read-only configuration cannot act", func(t *testing.T) {
		r := newReader(t, connectors.Options{"dsn-file": dsnFile})
		if _, ok := r.(connectors.Actuator); ok {
			t.Fatal("implements connectors.Actuator without an actuator DSN")
		}
		if got := r.(*Reader).Source(); got != "postgres:db.example.com/app" {
			t.Fatalf("source %q", got)
		}
	})
}

func TestBadServer(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.CreateDB(t, "steward_bad")
	u, _ := url.Parse(dsn)
	wrongPW := *u
	wrongPW.User = url.UserPassword(pgtest.Superuser, "fake-wrong-password")
	closed := *u
	closed.Host = "127.0.0.1:1"
	tests := []struct {
		name string
		dsn  string
		want []string
	}{
		{"wrong password", wrongPW.String(), []string{"postgres:bad: connect", "password authentication failed"}},
		{"nothing listening", closed.String(), []string{"postgres:bad: connect", "127.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReader(t, connectors.Options{"dsn": tt.dsn, "name": "bad"})
			connectortest.Bad(t, r, tt.want...)
			_, err := r.Read(context.Background())
			if strings.Contains(err.Error(), "fake-wrong-password") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}
