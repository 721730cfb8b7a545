package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/cayleygraph/cayley/graph"
	csql "github.com/cayleygraph/cayley/graph/sql"
	_ "github.com/cayleygraph/cayley/graph/sql/postgres" // registers the "postgres" quad store
	"github.com/cayleygraph/quad"
	"github.com/lib/pq"
)

// pgBackend writes through cayley's SQL quad store and reads with its own
// single SELECT statements over cayley's tables, because cayley's SQL
// iterators resolve every value with a query of its own and, spread over
// many statements, could see another replica's write half way.
type pgBackend struct {
	qs graph.QuadStore
	db *sql.DB
}

var _ backend = (*pgBackend)(nil)

func openPostgres(ctx context.Context, dsn string) (*pgBackend, error) {
	where := redact(dsn)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", where, err)
	}
	b, err := openPostgresDB(ctx, dsn, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", where, err)
	}
	return b, nil
}

func openPostgresDB(ctx context.Context, dsn string, db *sql.DB) (*pgBackend, error) {
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('quads') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		// Two replicas starting together on an empty database race to
		// create the tables; the loser gets "exists" or a unique
		// violation in the catalog and then uses the winner's tables,
		// which the probe below confirms.
		if err := graph.InitQuadStore("postgres", dsn, nil); err != nil && !errors.Is(err, graph.ErrDatabaseExists) {
			if perr := db.QueryRowContext(ctx, `SELECT to_regclass('quads') IS NOT NULL`).Scan(&exists); perr != nil || !exists {
				return nil, fmt.Errorf("create tables: %w", err)
			}
		}
	}
	// Reads select by label, which cayley does not index.
	if _, err := db.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS steward_label_index ON quads (label_hash)`); err != nil {
		return nil, fmt.Errorf("create label index: %w", err)
	}
	if _, err := db.ExecContext(ctx, pgSnapshotTable); err != nil {
		return nil, fmt.Errorf("create snapshot table: %w", err)
	}
	qs, err := graph.NewQuadStore("postgres", dsn, nil)
	if err != nil {
		return nil, err
	}
	return &pgBackend{qs: qs, db: db}, nil
}

func (b *pgBackend) apply(_ context.Context, deltas []graph.Delta) error {
	return b.qs.ApplyDeltas(deltas, graph.IgnoreOpts{})
}

// pgLockKey names the advisory lock that serializes writers across
// replicas ("Steward\x00" as an int64).
const pgLockKey int64 = 0x5374657761726400

// lock takes a session-level advisory lock on a dedicated connection, so
// replicas write one at a time instead of racing and retrying. If the
// process dies the connection closes and PostgreSQL releases the lock.
func (b *pgBackend) lock(ctx context.Context) (func(), error) {
	conn, err := b.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("take write lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, pgLockKey); err != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
		return nil, fmt.Errorf("take write lock: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, pgLockKey); err != nil {
			// Never hand a connection that may still hold the lock back to
			// the pool: drop it, which releases the lock server-side.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}

// conflict recognises a lost race with another writer: a quad it meant to
// delete was already gone (the generation quad, at the latest), one it
// meant to add was already there, or PostgreSQL aborted the transaction
// (deadlock, serialization failure).
func (b *pgBackend) readMeta(ctx context.Context) ([]quad.Quad, error) {
	return b.read(ctx, []quad.Value{metaLabel})
}

func (b *pgBackend) conflict(err error) bool {
	if graph.IsQuadExist(err) || graph.IsQuadNotExist(err) {
		return true
	}
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

func (b *pgBackend) close() error {
	return errors.Join(b.db.Close(), b.qs.Close())
}

const pgSelect = `SELECT
	s.value_string, s.iri, s.bnode, s.value_int,
	p.value_string, p.iri, p.bnode, p.value_int,
	o.value_string, o.iri, o.bnode, o.value_int,
	l.value_string, l.iri, l.bnode, l.value_int
FROM quads q
JOIN nodes s ON s.hash = q.subject_hash
JOIN nodes p ON p.hash = q.predicate_hash
JOIN nodes o ON o.hash = q.object_hash
JOIN nodes l ON l.hash = q.label_hash`

type pgValue struct {
	str     sql.NullString
	iri, bn sql.NullBool
	intVal  sql.NullInt64
}

func (v *pgValue) value() (quad.Value, error) {
	switch {
	case v.str.Valid && v.iri.Bool:
		return quad.IRI(v.str.String), nil
	case v.str.Valid && v.bn.Bool:
		return quad.BNode(v.str.String), nil
	case v.str.Valid:
		return quad.String(v.str.String), nil
	case v.intVal.Valid:
		return quad.Int(v.intVal.Int64), nil
	}
	return nil, fmt.Errorf("%w: a stored value has a type this store never writes", ErrCorrupt)
}

func (b *pgBackend) read(ctx context.Context, labels []quad.Value) ([]quad.Quad, error) {
	query, args := pgSelect, []any(nil)
	if labels != nil {
		hashes := make([][]byte, len(labels))
		for i, l := range labels {
			hashes[i] = csql.HashOf(l).SQLValue().([]byte)
		}
		query += ` WHERE q.label_hash = ANY($1)`
		args = []any{pq.Array(hashes)}
	}
	rows, err := b.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []quad.Quad
	var v [4]pgValue
	for rows.Next() {
		if err := rows.Scan(
			&v[0].str, &v[0].iri, &v[0].bn, &v[0].intVal,
			&v[1].str, &v[1].iri, &v[1].bn, &v[1].intVal,
			&v[2].str, &v[2].iri, &v[2].bn, &v[2].intVal,
			&v[3].str, &v[3].iri, &v[3].bn, &v[3].intVal,
		); err != nil {
			return nil, err
		}
		var q quad.Quad
		for i, d := range quad.Directions {
			val, err := v[i].value()
			if err != nil {
				return nil, err
			}
			q.Set(d, val)
		}
		out = append(out, q)
	}
	return out, rows.Err()
}
