package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	hkv "github.com/hidal-go/hidalgo/kv"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// boltKV is the key-value layer under cayley's kv quad store, over
// go.etcd.io/bbolt. cayley's own bolt backend (through hidalgo) uses the
// unmaintained github.com/boltdb/bolt, whose pointer arithmetic aborts the
// process under the race detector's checkptr; bbolt is its maintained
// fork with the same file format.
//
// cayley's kv store only uses two-level keys, {bucket, key}: every value
// lives in a top-level bucket, a key with an empty last part and an empty
// value creates the bucket, and scans cover a bucket or a key prefix in
// one. boltKV supports exactly that and reports anything else as an error
// rather than guessing.
type boltKV struct {
	db *bolt.DB
	// release, when set, is called every releaseEvery reads (a bulk
	// load's fresh file; see releaseMapped): one batch's index lookups
	// at a million identities touch most of a multi-gigabyte file.
	release func()
	reads   atomic.Int64
}

// releaseEvery is how many reads pass between release calls.
const releaseEvery = 1 << 14

var _ hkv.KV = (*boltKV)(nil)

func (k *boltKV) Close() error { return k.db.Close() }

func (k *boltKV) Tx(rw bool) (hkv.Tx, error) {
	tx, err := k.db.Begin(rw)
	if err != nil {
		return nil, err
	}
	return &boltTx{tx: tx, kv: k}, nil
}

type boltTx struct {
	tx *bolt.Tx
	kv *boltKV
}

var errKeyShape = errors.New("store: bolt: key is not {bucket, key}")

func split(k hkv.Key) (bucket, key []byte, err error) {
	if len(k) != 2 || len(k[0]) == 0 {
		return nil, nil, fmt.Errorf("%w: %d parts", errKeyShape, len(k))
	}
	return k[0], k[1], nil
}

func (t *boltTx) Commit(context.Context) error { return t.tx.Commit() }

// Close rolls back; after a Commit it has nothing to do.
func (t *boltTx) Close() error {
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, bolterrors.ErrTxClosed) {
		return err
	}
	return nil
}

func (t *boltTx) Get(_ context.Context, k hkv.Key) (hkv.Value, error) {
	bucket, key, err := split(k)
	if err != nil {
		return nil, err
	}
	if t.kv.release != nil && t.kv.reads.Add(1)%releaseEvery == 0 {
		t.kv.release()
	}
	b := t.tx.Bucket(bucket)
	if b == nil {
		return nil, hkv.ErrNotFound
	}
	v := b.Get(key)
	if v == nil {
		return nil, hkv.ErrNotFound
	}
	return v, nil
}

func (t *boltTx) GetBatch(ctx context.Context, keys []hkv.Key) ([]hkv.Value, error) {
	out := make([]hkv.Value, len(keys))
	for i, k := range keys {
		v, err := t.Get(ctx, k)
		if err != nil && !errors.Is(err, hkv.ErrNotFound) {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (t *boltTx) Put(k hkv.Key, v hkv.Value) error {
	bucket, key, err := split(k)
	if err != nil {
		return err
	}
	b, err := t.tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		return err
	}
	if len(key) == 0 && len(v) == 0 {
		return nil // bucket creation only
	}
	return b.Put(key, v)
}

func (t *boltTx) Del(k hkv.Key) error {
	bucket, key, err := split(k)
	if err != nil {
		return err
	}
	if b := t.tx.Bucket(bucket); b != nil {
		return b.Delete(key)
	}
	return nil
}

// Scan iterates a whole bucket ({bucket}) or the keys of a bucket that
// start with a prefix ({bucket, prefix}).
func (t *boltTx) Scan(pref hkv.Key) hkv.Iterator {
	var prefix []byte
	switch len(pref) {
	case 1:
	case 2:
		prefix = pref[1]
	default:
		return &boltIter{err: fmt.Errorf("%w: scan over %d parts", errKeyShape, len(pref))}
	}
	b := t.tx.Bucket(pref[0])
	if b == nil {
		return &boltIter{}
	}
	return &boltIter{bucket: append([]byte(nil), pref[0]...), c: b.Cursor(), prefix: prefix}
}

type boltIter struct {
	bucket  []byte
	c       *bolt.Cursor
	prefix  []byte
	started bool
	k, v    []byte
	err     error
}

func (it *boltIter) Next(context.Context) bool {
	if it.c == nil {
		return false
	}
	for {
		if !it.started {
			it.started = true
			if len(it.prefix) > 0 {
				it.k, it.v = it.c.Seek(it.prefix)
			} else {
				it.k, it.v = it.c.First()
			}
		} else {
			it.k, it.v = it.c.Next()
		}
		if it.k == nil || !bytes.HasPrefix(it.k, it.prefix) {
			it.c = nil
			return false
		}
		if it.v != nil { // a nil value is a nested bucket, which cayley never makes
			return true
		}
	}
}

// Key returns a copy: callers may keep it.
func (it *boltIter) Key() hkv.Key {
	return hkv.Key{append([]byte(nil), it.bucket...), append([]byte(nil), it.k...)}
}

// Val is valid until the next call to Next.
func (it *boltIter) Val() hkv.Value { return it.v }
func (it *boltIter) Err() error     { return it.err }
func (it *boltIter) Close() error   { it.c = nil; return nil }
