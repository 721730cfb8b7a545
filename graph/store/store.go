package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cayleygraph/cayley/graph"
	"github.com/cayleygraph/quad"
	sgraph "github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/secret"
)

// Meta quads carry the store's own facts under a label no source can
// have (sources label with strings, this is an IRI).
const (
	metaLabel      = quad.IRI("steward:meta")
	metaStore      = quad.IRI("steward:store")
	predGeneration = quad.IRI("generation")
	predSource     = quad.IRI("source")
	predLoadedAt   = quad.IRI("loaded_at")
	predNodes      = quad.IRI("nodes")
	predEdges      = quad.IRI("edges")
)

// maxAttempts bounds retries of a write that lost a race with another
// replica over the same PostgreSQL database.
const maxAttempts = 5

// ErrUnknownSource is returned by Remove for a source the store does not
// hold.
var ErrUnknownSource = errors.New("store: unknown source")

// SourceInfo describes one stored source.
type SourceInfo struct {
	Source   string    `json:"source"`
	LoadedAt time.Time `json:"loaded_at"`
	Nodes    int       `json:"nodes"`
	Edges    int       `json:"edges"`
}

// Store is the store of record for the graph. It is safe for concurrent
// use; writes from one Store are serialized, and writes from several
// Stores over one PostgreSQL database are serialized by the database.
type Store struct {
	// mu serializes writers and keeps readers from seeing a write half
	// way through the several iterator reads the cayley backends need
	// (bolt and memory are single-process, so this lock is all the
	// isolation they need; PostgreSQL reads are single statements).
	mu  sync.RWMutex
	b   backend
	now func() time.Time

	// testHookBeforeApply, when set, runs after the deltas are computed
	// and just before they are applied.
	testHookBeforeApply func()
}

// backend hides how quads are read from each cayley backend; all writes
// go through ApplyDeltas of the cayley QuadStore.
type backend interface {
	// read returns every quad whose label is one of labels, or every
	// quad when labels is nil, as one consistent read.
	read(ctx context.Context, labels []quad.Value) ([]quad.Quad, error)
	// readMeta returns the quads under the meta label, cheaply.
	readMeta(ctx context.Context) ([]quad.Quad, error)
	// apply applies deltas as one transaction.
	apply(ctx context.Context, deltas []graph.Delta) error
	// lock serializes writers that share the database; it returns the
	// function that releases the lock.
	lock(ctx context.Context) (func(), error)
	// conflict reports whether err from apply means another writer got
	// there first, so the write should be recomputed and retried.
	conflict(err error) bool
	close() error
}

// Open opens or creates a store. uri is "memory" (a fresh in-memory
// store), "bolt:PATH" or a plain filesystem path (a bolt database in
// directory PATH, created if missing), or a "postgres://" / "postgresql://"
// URL (tables created if missing).
func Open(ctx context.Context, uri string) (*Store, error) {
	routeCayleyLog()
	var (
		b   backend
		err error
	)
	switch {
	case uri == "memory":
		b = newMemBackend()
	case strings.HasPrefix(uri, "postgres://"), strings.HasPrefix(uri, "postgresql://"):
		b, err = openPostgres(ctx, uri)
	case strings.HasPrefix(uri, "bolt:"):
		b, err = openBoltSnap(strings.TrimPrefix(uri, "bolt:"))
	case uri == "":
		return nil, errors.New("store: open: empty uri; want \"memory\", a path, \"bolt:PATH\" or a postgres:// URL")
	case strings.Contains(uri, "://"):
		return nil, fmt.Errorf("store: open %q: unsupported scheme; want \"memory\", a path, \"bolt:PATH\" or a postgres:// URL", redact(uri))
	default:
		b, err = openBoltSnap(uri)
	}
	if err != nil {
		return nil, err
	}
	return &Store{b: b, now: time.Now}, nil
}

// redact masks the credentials of a store URI for error messages.
func redact(uri string) string { return secret.MaskDSN(uri) }

// Close releases the backend.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.close()
}

// Replace replaces, for each subgraph, everything stored for its source
// with it, all sources in one atomic step: afterwards readers see either
// all of the new subgraphs or none. Every subgraph is validated and
// encoded first; on any error nothing is written. A context cancelled
// before the write starts also writes nothing; once started, the write
// completes or fails as a whole.
func (s *Store) Replace(ctx context.Context, sgs ...*sgraph.Subgraph) error {
	if len(sgs) == 0 {
		return nil
	}
	next := make(map[string][]quad.Quad, len(sgs))
	counts := make(map[string][2]int, len(sgs))
	for _, in := range sgs {
		if in == nil {
			return errors.New("store: replace: nil subgraph")
		}
		if err := in.Validate(); err != nil {
			return fmt.Errorf("store: replace: %w", err)
		}
		if _, dup := next[in.Source]; dup {
			return fmt.Errorf("store: replace: source %q given twice", in.Source)
		}
		if err := check(in); err != nil {
			return fmt.Errorf("store: replace: %w", err)
		}
		sg := normalized(in)
		qs, err := encode(sg)
		if err != nil {
			return fmt.Errorf("store: replace: %w", err)
		}
		next[sg.Source] = qs
		counts[sg.Source] = [2]int{len(sg.Nodes), len(sg.Edges)}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: replace: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(ctx, "replace", next, counts)
}

// Remove deletes everything stored for source, atomically.
func (s *Store) Remove(ctx context.Context, source string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: remove %q: %w", source, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(ctx, fmt.Sprintf("remove %q", source), map[string][]quad.Quad{source: nil}, nil)
}

// normalized returns a normalized copy of sg, leaving the caller's
// slices untouched.
func normalized(in *sgraph.Subgraph) *sgraph.Subgraph {
	sg := &sgraph.Subgraph{
		Source: in.Source,
		Nodes:  append([]sgraph.Node(nil), in.Nodes...),
		Edges:  append([]sgraph.Edge(nil), in.Edges...),
	}
	sg.Normalize()
	return sg
}

// write replaces the quads of each source in next (nil: remove the
// source) and records metadata and the next generation, in one backend
// transaction. counts is nil for a removal.
func (s *Store) write(ctx context.Context, op string, next map[string][]quad.Quad, counts map[string][2]int) error {
	unlock, err := s.b.lock(ctx)
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	defer unlock()

	for attempt := 1; ; attempt++ {
		deltas, err := s.plan(ctx, next, counts)
		if err != nil {
			return fmt.Errorf("store: %s: %w", op, err)
		}
		if s.testHookBeforeApply != nil {
			s.testHookBeforeApply()
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: %s: %w", op, err)
		}
		err = s.b.apply(ctx, deltas)
		if err == nil {
			return nil
		}
		if !s.b.conflict(err) || attempt == maxAttempts {
			return fmt.Errorf("store: %s: write %d changes: %w", op, len(deltas), err)
		}
	}
}

// plan reads the current state of the sources in next and of the meta
// label and returns the deltas that write would apply.
func (s *Store) plan(ctx context.Context, next map[string][]quad.Quad, counts map[string][2]int) ([]graph.Delta, error) {
	labels := make([]quad.Value, 0, len(next)+1)
	for src := range next {
		labels = append(labels, sourceLabel(src))
	}
	labels = append(labels, metaLabel)
	stored, err := s.b.read(ctx, labels)
	if err != nil {
		return nil, fmt.Errorf("read current state: %w", err)
	}
	old := make(map[quad.Value][]quad.Quad, len(labels))
	for _, q := range stored {
		old[q.Label] = append(old[q.Label], q)
	}
	meta, err := parseMeta(old[metaLabel])
	if err != nil {
		return nil, err
	}
	if counts == nil {
		for src := range next {
			if _, ok := meta.sources[src]; !ok && len(old[sourceLabel(src)]) == 0 {
				return nil, ErrUnknownSource
			}
		}
	}

	var deltas []graph.Delta
	for src, qs := range next {
		deltas = appendDiff(deltas, old[sourceLabel(src)], qs)
	}
	newMeta := meta.clone()
	newMeta.generation++
	loadedAt := s.now().UTC()
	for src := range next {
		if counts == nil {
			delete(newMeta.sources, src)
			continue
		}
		c := counts[src]
		newMeta.sources[src] = SourceInfo{Source: src, LoadedAt: loadedAt, Nodes: c[0], Edges: c[1]}
	}
	return appendDiff(deltas, old[metaLabel], newMeta.quads()), nil
}

// appendDiff appends to deltas what turns the quad set old into next:
// quads only in old are deleted, quads only in next are added, shared
// quads are left alone. Keeping unchanged quads untouched makes a reload
// of a mostly unchanged source cheap.
func appendDiff(deltas []graph.Delta, old, next []quad.Quad) []graph.Delta {
	oldSet := make(map[quad.Quad]struct{}, len(old))
	for _, q := range old {
		oldSet[q] = struct{}{}
	}
	newSet := make(map[quad.Quad]struct{}, len(next))
	for _, q := range next {
		if _, dup := newSet[q]; dup {
			continue
		}
		newSet[q] = struct{}{}
		if _, kept := oldSet[q]; !kept {
			deltas = append(deltas, graph.Delta{Quad: q, Action: graph.Add})
		}
	}
	for q := range oldSet {
		if _, kept := newSet[q]; !kept {
			deltas = append(deltas, graph.Delta{Quad: q, Action: graph.Delete})
		}
	}
	return deltas
}

// Load returns everything stored, one normalized subgraph per source
// (sources stored empty included), sorted by source.
func (s *Store) Load(ctx context.Context) ([]*sgraph.Subgraph, error) {
	gs, _, err := s.LoadGeneration(ctx)
	return gs, err
}

// LoadGeneration is Load that also returns the generation of what it
// loaded, read in the same snapshot. A replica that polls Generation
// should remember this one: Load followed by Generation could pair old
// data with a newer generation and miss a reload.
func (s *Store) LoadGeneration(ctx context.Context) ([]*sgraph.Subgraph, int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	all, err := s.b.read(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("store: load: %w", err)
	}
	byLabel := map[quad.Value][]quad.Quad{}
	for _, q := range all {
		byLabel[q.Label] = append(byLabel[q.Label], q)
	}
	meta, err := parseMeta(byLabel[metaLabel])
	if err != nil {
		return nil, 0, fmt.Errorf("store: load: %w", err)
	}
	delete(byLabel, metaLabel)
	sources := map[string]bool{}
	for src := range meta.sources {
		sources[src] = true
	}
	for l := range byLabel {
		src, ok := l.(quad.String)
		if !ok {
			return nil, 0, fmt.Errorf("store: load: %w: quads under label %v, which no source has", ErrCorrupt, l)
		}
		sources[string(src)] = true
	}
	out := make([]*sgraph.Subgraph, 0, len(sources))
	for src := range sources {
		sg, err := decode(src, byLabel[sourceLabel(src)])
		if err != nil {
			return nil, 0, fmt.Errorf("store: load: %w", err)
		}
		out = append(out, sg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out, meta.generation, nil
}

// Sources describes every stored source, sorted by source.
func (s *Store) Sources(ctx context.Context) ([]SourceInfo, error) {
	meta, err := s.readMeta(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: sources: %w", err)
	}
	out := make([]SourceInfo, 0, len(meta.sources))
	for _, si := range meta.sources {
		out = append(out, si)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out, nil
}

// Generation returns a number that increases with every successful
// Replace or Remove, from any Store over the same database, so replicas
// can poll it cheaply and reload when it moves. An empty store is at 0.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	meta, err := s.readMeta(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: generation: %w", err)
	}
	return meta.generation, nil
}

func (s *Store) readMeta(ctx context.Context) (*metaState, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	qs, err := s.b.readMeta(ctx)
	if err != nil {
		return nil, err
	}
	return parseMeta(qs)
}

// metaState is the decoded content of the meta label.
type metaState struct {
	generation int64
	sources    map[string]SourceInfo
}

func (m *metaState) clone() *metaState {
	c := &metaState{generation: m.generation, sources: make(map[string]SourceInfo, len(m.sources))}
	for k, v := range m.sources {
		c.sources[k] = v
	}
	return c
}

func (m *metaState) quads() []quad.Quad {
	out := make([]quad.Quad, 0, 1+4*len(m.sources))
	add := func(s quad.Value, p quad.IRI, o quad.Value) {
		out = append(out, quad.Quad{Subject: s, Predicate: p, Object: o, Label: metaLabel})
	}
	add(metaStore, predGeneration, quad.Int(m.generation))
	for src, si := range m.sources {
		subj := sourceLabel(src)
		at, _ := encodeTime(si.LoadedAt)
		add(metaStore, predSource, subj)
		add(subj, predLoadedAt, at)
		add(subj, predNodes, quad.Int(si.Nodes))
		add(subj, predEdges, quad.Int(si.Edges))
	}
	return out
}

func parseMeta(qs []quad.Quad) (*metaState, error) {
	m := &metaState{sources: map[string]SourceInfo{}}
	gens := 0
	info := func(v quad.Value) (SourceInfo, string, error) {
		src, ok := v.(quad.String)
		if !ok {
			return SourceInfo{}, "", fmt.Errorf("%w: meta subject %v is not a source name", ErrCorrupt, v)
		}
		si := m.sources[string(src)]
		si.Source = string(src)
		return si, string(src), nil
	}
	for _, q := range qs {
		var err error
		switch q.Predicate {
		case predGeneration:
			n, ok := q.Object.(quad.Int)
			if !ok || q.Subject != metaStore {
				return nil, fmt.Errorf("%w: bad generation quad %v", ErrCorrupt, q)
			}
			m.generation = int64(n)
			gens++
		case predSource:
			var si SourceInfo
			var src string
			if si, src, err = info(q.Object); err == nil {
				m.sources[src] = si
			}
		case predLoadedAt:
			var si SourceInfo
			var src string
			if si, src, err = info(q.Subject); err == nil {
				if si.LoadedAt, err = decodeTime(q.Object); err == nil {
					m.sources[src] = si
				}
			}
		case predNodes, predEdges:
			var si SourceInfo
			var src string
			if si, src, err = info(q.Subject); err == nil {
				n, ok := q.Object.(quad.Int)
				if !ok {
					err = fmt.Errorf("%w: bad count quad %v", ErrCorrupt, q)
				} else if q.Predicate == predNodes {
					si.Nodes = int(n)
				} else {
					si.Edges = int(n)
				}
				m.sources[src] = si
			}
		default:
			err = fmt.Errorf("%w: unknown meta quad %v", ErrCorrupt, q)
		}
		if err != nil {
			return nil, err
		}
	}
	if gens > 1 {
		return nil, fmt.Errorf("%w: %d generation quads", ErrCorrupt, gens)
	}
	return m, nil
}
