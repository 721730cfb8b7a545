package postgres

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/steward-oss/steward/graph"
)

// Attribute keys on role and resource nodes and on grants edges.
const (
	AttrSuperuser   = "superuser"
	AttrCanLogin    = "can_login"
	AttrCreateRole  = "create_role"
	AttrCreateDB    = "create_db"
	AttrReplication = "replication"
	AttrBypassRLS   = "bypass_rls"
	AttrInherit     = "inherit"
	AttrConnLimit   = "connection_limit"
	AttrPredefined  = "predefined" // a pg_* role shipped with PostgreSQL
	AttrOwner       = "owner"      // role owning a database, schema or table
	AttrGrantable   = "grantable"  // on grants: WITH GRANT OPTION
	AttrAdminOption = "admin_option"
	AttrDatabase    = "database"
	AttrSchema      = "schema"
)

// Resource subtypes.
const (
	SubtypeDatabase = "database"
	SubtypeSchema   = "schema"
	SubtypeTable    = "table"
	SubtypeView     = "view"
	SubtypeMatView  = "materialized_view"
	SubtypeForeign  = "foreign_table"
)

// ActionOwner is the grants action of an object's owner, who holds every
// privilege on it and can grant them.
const ActionOwner = "OWNER"

var relkindSubtype = map[string]string{
	"r": SubtypeTable, "p": SubtypeTable, "v": SubtypeView, "m": SubtypeMatView, "f": SubtypeForeign,
}

// privilegeLevel maps an ACL privilege to the graph's levels: reading
// data or merely reaching an object is read; anything that changes data
// or creates objects (which run code as their owner) is write.
func privilegeLevel(p string) graph.Privilege {
	switch p {
	case "SELECT", "USAGE", "CONNECT", "REFERENCES":
		return graph.PrivRead
	}
	return graph.PrivWrite
}

type role struct {
	oid                                                       uint32
	name                                                      string
	super, inherit, createRole, createDB, login, repl, bypass bool
	connLimit                                                 int32
	validUntil                                                pgtype.Timestamptz
}

type membership struct {
	roleID, member          uint32
	admin, inherit, setRole bool
}

type aclRow struct {
	db, schema, name, relkind string
	owner                     uint32
	grantee                   *uint32 // nil: the object has an empty ACL
	privilege                 string
	grantable                 bool
}

// Read connects, reads the catalogs in one read-only repeatable-read
// transaction, and returns one subgraph.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	conn, err := pgx.ConnectConfig(ctx, r.conn.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: connect: %w", r.source, err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: begin: %w", r.source, err)
	}
	defer tx.Rollback(context.Background())

	var (
		curDB   string
		version int
	)
	if err := tx.QueryRow(ctx, `SELECT current_database(), current_setting('server_version_num')::int`).Scan(&curDB, &version); err != nil {
		return nil, fmt.Errorf("postgres: %s: server version: %w", r.source, err)
	}
	roles, err := queryRoles(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: read pg_roles: %w", r.source, err)
	}
	members, err := queryMembers(ctx, tx, version, roles)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: read pg_auth_members: %w", r.source, err)
	}
	var acls []aclRow
	for _, q := range []struct {
		what, sql string
		args      []any
	}{
		{"pg_database", dbACLQuery, nil}, {"pg_namespace", schemaACLQuery, []any{curDB}}, {"pg_class", tableACLQuery, []any{curDB}},
	} {
		rows, err := queryACL(ctx, tx, q.sql, q.args...)
		if err != nil {
			return nil, fmt.Errorf("postgres: %s: read %s privileges: %w", r.source, q.what, err)
		}
		acls = append(acls, rows...)
	}
	seen, err := querySessions(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: read pg_stat_activity: %w", r.source, err)
	}
	sg, err := r.build(roles, members, acls, seen)
	if err != nil {
		return nil, err
	}
	return []*graph.Subgraph{sg}, nil
}

func queryRoles(ctx context.Context, tx pgx.Tx) (map[uint32]*role, error) {
	// pg_roles, not pg_authid: readable by any role, and its rolpassword
	// column (never selected here) is masked anyway.
	rows, err := tx.Query(ctx, `SELECT oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb,
		rolcanlogin, rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil FROM pg_roles`)
	if err != nil {
		return nil, err
	}
	out := map[uint32]*role{}
	for rows.Next() {
		var x role
		if err := rows.Scan(&x.oid, &x.name, &x.super, &x.inherit, &x.createRole, &x.createDB,
			&x.login, &x.repl, &x.bypass, &x.connLimit, &x.validUntil); err != nil {
			return nil, err
		}
		out[x.oid] = &x
	}
	return out, rows.Err()
}

// queryMembers reads role grants. From PostgreSQL 16 each grant says
// whether the member inherits the role's privileges and may SET ROLE to
// it; before, inheritance is the member's rolinherit and SET is always
// allowed.
func queryMembers(ctx context.Context, tx pgx.Tx, version int, roles map[uint32]*role) ([]membership, error) {
	q := `SELECT roleid, member, admin_option, false, true FROM pg_auth_members`
	if version >= 160000 {
		q = `SELECT roleid, member, admin_option, inherit_option, set_option FROM pg_auth_members`
	}
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []membership
	for rows.Next() {
		var m membership
		if err := rows.Scan(&m.roleID, &m.member, &m.admin, &m.inherit, &m.setRole); err != nil {
			return nil, err
		}
		if version < 160000 {
			if mr := roles[m.member]; mr != nil {
				m.inherit = mr.inherit
			}
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// The ACL queries list every object with its effective ACL: a NULL ACL
// means the built-in default (acldefault), which is what PostgreSQL
// enforces. An object whose ACL is empty still yields one row, with a
// NULL grantee, so it becomes a node.
const (
	dbACLQuery = `SELECT d.datname, '', '', '', d.datdba, a.grantee, a.privilege_type, a.is_grantable
		FROM pg_database d
		LEFT JOIN LATERAL aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a ON true
		WHERE NOT d.datistemplate`
	schemaFilter = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
		AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'`
	schemaACLQuery = `SELECT $1::text, n.nspname, '', '', n.nspowner, a.grantee, a.privilege_type, a.is_grantable
		FROM pg_namespace n
		LEFT JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a ON true
		WHERE ` + schemaFilter
	tableACLQuery = `SELECT $1::text, n.nspname, c.relname, c.relkind::text, c.relowner, a.grantee, a.privilege_type, a.is_grantable
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a ON true
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ` + schemaFilter
)

func queryACL(ctx context.Context, tx pgx.Tx, q string, args ...any) ([]aclRow, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []aclRow
	for rows.Next() {
		var (
			x         aclRow
			grantee   pgtype.Uint32
			priv      pgtype.Text
			grantable pgtype.Bool
		)
		if err := rows.Scan(&x.db, &x.schema, &x.name, &x.relkind, &x.owner, &grantee, &priv, &grantable); err != nil {
			return nil, err
		}
		if grantee.Valid {
			g := grantee.Uint32
			x.grantee, x.privilege, x.grantable = &g, priv.String, grantable.Bool
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// querySessions returns, per role, the start of its most recently started
// current session: the role was seen connected at least then. Without pg_read_all_stats other roles' backend_start reads
// as NULL and nothing is reported for them.
func querySessions(ctx context.Context, tx pgx.Tx) (map[uint32]time.Time, error) {
	// The reader's own role is left out: its sessions are Steward's, and a
	// previous read's session may still be exiting, which would make two
	// reads of an unchanged server differ.
	rows, err := tx.Query(ctx, `SELECT usesysid, max(backend_start) FROM pg_stat_activity
		WHERE usesysid IS NOT NULL AND backend_start IS NOT NULL
		AND usesysid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
		GROUP BY usesysid`)
	if err != nil {
		return nil, err
	}
	out := map[uint32]time.Time{}
	for rows.Next() {
		var (
			oid uint32
			t   time.Time
		)
		if err := rows.Scan(&oid, &t); err != nil {
			return nil, err
		}
		out[oid] = t.UTC()
	}
	return out, rows.Err()
}

func (r *Reader) isPerson(name string) bool {
	for _, p := range r.cfg.PersonRoles {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

func (r *Reader) build(roles map[uint32]*role, members []membership, acls []aclRow, seen map[uint32]time.Time) (*graph.Subgraph, error) {
	src := r.source
	sg := &graph.Subgraph{Source: src}
	edges := map[string]graph.Edge{}
	add := func(e graph.Edge) {
		k := e.Key()
		if old, ok := edges[k]; ok && old.Attrs[AttrGrantable] == "true" {
			return // the same privilege from two grantors: keep the stronger
		}
		edges[k] = e
	}
	sg.AddNode(graph.Node{ID: src, Kind: graph.KindAccount, Name: r.cfg.Name})
	boolStr := strconv.FormatBool

	oids := make([]uint32, 0, len(roles))
	for oid := range roles {
		oids = append(oids, oid)
	}
	sort.Slice(oids, func(i, j int) bool { return roles[oids[i]].name < roles[oids[j]].name })
	for _, oid := range oids {
		x := roles[oid]
		n := graph.Node{ID: roleID(src, x.name), Name: x.name, Kind: graph.KindRole, Attrs: map[string]string{
			AttrSuperuser: boolStr(x.super), AttrCanLogin: boolStr(x.login), AttrCreateRole: boolStr(x.createRole),
			AttrCreateDB: boolStr(x.createDB), AttrReplication: boolStr(x.repl), AttrBypassRLS: boolStr(x.bypass),
			AttrInherit: boolStr(x.inherit),
		}}
		if x.login {
			n.Kind = graph.KindServiceAccount
			if r.isPerson(x.name) {
				n.Kind = graph.KindUser
			}
		}
		if x.connLimit >= 0 {
			n.Attrs[AttrConnLimit] = strconv.Itoa(int(x.connLimit))
		}
		if strings.HasPrefix(x.name, "pg_") {
			n.Attrs[AttrPredefined] = "true"
		}
		if x.validUntil.Valid && x.validUntil.InfinityModifier == pgtype.Finite {
			n.ExpiresAt = x.validUntil.Time.UTC()
		}
		if t, ok := seen[oid]; ok {
			n.LastUsedAt = t
		}
		sg.AddNode(n)
		add(graph.Edge{From: n.ID, To: src, Kind: graph.EdgeInAccount})
		if x.super {
			add(graph.Edge{From: n.ID, To: src, Kind: graph.EdgeGrants, Action: "*", Resource: "*",
				Effect: graph.EffectAllow, Privilege: graph.PrivAdmin, Attrs: map[string]string{graph.AttrVia: "rolsuper"}})
		}
	}

	for _, m := range members {
		g, mem := roles[m.roleID], roles[m.member]
		if g == nil || mem == nil {
			return nil, fmt.Errorf("postgres: %s: pg_auth_members row (role %d, member %d) names a role pg_roles does not list", src, m.roleID, m.member)
		}
		e := graph.Edge{From: roleID(src, mem.name), To: roleID(src, g.name)}
		switch {
		case m.inherit:
			e.Kind = graph.EdgeMemberOf
		case m.setRole:
			// NOINHERIT: the member holds the role's privileges only after
			// SET ROLE, which it may do at will
			e.Kind, e.Attrs = graph.EdgeCanAssume, map[string]string{graph.AttrVia: "SET ROLE"}
		default:
			// PostgreSQL 16 grant with neither INHERIT nor SET: no
			// privileges flow, so there is no edge to draw
			r.cfg.Logger.Debug("postgres: membership without INHERIT or SET skipped",
				"source", src, "role", g.name, "member", mem.name)
			continue
		}
		if m.admin {
			if e.Attrs == nil {
				e.Attrs = map[string]string{}
			}
			e.Attrs[AttrAdminOption] = "true"
		}
		add(e)
	}

	public := false
	resources := map[string]bool{}
	for _, a := range acls {
		var id, resPath string
		n := graph.Node{Kind: graph.KindResource, Attrs: map[string]string{}}
		switch {
		case a.schema == "":
			id, resPath = dbID(src, a.db), joinPath(a.db)
			n.Name, n.Subtype = a.db, SubtypeDatabase
		case a.name == "":
			id, resPath = schemaID(src, a.db, a.schema), joinPath(a.db, a.schema)
			n.Name, n.Subtype = a.schema, SubtypeSchema
			n.Attrs[AttrDatabase] = a.db
		default:
			id, resPath = tableID(src, a.db, a.schema, a.name), joinPath(a.db, a.schema, a.name)
			n.Name, n.Subtype = a.schema+"."+a.name, relkindSubtype[a.relkind]
			n.Attrs[AttrDatabase], n.Attrs[AttrSchema] = a.db, a.schema
		}
		owner := roles[a.owner]
		if owner == nil {
			return nil, fmt.Errorf("postgres: %s: %s is owned by role %d, which pg_roles does not list", src, resPath, a.owner)
		}
		if !resources[id] {
			resources[id] = true
			n.ID = id
			n.Attrs[AttrOwner] = owner.name
			sg.AddNode(n)
			add(graph.Edge{From: id, To: src, Kind: graph.EdgeInAccount})
			add(graph.Edge{From: roleID(src, owner.name), To: id, Kind: graph.EdgeGrants, Action: ActionOwner,
				Resource: resPath, Effect: graph.EffectAllow, Privilege: graph.PrivWrite})
		}
		if a.grantee == nil {
			continue
		}
		from := roleID(src, PublicRole)
		if *a.grantee == 0 {
			public = true
		} else if g := roles[*a.grantee]; g != nil {
			from = roleID(src, g.name)
		} else {
			return nil, fmt.Errorf("postgres: %s: %s grants %s to role %d, which pg_roles does not list", src, resPath, a.privilege, *a.grantee)
		}
		e := graph.Edge{From: from, To: id, Kind: graph.EdgeGrants, Action: a.privilege, Resource: resPath,
			Effect: graph.EffectAllow, Privilege: privilegeLevel(a.privilege)}
		if a.grantable {
			e.Attrs = map[string]string{AttrGrantable: "true"}
		}
		add(e)
	}
	if public {
		// every role is implicitly a member of PUBLIC
		sg.AddNode(graph.Node{ID: roleID(src, PublicRole), Kind: graph.KindRole, Name: "PUBLIC",
			Attrs: map[string]string{AttrPredefined: "true"}})
		add(graph.Edge{From: roleID(src, PublicRole), To: src, Kind: graph.EdgeInAccount})
		for _, oid := range oids {
			add(graph.Edge{From: roleID(src, roles[oid].name), To: roleID(src, PublicRole), Kind: graph.EdgeMemberOf})
		}
	}

	for _, e := range edges {
		sg.AddEdge(e)
	}
	sg.Normalize()
	return sg, nil
}
