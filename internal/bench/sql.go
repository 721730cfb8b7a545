package bench

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver, whose COPY FROM STDIN the loads use
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/oracle"
)

// The SQL baseline answers "admins idle 30 days" the way a team would
// with PostgreSQL alone: the graph as two plain tables (nodes, edges)
// loaded with COPY and indexed, and one recursive query that walks
// membership and role assumption for privilege. Grant classification is
// code, not SQL, so each grants edge carries its rank (0..3) computed in
// Go when it is copied; everything else happens in the query.

const sqlSchema = `
DROP TABLE IF EXISTS bench_nodes, bench_edges;
CREATE TABLE bench_nodes (id text, kind text, scanner bool, created_at timestamptz, last_used_at timestamptz, eff_rank int);
CREATE TABLE bench_edges (src text, dst text, kind text, rank int, last_seen timestamptz);`

const sqlIndexes = `
CREATE UNIQUE INDEX ON bench_nodes (id);
CREATE INDEX ON bench_edges (src, kind);
CREATE INDEX ON bench_edges (dst, kind);
ANALYZE bench_nodes; ANALYZE bench_edges;`

// sqlAdminsIdle: NHI identities whose privilege (own grants, attached
// policies' grants, and those of every group or role reachable by
// member_of/can_assume, capped by a connector's effective privilege) is
// admin, unused for $2 days and created at least that long before $1.
const sqlAdminsIdle = `
WITH RECURSIVE
direct AS (SELECT src AS id, max(rank) AS r FROM bench_edges WHERE kind = 'grants' GROUP BY src),
own AS (
  SELECT n.id, greatest(coalesce(d.r, 0), coalesce(max(pd.r), 0)) AS r
  FROM bench_nodes n
  LEFT JOIN direct d ON d.id = n.id
  LEFT JOIN bench_edges a ON a.dst = n.id AND a.kind = 'attached_to'
  LEFT JOIN direct pd ON pd.id = a.src AND EXISTS (SELECT 1 FROM bench_nodes p WHERE p.id = a.src)
  GROUP BY n.id, d.r),
start AS (
  SELECT id FROM bench_nodes
  WHERE kind IN ('service_account', 'oauth_app', 'bot', 'ai_agent', 'workload') AND NOT scanner),
reach (s, node) AS (
  SELECT id, id FROM start
  UNION
  SELECT r.s, e.dst FROM reach r
  JOIN bench_edges e ON e.src = r.node AND e.kind IN ('member_of', 'can_assume')
  JOIN bench_nodes t ON t.id = e.dst),
priv AS (SELECT r.s AS id, max(o.r) AS r FROM reach r JOIN own o ON o.id = r.node GROUP BY r.s),
used AS (SELECT src AS id, max(last_seen) AS t FROM bench_edges WHERE kind = 'used' GROUP BY src),
credlast AS (
  SELECT h.src AS id, max(greatest(c.last_used_at, u.t)) AS t
  FROM bench_edges h JOIN bench_nodes c ON c.id = h.dst LEFT JOIN used u ON u.id = c.id
  WHERE h.kind = 'has_credential' GROUP BY h.src)
SELECT n.id FROM start s
JOIN bench_nodes n ON n.id = s.id
JOIN priv p ON p.id = n.id
LEFT JOIN used u ON u.id = n.id
LEFT JOIN credlast cl ON cl.id = n.id
WHERE least(p.r, coalesce(n.eff_rank, 3)) = 3
  AND coalesce(greatest(n.last_used_at, u.t, cl.t) <= $1::timestamptz - make_interval(days => $2), true)
  AND coalesce(n.created_at <= $1::timestamptz - make_interval(days => $2), true)
ORDER BY n.id`

// SQLBaseline is the node/edge tables of one graph in PostgreSQL.
type SQLBaseline struct {
	db *sql.DB
	// Load is the wall time of COPY plus index builds and ANALYZE.
	Load, Copy time.Duration
}

func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// LoadSQL copies the flattened graph into db and builds the indexes.
func LoadSQL(ctx context.Context, db *sql.DB, g *oracle.Graph) (*SQLBaseline, error) {
	if _, err := db.ExecContext(ctx, sqlSchema); err != nil {
		return nil, fmt.Errorf("bench: sql schema: %w", err)
	}
	t0 := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `COPY "bench_nodes" ("id", "kind", "scanner", "created_at", "last_used_at", "eff_rank") FROM STDIN`)
	if err != nil {
		return nil, fmt.Errorf("bench: copy nodes: %w", err)
	}
	ids := make([]string, 0, len(g.Nodes))
	for id := range g.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		n := g.Nodes[id]
		var eff any
		if p, ok := n.Attrs[graph.AttrEffectivePrivilege]; ok {
			eff = max(graph.Privilege(p).Rank(), 0)
		}
		st := graph.SourceType(n.Source)
		if _, err := stmt.ExecContext(ctx, n.ID, string(n.Kind), st == "gitleaks" || st == "trufflehog", tsOrNil(n.CreatedAt), tsOrNil(n.LastUsedAt), eff); err != nil {
			return nil, fmt.Errorf("bench: copy nodes: %w", err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return nil, fmt.Errorf("bench: copy nodes: %w", err)
	}
	stmt.Close()
	stmt, err = tx.PrepareContext(ctx, `COPY "bench_edges" ("src", "dst", "kind", "rank", "last_seen") FROM STDIN`)
	if err != nil {
		return nil, fmt.Errorf("bench: copy edges: %w", err)
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		rank := 0
		if e.Kind == graph.EdgeGrants {
			rank = max(graph.GrantPrivilege(e).Rank(), 0)
		}
		if _, err := stmt.ExecContext(ctx, e.From, e.To, string(e.Kind), rank, tsOrNil(e.LastSeen)); err != nil {
			return nil, fmt.Errorf("bench: copy edges: %w", err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return nil, fmt.Errorf("bench: copy edges: %w", err)
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	b := &SQLBaseline{db: db, Copy: time.Since(t0)}
	if _, err := db.ExecContext(ctx, sqlIndexes); err != nil {
		return nil, fmt.Errorf("bench: sql indexes: %w", err)
	}
	b.Load = time.Since(t0)
	return b, nil
}

// AdminsIdle runs the recursive SQL for "admins idle DAYS days".
func (b *SQLBaseline) AdminsIdle(ctx context.Context, now time.Time, days int) ([]string, error) {
	rows, err := b.db.QueryContext(ctx, sqlAdminsIdle, now.UTC(), days)
	if err != nil {
		return nil, fmt.Errorf("bench: sql admins idle: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
