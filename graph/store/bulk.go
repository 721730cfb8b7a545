package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cayleygraph/cayley/graph"
	"github.com/cayleygraph/quad"
	sgraph "github.com/steward-oss/steward/graph"
	bolt "go.etcd.io/bbolt"
)

// bulkBatch is how many quads one transaction of a bulk load writes. A
// bolt transaction keeps every page it dirties in memory until it
// commits, and cayley's kv store buffers its index entries for the whole
// call: one transaction for a 100k-identity graph (2M+ quads) held
// gigabytes. Batches of this size keep that to tens of megabytes. (A
// variable so that the crash test can make several batches of a small
// graph.)
var bulkBatch = 100_000

// bulkTmpPrefix names the fresh bolt file a bulk load builds beside the
// live one; a file left by a killed load is removed at the next open.
const bulkTmpPrefix = boltFile + ".tmp-"

// Bulk replaces whole sources like Replace, for loads too big for one
// transaction: `steward load graph`, `steward demo --out`, a source's
// first load. Add takes one subgraph at a time, so a caller can stream
// sources and drop each once added; Commit makes them visible all at
// once, together with every stored source not added, which stays as it
// was. Abort (or a Commit that fails) leaves the store as it was.
//
// On bolt the sources are written into a fresh file beside the live one,
// in transactions of bulkBatch quads, without fsync; Commit copies the
// sources that stay, writes the metadata with the next generation, syncs
// the file once and renames it over the live file. rename is atomic, so
// a kill at any point leaves the old file (and a temporary one that the
// next open removes) or the new one. On the other backends Add collects
// the subgraphs and Commit is one Replace.
type Bulk struct {
	s     *Store
	ctx   context.Context
	added map[string][2]int
	// collected subgraphs for backends without a bulk path.
	sgs []*sgraph.Subgraph
	// bolt: the fresh file and the cayley store over it.
	b       *boltBackend
	tmpPath string
	tmpDB   *bolt.DB
	tmp     *cayleyBackend
	batch   []graph.Delta
	quads   int
	encoded int
	// encodedItems counts the nodes and edges encoded.
	encodedItems int
	done         bool

	// OnBatch, when set, is called after each committed batch with the
	// number of quads written so far (progress on a terminal).
	OnBatch func(quads int)
}

// Streams reports whether Bulk writes as it goes (bolt) rather than
// collecting the subgraphs for one Replace at Commit.
func (s *Store) Streams() bool {
	_, ok := s.b.(*boltBackend)
	return ok
}

// bulkTestHook, when set, is called at named points of a bolt bulk load
// ("batch:N" after the N-th batch committed, "synced" before the rename,
// "renamed" after it); the crash tests stop the process there.
var bulkTestHook func(point string)

func bulkPoint(p string) {
	if bulkTestHook != nil {
		bulkTestHook(p)
	}
}

// BeginBulk starts a bulk load. It holds the store's write lock until
// Commit or Abort; the store answers no other call of this process in
// between.
func (s *Store) BeginBulk(ctx context.Context) (*Bulk, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: bulk: %w", err)
	}
	s.mu.Lock()
	w := &Bulk{s: s, ctx: ctx, added: map[string][2]int{}}
	bb, ok := s.b.(*boltBackend)
	if !ok {
		return w, nil
	}
	w.b = bb
	dir := filepath.Dir(bb.path)
	f, err := os.CreateTemp(dir, bulkTmpPrefix+"*")
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("store: bulk: %w", err)
	}
	w.tmpPath = f.Name()
	f.Close()
	// No fsync while building: nobody reads this file until the one sync
	// before the rename. NoFreelistSync: the freelist of a file that only
	// grows is empty, so it is not written at each commit.
	db, err := bolt.Open(w.tmpPath, 0o600, &bolt.Options{Timeout: boltLockTimeout, InitialMmapSize: boltMmapSize, NoSync: true, NoFreelistSync: true})
	if err != nil {
		os.Remove(w.tmpPath)
		s.mu.Unlock()
		return nil, fmt.Errorf("store: bulk: open %s: %w", w.tmpPath, err)
	}
	w.tmpDB = db
	tmpPath := w.tmpPath
	if w.tmp, err = openKV(&boltKV{db: db, release: func() { releaseMapped(db, tmpPath) }}); err != nil {
		w.abort()
		return nil, fmt.Errorf("store: bulk: initialise %s: %w", w.tmpPath, err)
	}
	return w, nil
}

// Add validates, encodes and writes one source. A source may be added
// once per bulk load. On error the load is aborted.
func (w *Bulk) Add(in *sgraph.Subgraph) error {
	if w.done {
		return errors.New("store: bulk: add after commit or abort")
	}
	err := w.add(in)
	if err != nil {
		w.abort()
		return fmt.Errorf("store: bulk: %w", err)
	}
	return nil
}

func (w *Bulk) add(in *sgraph.Subgraph) error {
	if in == nil {
		return errors.New("nil subgraph")
	}
	if err := in.Validate(); err != nil {
		return err
	}
	if _, dup := w.added[in.Source]; dup {
		return fmt.Errorf("source %q given twice", in.Source)
	}
	if err := check(in); err != nil {
		return err
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.b == nil {
		w.added[in.Source] = [2]int{len(in.Nodes), len(in.Edges)}
		w.sgs = append(w.sgs, in)
		return nil
	}
	sg := normalized(in)
	// Encoded whole, the largest source of a million-identity graph
	// (one directory tenant, 760k edges) is millions of quads held at
	// once; in slices of bulkEncodeChunk nodes or edges it is a few
	// hundred thousand at a time. The quads are the same: each node and
	// edge encodes on its own, and check has refused what encode would.
	for i := 0; i < len(sg.Nodes) || i < len(sg.Edges); i += bulkEncodeChunk {
		part := &sgraph.Subgraph{Source: sg.Source, Nodes: chunk(sg.Nodes, i), Edges: chunk(sg.Edges, i)}
		qs, err := encode(part)
		if err != nil {
			return err
		}
		w.encoded += len(qs)
		w.encodedItems += len(part.Nodes) + len(part.Edges)
		if err := w.write(qs); err != nil {
			return err
		}
	}
	w.added[sg.Source] = [2]int{len(sg.Nodes), len(sg.Edges)}
	return nil
}

// bulkEncodeChunk is how many nodes and edges Add encodes at a time.
const bulkEncodeChunk = 20_000

// chunk is s[i:i+bulkEncodeChunk], cut to s.
func chunk[T any](s []T, i int) []T {
	if i >= len(s) {
		return nil
	}
	return s[i:min(i+bulkEncodeChunk, len(s))]
}

// Encoded reports how many quads the nodes and edges added so far
// encoded to, and how many nodes and edges that was (the source being
// added counts as far as it is encoded, at most bulkEncodeChunk of each
// ahead of what is written): scaled to a load's nodes and edges, with
// OnBatch's count written so far, it gives a long load's progress.
func (w *Bulk) Encoded() (quads, items int) { return w.encoded, w.encodedItems }

// write queues quads for the fresh file, committing a batch whenever
// bulkBatch quads are queued. Writes are strict, as in Replace: the
// quads of a normalized subgraph are distinct and sources differ by
// label, so a duplicate is a bug, reported, never ignored.
func (w *Bulk) write(qs []quad.Quad) error {
	for _, q := range qs {
		w.batch = append(w.batch, graph.Delta{Quad: q, Action: graph.Add})
		if len(w.batch) >= bulkBatch {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *Bulk) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if err := w.tmp.applyAdds(w.ctx, w.batch, graph.IgnoreOpts{}); err != nil {
		return fmt.Errorf("write %d quads: %w", len(w.batch), err)
	}
	w.quads += len(w.batch)
	w.batch = w.batch[:0]
	releaseMapped(w.tmpDB, w.tmpPath)
	if w.OnBatch != nil {
		w.OnBatch(w.quads)
	}
	bulkPoint(fmt.Sprintf("batch:%d", (w.quads+bulkBatch-1)/bulkBatch))
	return nil
}

// Commit makes every added source visible at once, with the stored
// sources not added unchanged, and moves the generation forward by one.
func (w *Bulk) Commit() error {
	if w.done {
		return errors.New("store: bulk: commit after commit or abort")
	}
	if w.b == nil {
		w.done = true
		w.s.mu.Unlock()
		return w.s.Replace(w.ctx, w.sgs...)
	}
	if err := w.commit(); err != nil {
		w.abort()
		return fmt.Errorf("store: bulk: commit: %w", err)
	}
	return nil
}

func (w *Bulk) commit() error {
	live := w.b.cayleyBackend
	meta, err := readMetaState(w.ctx, live)
	if err != nil {
		return fmt.Errorf("read current state: %w", err)
	}
	// Copy the sources that stay, one at a time.
	newMeta := meta.clone()
	newMeta.generation++
	for src := range meta.sources {
		if _, replaced := w.added[src]; replaced {
			continue
		}
		qs, err := live.read(w.ctx, []quad.Value{sourceLabel(src)})
		if err != nil {
			return fmt.Errorf("copy source %q: %w", src, err)
		}
		if err := w.write(qs); err != nil {
			return fmt.Errorf("copy source %q: %w", src, err)
		}
	}
	loadedAt := w.s.now().UTC()
	for src, c := range w.added {
		newMeta.sources[src] = SourceInfo{Source: src, LoadedAt: loadedAt, Nodes: c[0], Edges: c[1]}
	}
	if err := w.write(newMeta.quads()); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	w.tmpDB.NoSync = false
	if err := w.tmpDB.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", w.tmpPath, err)
	}
	bulkPoint("synced")
	// The fresh file stays open, and locked, through the rename: no
	// other process can take the live path in between.
	if err := os.Rename(w.tmpPath, w.b.path); err != nil {
		return err
	}
	syncDir(filepath.Dir(w.b.path))
	bulkPoint("renamed")
	w.tmpPath = ""
	// The new file is the record now; the old one is unlinked, and a
	// failure to close it only leaks its descriptor.
	live.close()
	w.b.cayleyBackend = w.tmp
	w.tmp = nil
	w.finish()
	return nil
}

// Abort discards the bulk load; the store is as it was.
func (w *Bulk) Abort() {
	if !w.done {
		w.abort()
	}
}

func (w *Bulk) abort() {
	if w.tmp != nil {
		w.tmp.close()
	} else if w.tmpDB != nil {
		w.tmpDB.Close()
	}
	if w.tmpPath != "" {
		os.Remove(w.tmpPath)
	}
	w.finish()
}

func (w *Bulk) finish() {
	w.done = true
	w.batch = nil
	w.s.mu.Unlock()
}

// readMetaState reads and parses the meta quads of b.
func readMetaState(ctx context.Context, b backend) (*metaState, error) {
	qs, err := b.readMeta(ctx)
	if err != nil {
		return nil, err
	}
	return parseMeta(qs)
}

// syncDir makes a rename in dir durable; a failure only weakens the
// guarantee on power loss, never on a process kill, so it is not fatal.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// removeStaleBulk removes fresh files left by bulk loads that were killed
// before their rename. The caller holds the live file's lock, so no load
// is building one.
func removeStaleBulk(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), bulkTmpPrefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
