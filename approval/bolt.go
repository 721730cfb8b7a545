package approval

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketProposals = []byte("proposals")
	// bucketOpenKeys maps Key to the id of the open proposal holding it.
	bucketOpenKeys = []byte("open_keys")
)

// BoltStore is a Store in one embedded bbolt file, for a single Steward
// process (bbolt locks the file). Every Update is one bbolt write
// transaction, fsynced on commit.
type BoltStore struct {
	db *bolt.DB
}

var _ Store = (*BoltStore)(nil)

// OpenBolt opens or creates the store at path (mode 0600).
func OpenBolt(path string) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("approval: open bolt store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketProposals, bucketOpenKeys} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("approval: init bolt store %s: %w", path, err)
	}
	return &BoltStore{db: db}, nil
}

// Close closes the file.
func (s *BoltStore) Close() error { return s.db.Close() }

// Create implements Store.
func (s *BoltStore) Create(ctx context.Context, p *Proposal, fn func(p *Proposal) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.ID == "" {
		return fmt.Errorf("%w: empty id", ErrInvalidProposal)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		props, keys := tx.Bucket(bucketProposals), tx.Bucket(bucketOpenKeys)
		if props.Get([]byte(p.ID)) != nil {
			return fmt.Errorf("%w: %s", ErrExists, p.ID)
		}
		if p.Key != "" && p.State.Open() {
			if holder := keys.Get([]byte(p.Key)); holder != nil {
				return fmt.Errorf("%w: %s (held by %s)", ErrDuplicateKey, p.Key, holder)
			}
		}
		if fn != nil {
			if err := fn(p); err != nil {
				return err
			}
		}
		return put(props, keys, nil, p)
	})
}

// Get implements Store.
func (s *BoltStore) Get(ctx context.Context, id string) (*Proposal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var p *Proposal
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		p, err = get(tx.Bucket(bucketProposals), id)
		return err
	})
	return p, err
}

// List implements Store, in id order.
func (s *BoltStore) List(ctx context.Context, f Filter) ([]*Proposal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*Proposal
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketProposals).ForEach(func(k, v []byte) error {
			var p Proposal
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("approval: decode proposal %s: %w", k, err)
			}
			if f.match(&p) {
				out = append(out, &p)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Update implements Store.
func (s *BoltStore) Update(ctx context.Context, id string, fn func(p *Proposal) error) (*Proposal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *Proposal
	err := s.db.Update(func(tx *bolt.Tx) error {
		props, keys := tx.Bucket(bucketProposals), tx.Bucket(bucketOpenKeys)
		old, err := get(props, id)
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
		out = p
		return put(props, keys, old, p)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func get(props *bolt.Bucket, id string) (*Proposal, error) {
	v := props.Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	var p Proposal
	if err := json.Unmarshal(v, &p); err != nil {
		return nil, fmt.Errorf("approval: decode proposal %s: %w", id, err)
	}
	return &p, nil
}

// put writes p and keeps the open-key index in step with its state.
func put(props, keys *bolt.Bucket, old, p *Proposal) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("approval: encode proposal %s: %w", p.ID, err)
	}
	if err := props.Put([]byte(p.ID), b); err != nil {
		return err
	}
	if p.Key == "" {
		return nil
	}
	switch {
	case p.State.Open():
		return keys.Put([]byte(p.Key), []byte(p.ID))
	case old != nil && old.State.Open():
		return keys.Delete([]byte(p.Key))
	}
	return nil
}
