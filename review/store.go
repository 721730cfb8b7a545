package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	bolt "go.etcd.io/bbolt"
)

// Store keeps launched campaigns durably. Update reads one, runs fn on a
// private copy and writes the copy back if fn returns nil, in one
// transaction that excludes any other Update of the same campaign (in
// every process sharing the store).
type Store interface {
	Create(ctx context.Context, in *Instance, fn func(in *Instance) error) error
	Get(ctx context.Context, id string) (*Instance, error)
	List(ctx context.Context) ([]*Instance, error)
	Update(ctx context.Context, id string, fn func(in *Instance) error) (*Instance, error)
	Close() error
}

// OpenStore opens the store a configuration names: a postgres:// URL
// opens a PGStore, anything else is a bbolt file path.
func OpenStore(ctx context.Context, where string) (Store, error) {
	if strings.HasPrefix(where, "postgres://") || strings.HasPrefix(where, "postgresql://") {
		return OpenPostgres(ctx, where)
	}
	return OpenBolt(where)
}

var bucketCampaigns = []byte("review_campaigns")

// BoltStore is a Store in one bbolt file, for one process.
type BoltStore struct{ db *bolt.DB }

var _ Store = (*BoltStore)(nil)

// OpenBolt opens or creates the store at path (mode 0600).
func OpenBolt(path string) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("review: open bolt store %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCampaigns)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("review: init bolt store %s: %w", path, err)
	}
	return &BoltStore{db: db}, nil
}

// Close closes the file.
func (s *BoltStore) Close() error { return s.db.Close() }

// Create implements Store.
func (s *BoltStore) Create(ctx context.Context, in *Instance, fn func(in *Instance) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCampaigns)
		if b.Get([]byte(in.ID)) != nil {
			return fmt.Errorf("%w: %s", ErrExists, in.ID)
		}
		if fn != nil {
			if err := fn(in); err != nil {
				return err
			}
		}
		return putBolt(b, in)
	})
}

// Get implements Store.
func (s *BoltStore) Get(ctx context.Context, id string) (*Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var in *Instance
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		in, err = getBolt(tx.Bucket(bucketCampaigns), id)
		return err
	})
	return in, err
}

// List implements Store, newest launch first.
func (s *BoltStore) List(ctx context.Context) ([]*Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*Instance
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCampaigns).ForEach(func(k, v []byte) error {
			in, err := decode(string(k), v)
			if err != nil {
				return err
			}
			out = append(out, in)
			return nil
		})
	})
	sortInstances(out)
	return out, err
}

// Update implements Store.
func (s *BoltStore) Update(ctx context.Context, id string, fn func(in *Instance) error) (*Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *Instance
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCampaigns)
		old, err := getBolt(b, id)
		if err != nil {
			return err
		}
		in := old.clone()
		if err := fn(in); err != nil {
			return err
		}
		if in.ID != id {
			return fmt.Errorf("review: update %s: the id is immutable", id)
		}
		out = in
		return putBolt(b, in)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func getBolt(b *bolt.Bucket, id string) (*Instance, error) {
	v := b.Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return decode(id, v)
}

func putBolt(b *bolt.Bucket, in *Instance) error {
	v, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("review: encode campaign %s: %w", in.ID, err)
	}
	return b.Put([]byte(in.ID), v)
}

func decode(id string, v []byte) (*Instance, error) {
	var in Instance
	if err := json.Unmarshal(v, &in); err != nil {
		return nil, fmt.Errorf("review: decode campaign %s: %w", id, err)
	}
	return &in, nil
}

func sortInstances(out []*Instance) {
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].LaunchedAt.Equal(out[j].LaunchedAt) {
			return out[i].LaunchedAt.After(out[j].LaunchedAt)
		}
		return out[i].ID < out[j].ID
	})
}

const pgSchema = `
CREATE TABLE IF NOT EXISTS steward_review_campaigns (
	id          text PRIMARY KEY,
	name        text NOT NULL,
	state       text NOT NULL,
	doc         json NOT NULL,
	launched_at timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);
`

// schemaLock serialises schema creation when several replicas start.
const schemaLock = 0x5374657761726402 // "Steward\x02"

// PGStore is a Store in PostgreSQL, safe for several replicas: each
// Update locks the campaign's row for its transaction.
type PGStore struct{ pool *pgxpool.Pool }

var _ Store = (*PGStore)(nil)

// OpenPostgres connects to dsn and creates the table if needed.
func OpenPostgres(ctx context.Context, dsn string) (*PGStore, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("review: open postgres: %w", err)
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
		return nil, fmt.Errorf("review: create postgres schema: %w", err)
	}
	return &PGStore{pool: pool}, nil
}

// Close closes the pool.
func (s *PGStore) Close() error { s.pool.Close(); return nil }

// Create implements Store.
func (s *PGStore) Create(ctx context.Context, in *Instance, fn func(in *Instance) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var x string
		err := tx.QueryRow(ctx, `SELECT id FROM steward_review_campaigns WHERE id = $1`, in.ID).Scan(&x)
		if err == nil {
			return fmt.Errorf("%w: %s", ErrExists, in.ID)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if fn != nil {
			if err := fn(in); err != nil {
				return err
			}
		}
		doc, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("review: encode campaign %s: %w", in.ID, err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO steward_review_campaigns (id, name, state, doc, launched_at, updated_at)
			VALUES ($1, $2, $3, $4::json, $5, $6)`, in.ID, in.Campaign.Name, string(in.State), string(doc), in.LaunchedAt, in.UpdatedAt)
		return err
	})
}

// Get implements Store.
func (s *PGStore) Get(ctx context.Context, id string) (*Instance, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, `SELECT doc FROM steward_review_campaigns WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("review: get %s: %w", id, err)
	}
	return decode(id, doc)
}

// List implements Store, newest launch first.
func (s *PGStore) List(ctx context.Context) ([]*Instance, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, doc FROM steward_review_campaigns ORDER BY launched_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("review: list: %w", err)
	}
	defer rows.Close()
	var out []*Instance
	for rows.Next() {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("review: list: %w", err)
		}
		in, err := decode(id, doc)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("review: list: %w", err)
	}
	sortInstances(out)
	return out, nil
}

// Update implements Store.
func (s *PGStore) Update(ctx context.Context, id string, fn func(in *Instance) error) (*Instance, error) {
	var out *Instance
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var doc []byte
		err := tx.QueryRow(ctx, `SELECT doc FROM steward_review_campaigns WHERE id = $1 FOR UPDATE`, id).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		old, err := decode(id, doc)
		if err != nil {
			return err
		}
		in := old.clone()
		if err := fn(in); err != nil {
			return err
		}
		if in.ID != id {
			return fmt.Errorf("review: update %s: the id is immutable", id)
		}
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("review: encode campaign %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE steward_review_campaigns SET state = $2, doc = $3::json, updated_at = $4 WHERE id = $1`,
			id, string(in.State), string(b), in.UpdatedAt); err != nil {
			return err
		}
		out = in
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
