package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgSchema is created on open. The partial unique index enforces "one open
// proposal per key" across every replica; doc is json, not jsonb, so the
// stored bytes (and so the digest of the document) survive unchanged.
const pgSchema = `
CREATE TABLE IF NOT EXISTS steward_proposals (
	id         text PRIMARY KEY,
	key        text NOT NULL DEFAULT '',
	policy     text NOT NULL DEFAULT '',
	state      text NOT NULL,
	doc        json NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS steward_proposals_open_key ON steward_proposals (key)
	WHERE key <> '' AND state IN ('proposed', 'escalated', 'approved', 'executing');
CREATE INDEX IF NOT EXISTS steward_proposals_state ON steward_proposals (state);
CREATE INDEX IF NOT EXISTS steward_proposals_policy ON steward_proposals (policy);
`

// schemaLock is the advisory lock key that serialises schema creation when
// several replicas start at once.
const schemaLock = 0x5374657761726401 // "Steward\x01"

// PGStore is a Store in PostgreSQL, safe for several Steward replicas:
// each Update locks the proposal's row (SELECT ... FOR UPDATE) for the
// length of its transaction.
type PGStore struct {
	pool *pgxpool.Pool
}

var _ Store = (*PGStore)(nil)

// OpenPostgres connects to dsn and creates the table if needed.
func OpenPostgres(ctx context.Context, dsn string) (*PGStore, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("approval: open postgres: %w", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, pgSchema)
		return err
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("approval: create postgres schema: %w", err)
	}
	return &PGStore{pool: pool}, nil
}

// Close closes the connection pool.
func (s *PGStore) Close() error {
	s.pool.Close()
	return nil
}

// Create implements Store.
func (s *PGStore) Create(ctx context.Context, p *Proposal, fn func(p *Proposal) error) error {
	if p.ID == "" {
		return fmt.Errorf("%w: empty id", ErrInvalidProposal)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if p.Key != "" {
			// Serialise creators of the same key so the loser fails
			// before its callback (and audit record) runs.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, p.Key); err != nil {
				return err
			}
		}
		var holder string
		err := tx.QueryRow(ctx, `SELECT id FROM steward_proposals WHERE id = $1`, p.ID).Scan(&holder)
		if err == nil {
			return fmt.Errorf("%w: %s", ErrExists, p.ID)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if p.Key != "" && p.State.Open() {
			err := tx.QueryRow(ctx, `SELECT id FROM steward_proposals WHERE key = $1
				AND state IN ('proposed', 'escalated', 'approved', 'executing')`, p.Key).Scan(&holder)
			if err == nil {
				return fmt.Errorf("%w: %s (held by %s)", ErrDuplicateKey, p.Key, holder)
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		if fn != nil {
			if err := fn(p); err != nil {
				return err
			}
		}
		doc, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("approval: encode proposal %s: %w", p.ID, err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO steward_proposals (id, key, policy, state, doc, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5::json, $6, $7)`, p.ID, p.Key, p.Policy, string(p.State), string(doc), p.CreatedAt, p.UpdatedAt)
		return err
	})
	return pgErr(err)
}

// Get implements Store.
func (s *PGStore) Get(ctx context.Context, id string) (*Proposal, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, `SELECT doc FROM steward_proposals WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("approval: get %s: %w", id, err)
	}
	return decodeDoc(id, doc)
}

// List implements Store, in id order.
func (s *PGStore) List(ctx context.Context, f Filter) ([]*Proposal, error) {
	states := make([]string, len(f.States))
	for i, st := range f.States {
		states[i] = string(st)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, doc FROM steward_proposals
		WHERE ($1 = '' OR policy = $1) AND (cardinality($2::text[]) = 0 OR state = ANY($2::text[]))
		ORDER BY id`, f.Policy, states)
	if err != nil {
		return nil, fmt.Errorf("approval: list: %w", err)
	}
	defer rows.Close()
	var out []*Proposal
	for rows.Next() {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("approval: list: %w", err)
		}
		p, err := decodeDoc(id, doc)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("approval: list: %w", err)
	}
	return out, nil
}

// Update implements Store.
func (s *PGStore) Update(ctx context.Context, id string, fn func(p *Proposal) error) (*Proposal, error) {
	var out *Proposal
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var doc []byte
		err := tx.QueryRow(ctx, `SELECT doc FROM steward_proposals WHERE id = $1 FOR UPDATE`, id).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		old, err := decodeDoc(id, doc)
		if err != nil {
			return err
		}
		p := old.clone()
		if err := fn(p); err != nil {
			return err
		}
		if p.ID != id || p.Key != old.Key {
			return fmt.Errorf("approval: update %s: id and key are immutable", id)
		}
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("approval: encode proposal %s: %w", id, err)
		}
		_, err = tx.Exec(ctx, `UPDATE steward_proposals SET state = $2, doc = $3::json, updated_at = $4 WHERE id = $1`,
			id, string(p.State), string(b), p.UpdatedAt)
		if err != nil {
			return err
		}
		out = p
		return nil
	})
	if err != nil {
		return nil, pgErr(err)
	}
	return out, nil
}

func decodeDoc(id string, doc []byte) (*Proposal, error) {
	var p Proposal
	if err := json.Unmarshal(doc, &p); err != nil {
		return nil, fmt.Errorf("approval: decode proposal %s: %w", id, err)
	}
	return &p, nil
}

// pgErr maps a unique violation to the Store's sentinels.
func pgErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		if pe.ConstraintName == "steward_proposals_open_key" {
			return fmt.Errorf("%w: %s", ErrDuplicateKey, pe.Detail)
		}
		return fmt.Errorf("%w: %s", ErrExists, pe.Detail)
	}
	return err
}
