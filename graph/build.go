package graph

import (
	"slices"
	"sort"
	"time"
	"unsafe"
)

// Builder builds an Index one subgraph at a time, copying each into the
// compact form as it is added, so a caller streaming a million-identity
// graph can drop every subgraph once added instead of holding them all
// (and the index holds no Node or Edge structs of its own).
type Builder struct {
	strs    strArena
	strNode []int32 // string id -> node number with that id, -1 for none
	nodes   []uint32
	tsec    []int64
	tnsec   []uint32
	edges   []uint32
	esec    []int64
	ensec   []uint32
	maps    []uint32
	sources []string
	done    bool
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder {
	b := &Builder{}
	b.strs.init()
	// Derived facts are interned up front: the arena's lookup map is
	// dropped once the index is built.
	for _, s := range []string{"", string(PrivNone), string(PrivRead), string(PrivWrite), string(PrivAdmin),
		string(OwnerPresent), string(OwnerDeparted), string(OwnerAbsent)} {
		b.strs.intern(s)
	}
	return b
}

// strArena interns strings into fixed chunks that never move, so the
// lookup map's keys can point into them instead of keeping the caller's
// strings (and so the caller's subgraphs) alive.
type strArena struct {
	ids    map[string]uint32
	off    []uint32 // string id -> end offset; id 0 is ""
	chunks [][]byte
	total  uint32
}

const arenaChunk = 4 << 20

func (a *strArena) init() {
	a.ids = map[string]uint32{"": 0}
	a.off = []uint32{0, 0}
}

func (a *strArena) intern(s string) uint32 {
	if id, ok := a.ids[s]; ok {
		return id
	}
	var c []byte
	if n := len(a.chunks); n > 0 && cap(a.chunks[n-1])-len(a.chunks[n-1]) >= len(s) {
		c = a.chunks[n-1]
	} else {
		c = make([]byte, 0, max(arenaChunk, len(s)))
		a.chunks = append(a.chunks, c)
	}
	pos := len(c)
	c = append(c, s...)
	a.chunks[len(a.chunks)-1] = c
	id := uint32(len(a.off) - 1)
	a.total += uint32(len(s))
	a.off = append(a.off, a.total)
	a.ids[unsafe.String(unsafe.SliceData(c[pos:]), len(s))] = id
	return id
}

// blob concatenates the chunks and drops the lookup map.
func (a *strArena) blob() []byte {
	out := make([]byte, 0, a.total)
	for _, c := range a.chunks {
		out = append(out, c...)
	}
	a.ids, a.chunks = nil, nil
	return out
}

func (b *Builder) strMap(m map[string]string) uint32 {
	if m == nil {
		return nilMap
	}
	off := uint32(len(b.maps))
	b.maps = append(b.maps, uint32(len(m)))
	for _, k := range sortedKeys(m) {
		b.maps = append(b.maps, b.strs.intern(k), b.strs.intern(m[k]))
	}
	return off
}

// Add copies sg into the index being built. A node whose id an earlier
// subgraph already described is skipped (the first source wins); the
// later source's edges still attach to it. sg is not retained.
func (b *Builder) Add(sg *Subgraph) {
	if b.done {
		panic("graph: Builder.Add after Index")
	}
	b.sources = append(b.sources, sg.Source)
	b.strs.intern(sg.Source)
	for i := range sg.Nodes {
		nd := &sg.Nodes[i]
		id := b.strs.intern(nd.ID)
		for int(id) >= len(b.strNode) {
			b.strNode = append(b.strNode, -1)
		}
		if b.strNode[id] >= 0 {
			continue
		}
		b.strNode[id] = int32(len(b.nodes) / nodeCols)
		b.nodes = append(b.nodes, id, b.strs.intern(string(nd.Kind)), b.strs.intern(nd.Source), b.strs.intern(nd.Name),
			b.strs.intern(nd.Subtype), b.strs.intern(nd.Status), b.strMap(nd.Tags), b.strMap(nd.Attrs))
		for _, t := range [nodeTime]time.Time{nd.CreatedAt, nd.LastUsedAt, nd.RotatedAt, nd.ExpiresAt} {
			s, ns := timeParts(t)
			b.tsec, b.tnsec = append(b.tsec, s), append(b.tnsec, ns)
		}
	}
	for i := range sg.Edges {
		e := &sg.Edges[i]
		cond := uint32(0)
		if e.Conditional {
			cond = 1
		}
		b.edges = append(b.edges, b.strs.intern(e.From), b.strs.intern(e.To), b.strs.intern(string(e.Kind)), b.strs.intern(e.Action),
			b.strs.intern(e.Resource), b.strs.intern(e.Effect), b.strs.intern(string(e.Privilege)), cond, b.strMap(e.Attrs))
		s, ns := timeParts(e.LastSeen)
		b.esec, b.ensec = append(b.esec, s), append(b.ensec, ns)
	}
}

// Index finishes the build: it resolves edge ends, lays out adjacency and
// derives privilege, ownership, last use and leak matches. The builder
// cannot be used afterwards.
func (b *Builder) Index() *Index {
	b.done = true
	n := len(b.nodes) / nodeCols
	m := len(b.edges) / edgeCols
	node := func(str uint32) int32 {
		if int(str) < len(b.strNode) {
			return b.strNode[str]
		}
		return -1
	}
	s := &snapData{nnodes: n, nodes: b.nodes, tsec: b.tsec, tnsec: b.tnsec,
		edges: b.edges, edgeSec: b.esec, edgeNsec: b.ensec, maps: b.maps}
	s.from, s.to = make([]int32, m), make([]int32, m)
	for ei := 0; ei < m; ei++ {
		s.from[ei] = node(b.edges[ei*edgeCols])
		s.to[ei] = node(b.edges[ei*edgeCols+1])
	}
	b.strNode = nil
	s.outOff, s.out = csrByEnd(n, s.from)
	s.inOff, s.in = csrByEnd(n, s.to)
	ix := &Index{snap: s, nedges: m}
	ix.Sources = append([]string(nil), b.sources...)
	sort.Strings(ix.Sources)
	d := deriver{ix: ix, s: s, ids: map[string]uint32{}}
	for _, src := range ix.Sources {
		s.sources = append(s.sources, b.strs.ids[src])
	}
	for _, v := range []string{string(PrivNone), string(PrivRead), string(PrivWrite), string(PrivAdmin),
		string(OwnerPresent), string(OwnerDeparted), string(OwnerAbsent)} {
		d.ids[v] = b.strs.ids[v]
	}
	s.strOff = b.strs.off
	s.strBlob = b.strs.blob()

	s.byKind = map[Kind][]int32{}
	for i := int32(0); i < int32(n); i++ {
		k := Kind(s.nodeStr(i, 1))
		s.byKind[k] = append(s.byKind[k], i)
	}
	s.sorted = make([]uint32, n)
	for i := range s.sorted {
		s.sorted[i] = uint32(i)
	}
	slices.SortFunc(s.sorted, func(a, b uint32) int {
		x, y := s.nodeStr(int32(a), 0), s.nodeStr(int32(b), 0)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	d.privilege()
	d.owners()
	d.lastUse()
	d.leaks()
	*b = Builder{done: true}
	return ix
}

// csrByEnd lists, per node, the edges whose end (from or to) it is, in
// edge order.
func csrByEnd(n int, end []int32) ([]uint32, []int32) {
	off := make([]uint32, n+1)
	for _, v := range end {
		if v >= 0 {
			off[v+1]++
		}
	}
	for i := 0; i < n; i++ {
		off[i+1] += off[i]
	}
	data := make([]int32, off[n])
	fill := append([]uint32(nil), off[:n]...)
	for ei, v := range end {
		if v >= 0 {
			data[fill[v]] = int32(ei)
			fill[v]++
		}
	}
	return off, data
}

// flatten turns per-node lists into compressed sparse rows.
func flatten(lists [][]int32) ([]uint32, []int32) {
	off := make([]uint32, len(lists)+1)
	total := 0
	for _, l := range lists {
		total += len(l)
	}
	data := make([]int32, 0, total)
	for i, l := range lists {
		data = append(data, l...)
		off[i+1] = uint32(len(data))
	}
	return off, data
}

// deriver computes the derived facts of a freshly built index.
type deriver struct {
	ix  *Index
	s   *snapData
	ids map[string]uint32 // string ids of the derived values
}

func (d *deriver) kind(i int32) Kind { return Kind(d.s.nodeStr(i, 1)) }

// grantPrivilege is GrantPrivilege of edge ei, read from its row.
func (s *snapData) grantPrivilege(ei int32) Privilege {
	r := s.edges[int(ei)*edgeCols : int(ei+1)*edgeCols]
	if s.str(r[5]) == EffectDeny {
		return PrivNone
	}
	if p := Privilege(s.str(r[6])); p != "" {
		return p
	}
	return ClassifyAction(s.str(r[3]), s.str(r[4]))
}

func (d *deriver) privilege() {
	ix, s := d.ix, d.s
	n := s.nnodes
	priv := make([]Privilege, n)
	privPath := make([][]int32, n)
	// best direct grant per node: its own grants and those of policies
	// attached to it.
	type direct struct {
		p    Privilege
		path []int32
	}
	best := make([]direct, n)
	for i := int32(0); i < int32(n); i++ {
		best[i].p = PrivNone
		for _, ei := range ix.Out(i) {
			if s.ekind(ei) != EdgeGrants {
				continue
			}
			if p := s.grantPrivilege(ei); p.Rank() > best[i].p.Rank() {
				best[i] = direct{p, []int32{ei}}
			}
		}
	}
	attached := make([]direct, n)
	for i := int32(0); i < int32(n); i++ {
		attached[i] = best[i]
		for _, ei := range ix.In(i) {
			if s.ekind(ei) != EdgeAttachedTo {
				continue
			}
			pi := s.from[ei]
			if pi < 0 {
				continue
			}
			if best[pi].p.Rank() > attached[i].p.Rank() {
				attached[i] = direct{best[pi].p, append([]int32{ei}, best[pi].path...)}
			}
		}
	}
	best = nil
	// Walk member_of / can_assume from every principal-like node.
	type step struct {
		node int32
		path []int32
	}
	seen := make(map[int32]bool)
	for i := int32(0); i < int32(n); i++ {
		k := d.kind(i)
		if !(k.IsIdentity() || k == KindGroup || k == KindRole) {
			continue
		}
		bp, bpath := attached[i].p, attached[i].path
		clear(seen)
		seen[i] = true
		frontier := []step{{i, nil}}
		for depth := 0; depth < maxPrivDepth && len(frontier) > 0 && bp != PrivAdmin; depth++ {
			var next []step
			for _, st := range frontier {
				for _, ei := range ix.Out(st.node) {
					if !traversable(s.ekind(ei)) {
						continue
					}
					t := s.to[ei]
					if t < 0 || seen[t] {
						continue
					}
					seen[t] = true
					p := append(append([]int32(nil), st.path...), ei)
					if attached[t].p.Rank() > bp.Rank() {
						bp = attached[t].p
						bpath = append(append([]int32(nil), p...), attached[t].path...)
					}
					next = append(next, step{t, p})
				}
			}
			frontier = next
		}
		// A connector that evaluated denies and boundaries for this very
		// principal knows better than a walk over shared policies.
		if eff := Privilege(ix.NodeAttr(i, AttrEffectivePrivilege)); eff != "" && eff.Rank() >= 0 && eff.Rank() < bp.Rank() {
			bp = eff
		}
		priv[i], privPath[i] = bp, bpath
	}
	// A credential can do what its own grants allow (a GitHub deploy key
	// or PAT is granted directly) and what the identity holding it can.
	for _, i := range s.byKind[KindCredential] {
		priv[i], privPath[i] = attached[i].p, attached[i].path
		for _, ei := range ix.In(i) {
			if s.ekind(ei) != EdgeHasCredential {
				continue
			}
			h := s.from[ei]
			if h < 0 {
				continue
			}
			if priv[h].Rank() > priv[i].Rank() {
				priv[i] = priv[h]
				privPath[i] = append([]int32{ei}, privPath[h]...)
			}
		}
	}
	s.priv = make([]uint32, n)
	for i := range priv {
		if priv[i] == "" {
			priv[i] = PrivNone
		}
		id, ok := d.ids[string(priv[i])]
		if !ok {
			// Not reached: a word outside the four levels ranks -1 and
			// never beats PrivNone above.
			id = d.ids[string(PrivNone)]
		}
		s.priv[i] = id
	}
	s.ppOff, s.pp = flatten(privPath)
}

func (d *deriver) owners() {
	ix, s := d.ix, d.s
	n := s.nnodes
	owners := make([][]int32, n)
	seen := map[int32]bool{}
	for i := int32(0); i < int32(n); i++ {
		clear(seen)
		for _, ei := range ix.In(i) {
			if s.ekind(ei) != EdgeOwns {
				continue
			}
			// One owner named by several sources (stored and inferred)
			// counts once; the first source's edge is the evidence.
			if h := s.from[ei]; h >= 0 && d.kind(h) == KindHuman && !seen[h] {
				seen[h] = true
				owners[i] = append(owners[i], ei)
			}
		}
	}
	// An analyst's correction (rule=override) replaces every other
	// owner, stored or inferred, instead of standing beside them.
	for i := range owners {
		var corrected []int32
		for _, ei := range owners[i] {
			if v, _ := s.mapGet(s.edges[int(ei)*edgeCols+8], "rule"); v == "override" {
				corrected = append(corrected, ei)
			}
		}
		if len(corrected) > 0 {
			owners[i] = corrected
		}
	}
	// A credential without an owner of its own answers to its holder's.
	for _, i := range s.byKind[KindCredential] {
		if len(owners[i]) > 0 {
			continue
		}
		for _, ei := range ix.In(i) {
			if s.ekind(ei) != EdgeHasCredential {
				continue
			}
			if h := s.from[ei]; h >= 0 && len(owners[h]) > 0 {
				owners[i] = append([]int32{ei}, owners[h]...)
				break
			}
		}
	}
	present, departed, absent := d.ids[string(OwnerPresent)], d.ids[string(OwnerDeparted)], d.ids[string(OwnerAbsent)]
	s.ownStat = make([]uint32, n)
	for i := range owners {
		st := absent
		for _, ei := range owners[i] {
			if s.ekind(ei) != EdgeOwns {
				continue
			}
			h := s.from[ei] // an owner edge's human is known
			if ix.NodeStatus(h) == StatusDeparted {
				if st == absent {
					st = departed
				}
				continue
			}
			st = present
		}
		s.ownStat[i] = st
	}
	s.ownOff, s.own = flatten(owners)
}

func (d *deriver) lastUse() {
	ix, s := d.ix, d.s
	n := s.nnodes
	s.lastSec, s.lastNsec, s.lastEdge = make([]int64, n), make([]uint32, n), make([]int32, n)
	last := make([]time.Time, n)
	for i := int32(0); i < int32(n); i++ {
		last[i] = ix.NodeLastUsedAt(i)
		s.lastEdge[i] = -1
		for _, ei := range ix.Out(i) {
			if s.ekind(ei) != EdgeUsed {
				continue
			}
			if t := snapTime(s.edgeSec[ei], s.edgeNsec[ei]); t.After(last[i]) {
				last[i], s.lastEdge[i] = t, ei
			}
		}
	}
	// An identity is in use when any of its credentials is.
	for i := int32(0); i < int32(n); i++ {
		if !d.kind(i).IsIdentity() {
			continue
		}
		for _, ei := range ix.Out(i) {
			if s.ekind(ei) != EdgeHasCredential {
				continue
			}
			c := s.to[ei]
			if c < 0 {
				continue
			}
			if last[c].After(last[i]) {
				last[i] = last[c]
				if s.lastEdge[c] >= 0 {
					s.lastEdge[i] = s.lastEdge[c]
				} else {
					s.lastEdge[i] = ei
				}
			}
		}
	}
	for i, t := range last {
		s.lastSec[i], s.lastNsec[i] = timeParts(t)
	}
}

func (d *deriver) leaks() {
	ix, s := d.ix, d.s
	leaks := make([][]int32, s.nnodes)
	byPrint := map[string][]int32{}
	for _, i := range s.byKind[KindCredential] {
		if fp := ix.NodeAttr(i, AttrFingerprint); fp != "" {
			byPrint[fp] = append(byPrint[fp], i)
		}
	}
	for ei := int32(0); ei < int32(ix.nedges); ei++ {
		if s.ekind(ei) != EdgeLeaked {
			continue
		}
		f := s.from[ei]
		if f < 0 {
			continue
		}
		fp := ix.NodeAttr(f, AttrFingerprint)
		targets := []int32{f}
		if fp != "" {
			targets = byPrint[fp]
		}
		for _, t := range targets {
			// The finding node itself is not a live credential; only
			// credentials from other sources with the same fingerprint
			// (and a finding reporting on itself) count.
			leaks[t] = append(leaks[t], ei)
		}
	}
	s.leakOff, s.leak = flatten(leaks)
}
