package demo

import (
	"fmt"
	"strings"

	"github.com/steward-oss/steward/graph"
)

type pgDB struct{ name, env string }

func pgDatabases(n int) []pgDB {
	out := []pgDB{{"orders-db", "prod"}, {"billing-db", "prod"}, {"analytics-db", "prod"}, {"staging-db", "staging"}}
	for k := 4; k < n; k++ {
		out = append(out, pgDB{fmt.Sprintf("app-db-%d", k-3), envs[k%3]})
	}
	return out
}

var pgActions = actions{
	read:  []string{"read", "select:read"},
	write: []string{"insert", "update", "delete", "truncate"},
}

// postgres builds one database server: login roles used by services,
// group roles granting table access, and superusers (admin).
func (w *world) postgres(db pgDB, idx, nDB int) *graph.Subgraph {
	src := "postgres:" + db.name
	e := w.newEmitter(src, "pgx/v5.12", "psycopg/3.1.18", "PostgreSQL JDBC Driver 42.7")
	pfx := src + ":"
	created := Reference.Add(-1000 * day)
	e.accountNode(graph.Node{ID: src, Name: db.name, Subtype: "database",
		Attrs: map[string]string{graph.AttrEnvironment: db.env}})
	var tables []string
	for _, t := range []string{"public.orders", "public.customers", "public.payments", "audit.events"} {
		tables = append(tables, pfx+"table/"+t)
		e.node(graph.Node{ID: pfx + "table/" + t, Kind: graph.KindResource, Subtype: "table", Name: t, CreatedAt: created})
	}
	readonly := pfx + "role/readonly"
	e.node(graph.Node{ID: readonly, Kind: graph.KindRole, Name: "readonly", CreatedAt: created})
	readwrite := pfx + "role/readwrite"
	e.node(graph.Node{ID: readwrite, Kind: graph.KindRole, Name: "readwrite", CreatedAt: created})
	for i, t := range tables {
		name := strings.TrimPrefix(t, pfx+"table/")
		e.grant(readonly, tables[i], "SELECT", name, graph.PrivRead, "GRANT SELECT")
		e.grant(readwrite, tables[i], "SELECT", name, graph.PrivRead, "GRANT SELECT")
		e.grant(readwrite, tables[i], "INSERT", name, graph.PrivWrite, "GRANT INSERT, UPDATE, DELETE")
	}
	n := split(w.counts[famPG], nDB, idx)
	e.reserve(n)
	for j := range n {
		name, a := appAt(j)
		role := "svc_" + strings.ReplaceAll(name, "-", "_")
		p := e.draw(a.team, true)
		id := pfx + "role/" + role
		n := graph.Node{ID: id, Kind: graph.KindServiceAccount, Name: role, CreatedAt: p.created, LastUsedAt: p.lastUse,
			Attrs: map[string]string{"can_login": "true", "superuser": "false"}}
		if p.admin {
			n.Attrs["superuser"] = "true"
		}
		e.own(&n, p, "", "")
		e.node(n)
		switch {
		case p.admin:
			e.grant(id, src, "*", "*", graph.PrivAdmin, "rolsuper")
		case e.chance(0.5):
			e.edge(id, readonly, graph.EdgeMemberOf)
		default:
			e.edge(id, readwrite, graph.EdgeMemberOf)
		}
		e.used(id, p, pgActions, tables...)
	}
	return e.sg
}
