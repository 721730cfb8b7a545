package graph

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"slices"
	"sort"
	"time"
	"unsafe"
)

// A snapshot is the whole Index, derived facts included, in one immutable
// binary file that opens without rebuilding anything: strings are interned
// once and referenced by number, nodes and edges are fixed-width rows,
// adjacency and every per-node evidence list are compressed sparse rows.
// Opened from a memory map, a question touches only the pages it reads,
// so `steward ask` no longer re-reads every quad of the store.
//
// Layout (little endian, every section 8-byte aligned):
//
//	magic "STWSNAP\x00" | version u32 | crc32c u32 | generation i64 |
//	key length u32 | section count u32 | key bytes (padded) |
//	section table (offset u64, length u64)... | sections...
//
// The checksum covers everything after the crc field, so a torn or
// tampered file (generation included) is refused, never half-read.

// SnapshotVersion changes whenever the layout or a derivation rule
// changes: an older snapshot is then stale and rebuilt from the record.
const SnapshotVersion = 3

const snapMagic = "STWSNAP\x00"

// ErrSnapshot wraps every reason a snapshot cannot be used.
var ErrSnapshot = errors.New("graph: snapshot unusable")

// SnapshotTag says which record a snapshot was built from: the store
// generation and a key naming everything else the index depends on (the
// derivation inputs, such as owner corrections).
type SnapshotTag struct {
	Generation int64
	Key        string
}

// Section numbers, in file order.
const (
	secStrOff = iota
	secStrBlob
	secSources
	secNodes
	secNodeSec
	secNodeNsec
	secEdges
	secEdgeSec
	secEdgeNsec
	secMaps
	secOutOff
	secOut
	secInOff
	secIn
	secPriv
	secPrivPathOff
	secPrivPath
	secOwnOff
	secOwn
	secOwnStat
	secLastSec
	secLastNsec
	secLastEdge
	secLeakOff
	secLeak
	secSorted
	secEdgeFrom // version 2: edge ends as node numbers
	secEdgeTo
	secKindIdx // version 3: (kind string, end) pairs over secByKind
	secByKind  // node numbers grouped by kind, in node order within a kind
	numSections
)

const (
	nodeCols = 8 // id kind source name subtype status tags attrs
	edgeCols = 9 // from to kind action resource effect privilege conditional attrs
	nodeTime = 4 // created_at last_used_at rotated_at expires_at
	nilMap   = ^uint32(0)
)

// snapData is an opened snapshot: typed views into the file's bytes.
type snapData struct {
	buf      []byte // keeps the mapping reachable
	strOff   []uint32
	strBlob  []byte
	edges    []uint32
	edgeSec  []int64
	edgeNsec []uint32
	maps     []uint32
	outOff   []uint32
	out      []int32
	inOff    []uint32
	in       []int32
	priv     []uint32
	ppOff    []uint32
	pp       []int32
	ownOff   []uint32
	own      []int32
	ownStat  []uint32
	lastSec  []int64
	lastNsec []uint32
	lastEdge []int32
	leakOff  []uint32
	leak     []int32
	sorted   []uint32
	from, to []int32

	// Nodes, read in place.
	sources []uint32 // string ids of Index.Sources
	nnodes  int
	nodes   []uint32 // nnodes*nodeCols string ids and map offsets
	tsec    []int64  // nnodes*nodeTime
	tnsec   []uint32
	byKind  map[Kind][]int32
}

func (s *snapData) ekind(ei int32) EdgeKind { return EdgeKind(s.str(s.edges[int(ei)*edgeCols+2])) }

func (s *snapData) nodeStr(i int32, col int) string {
	return s.str(s.nodes[int(i)*nodeCols+col])
}

// mapGet looks key up in the map at off without decoding it.
func (s *snapData) mapGet(off uint32, key string) (string, bool) {
	if off == nilMap {
		return "", false
	}
	n := s.maps[off]
	for i := uint32(0); i < n; i++ {
		if s.str(s.maps[off+1+2*i]) == key {
			return s.str(s.maps[off+2+2*i]), true
		}
	}
	return "", false
}

// node decodes node i.
func (s *snapData) node(i int32) Node {
	r := s.nodes[int(i)*nodeCols : int(i+1)*nodeCols]
	t := s.tsec[int(i)*nodeTime : int(i+1)*nodeTime]
	tn := s.tnsec[int(i)*nodeTime : int(i+1)*nodeTime]
	return Node{ID: s.str(r[0]), Kind: Kind(s.str(r[1])), Source: s.str(r[2]), Name: s.str(r[3]),
		Subtype: s.str(r[4]), Status: s.str(r[5]), Tags: s.strMap(r[6]), Attrs: s.strMap(r[7]),
		CreatedAt: snapTime(t[0], tn[0]), LastUsedAt: snapTime(t[1], tn[1]),
		RotatedAt: snapTime(t[2], tn[2]), ExpiresAt: snapTime(t[3], tn[3])}
}

func (s *snapData) str(id uint32) string {
	a, b := s.strOff[id], s.strOff[id+1]
	if a == b {
		return ""
	}
	return unsafe.String(&s.strBlob[a], int(b-a))
}

func (s *snapData) strMap(off uint32) map[string]string {
	if off == nilMap {
		return nil
	}
	n := s.maps[off]
	m := make(map[string]string, n)
	for i := uint32(0); i < n; i++ {
		m[s.str(s.maps[off+1+2*i])] = s.str(s.maps[off+2+2*i])
	}
	return m
}

func csr(off []uint32, data []int32, i int32) []int32 {
	a, b := off[i], off[i+1]
	if a == b {
		return nil
	}
	// Full slice expression: an append by a caller must copy, never
	// write into the read-only mapping.
	return data[a:b:b]
}

func snapTime(sec int64, nsec uint32) time.Time {
	if sec == zeroSec && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

var zeroSec = time.Time{}.Unix()

func timeParts(t time.Time) (int64, uint32) {
	if t.IsZero() {
		return zeroSec, 0
	}
	return t.Unix(), uint32(t.Nanosecond())
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// asBytes is the little-endian bytes of a column, without a copy (the
// host is little endian; OpenSnapshot refuses big-endian hosts).
func asBytes[T uint32 | int32 | int64](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*int(unsafe.Sizeof(z)))
}

// WriteSnapshot writes the index as a snapshot tagged with tag. The
// columns are written as they are held: writing copies nothing.
func (ix *Index) WriteSnapshot(out io.Writer, tag SnapshotTag) error {
	s := ix.snap
	n, m := ix.NumNodes(), ix.NumEdges()
	if uint64(n) >= uint64(nilMap) || uint64(m) >= uint64(nilMap) || uint64(len(s.maps)) >= uint64(nilMap) {
		return fmt.Errorf("graph: snapshot: %d nodes, %d edges: too many", n, m)
	}
	if !littleEndian {
		return fmt.Errorf("graph: snapshot: big-endian host")
	}
	var kidx []uint32
	var byKind []int32
	kinds := slices.Sorted(maps.Keys(s.byKind))
	for _, k := range kinds {
		if len(s.byKind[k]) == 0 {
			continue
		}
		byKind = append(byKind, s.byKind[k]...)
		kidx = append(kidx, s.nodes[int(s.byKind[k][0])*nodeCols+1], uint32(len(byKind)))
	}
	secs := make([][]byte, numSections)
	secs[secStrOff], secs[secStrBlob] = asBytes(s.strOff), s.strBlob
	secs[secSources] = asBytes(s.sources)
	secs[secNodes], secs[secNodeSec], secs[secNodeNsec] = asBytes(s.nodes), asBytes(s.tsec), asBytes(s.tnsec)
	secs[secEdges], secs[secEdgeSec], secs[secEdgeNsec] = asBytes(s.edges), asBytes(s.edgeSec), asBytes(s.edgeNsec)
	secs[secMaps] = asBytes(s.maps)
	secs[secOutOff], secs[secOut] = asBytes(s.outOff), asBytes(s.out)
	secs[secInOff], secs[secIn] = asBytes(s.inOff), asBytes(s.in)
	secs[secPriv], secs[secPrivPathOff], secs[secPrivPath] = asBytes(s.priv), asBytes(s.ppOff), asBytes(s.pp)
	secs[secOwnOff], secs[secOwn], secs[secOwnStat] = asBytes(s.ownOff), asBytes(s.own), asBytes(s.ownStat)
	secs[secLastSec], secs[secLastNsec], secs[secLastEdge] = asBytes(s.lastSec), asBytes(s.lastNsec), asBytes(s.lastEdge)
	secs[secLeakOff], secs[secLeak] = asBytes(s.leakOff), asBytes(s.leak)
	secs[secSorted] = asBytes(s.sorted)
	secs[secEdgeFrom], secs[secEdgeTo] = asBytes(s.from), asBytes(s.to)
	secs[secKindIdx], secs[secByKind] = asBytes(kidx), asBytes(byKind)

	// Header, key and section table, then the sections, all 8-aligned.
	head := make([]byte, 32, 64+len(tag.Key)+16*numSections)
	copy(head, snapMagic)
	binary.LittleEndian.PutUint32(head[8:], SnapshotVersion)
	binary.LittleEndian.PutUint64(head[16:], uint64(tag.Generation))
	binary.LittleEndian.PutUint32(head[24:], uint32(len(tag.Key)))
	binary.LittleEndian.PutUint32(head[28:], numSections)
	head = append(head, tag.Key...)
	head = pad8(head)
	pos := uint64(len(head) + 16*numSections)
	for _, sec := range secs {
		head = binary.LittleEndian.AppendUint64(head, pos)
		head = binary.LittleEndian.AppendUint64(head, uint64(len(sec)))
		pos += uint64(len(sec)+7) &^ 7
	}
	crc := crc32.New(castagnoli)
	crc.Write(head[16:])
	var zeros [8]byte
	for _, sec := range secs {
		crc.Write(sec)
		crc.Write(zeros[:padLen(len(sec))])
	}
	binary.LittleEndian.PutUint32(head[12:], crc.Sum32())
	if _, err := out.Write(head); err != nil {
		return fmt.Errorf("graph: write snapshot: %w", err)
	}
	for _, sec := range secs {
		if _, err := out.Write(sec); err != nil {
			return fmt.Errorf("graph: write snapshot: %w", err)
		}
		if _, err := out.Write(zeros[:padLen(len(sec))]); err != nil {
			return fmt.Errorf("graph: write snapshot: %w", err)
		}
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func padLen(n int) int { return (8 - n%8) % 8 }

func pad8(b []byte) []byte {
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// ReadSnapshotTag returns the tag of the snapshot in data, checking only
// the header (cheap; Open verifies the checksum).
func ReadSnapshotTag(data []byte) (SnapshotTag, error) {
	if len(data) < 32 || string(data[:8]) != snapMagic {
		return SnapshotTag{}, fmt.Errorf("%w: not a snapshot", ErrSnapshot)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != SnapshotVersion {
		return SnapshotTag{}, fmt.Errorf("%w: version %d, want %d", ErrSnapshot, v, SnapshotVersion)
	}
	kl := int(binary.LittleEndian.Uint32(data[24:]))
	if 32+kl > len(data) {
		return SnapshotTag{}, fmt.Errorf("%w: truncated header", ErrSnapshot)
	}
	return SnapshotTag{Generation: int64(binary.LittleEndian.Uint64(data[16:])), Key: string(data[32 : 32+kl])}, nil
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// OpenSnapshot opens the snapshot in data (typically a read-only memory
// map, which must stay mapped for as long as the index is used). Nodes,
// edges, adjacency and derived facts are all read in place.
func OpenSnapshot(data []byte) (*Index, SnapshotTag, error) {
	tag, err := ReadSnapshotTag(data)
	if err != nil {
		return nil, tag, err
	}
	if !littleEndian {
		return nil, tag, fmt.Errorf("%w: big-endian host", ErrSnapshot)
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(data)))%8 != 0 {
		// A heap copy that is not 8-aligned: realign once.
		c := make([]uint64, (len(data)+7)/8)
		cb := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(c))), len(data))
		copy(cb, data)
		data = cb
	}
	// The checksum and the structural checks each read the whole file;
	// they run side by side, and a checksum mismatch is reported first.
	crcOK := make(chan bool, 1)
	go func() { crcOK <- crc32.Checksum(data[16:], castagnoli) == binary.LittleEndian.Uint32(data[12:]) }()
	ix, err := openSections(data, tag)
	if !<-crcOK {
		return nil, tag, fmt.Errorf("%w: checksum mismatch", ErrSnapshot)
	}
	if err != nil {
		return nil, tag, err
	}
	return ix, tag, nil
}

// openSections lays the typed views over a snapshot's sections and checks
// every reference the accessors follow.
func openSections(data []byte, tag SnapshotTag) (*Index, error) {
	nsec := int(binary.LittleEndian.Uint32(data[28:]))
	if nsec != numSections {
		return nil, fmt.Errorf("%w: %d sections, want %d", ErrSnapshot, nsec, numSections)
	}
	tbl := (32 + len(tag.Key) + 7) &^ 7
	if tbl+16*nsec > len(data) {
		return nil, fmt.Errorf("%w: truncated section table", ErrSnapshot)
	}
	raw := make([][]byte, nsec)
	for i := range raw {
		off := binary.LittleEndian.Uint64(data[tbl+16*i:])
		ln := binary.LittleEndian.Uint64(data[tbl+16*i+8:])
		if off%8 != 0 || off > uint64(len(data)) || ln > uint64(len(data))-off {
			return nil, fmt.Errorf("%w: section %d out of bounds", ErrSnapshot, i)
		}
		raw[i] = data[off : off+ln]
	}
	s := &snapData{buf: data, strBlob: raw[secStrBlob]}
	u32 := func(i int) []uint32 { return castSlice[uint32](raw[i]) }
	i32 := func(i int) []int32 { return castSlice[int32](raw[i]) }
	i64 := func(i int) []int64 { return castSlice[int64](raw[i]) }
	s.strOff = u32(secStrOff)
	s.edges, s.edgeSec, s.edgeNsec = u32(secEdges), i64(secEdgeSec), u32(secEdgeNsec)
	s.maps = u32(secMaps)
	s.outOff, s.out, s.inOff, s.in = u32(secOutOff), i32(secOut), u32(secInOff), i32(secIn)
	s.priv, s.ppOff, s.pp = u32(secPriv), u32(secPrivPathOff), i32(secPrivPath)
	s.ownOff, s.own, s.ownStat = u32(secOwnOff), i32(secOwn), u32(secOwnStat)
	s.lastSec, s.lastNsec, s.lastEdge = i64(secLastSec), u32(secLastNsec), i32(secLastEdge)
	s.leakOff, s.leak, s.sorted = u32(secLeakOff), i32(secLeak), u32(secSorted)
	s.from, s.to = i32(secEdgeFrom), i32(secEdgeTo)
	s.nodes, s.tsec, s.tnsec = u32(secNodes), i64(secNodeSec), u32(secNodeNsec)
	n := len(s.nodes) / nodeCols
	m := len(s.edges) / edgeCols
	s.nnodes = n
	if err := s.check(s.nodes, n, m, len(s.tsec), len(s.tnsec)); err != nil {
		return nil, err
	}
	if err := s.openKinds(u32(secKindIdx), i32(secByKind)); err != nil {
		return nil, err
	}
	ix := &Index{snap: s, nedges: m, opened: true}
	s.sources = u32(secSources)
	for _, id := range s.sources {
		if int(id)+1 >= len(s.strOff) {
			return nil, fmt.Errorf("%w: bad source string", ErrSnapshot)
		}
		ix.Sources = append(ix.Sources, s.str(id))
	}
	return ix, nil
}

// check validates what the accessors index without further checks, so a
// snapshot that passed its checksum but was written wrongly fails here
// rather than with a panic mid-question.
func (s *snapData) check(nodes []uint32, n, m, tsec, tnsec int) error {
	nstr := uint32(len(s.strOff) - 1)
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrSnapshot, what) }
	if len(s.strOff) == 0 || int(s.strOff[nstr]) != len(s.strBlob) {
		return bad("string table")
	}
	for i := uint32(0); i < nstr; i++ {
		if s.strOff[i] > s.strOff[i+1] {
			return bad("string offsets")
		}
	}
	if tsec != n*nodeTime || tnsec != n*nodeTime || len(s.edgeSec) != m || len(s.edgeNsec) != m {
		return bad("time columns")
	}
	for _, c := range [][]uint32{s.priv, s.ownStat, s.sorted} {
		if len(c) != n {
			return bad("node columns")
		}
	}
	if len(s.lastSec) != n || len(s.lastNsec) != n || len(s.lastEdge) != n {
		return bad("last-use columns")
	}
	for _, c := range []struct {
		off  []uint32
		data []int32
		max  int
	}{{s.outOff, s.out, m}, {s.inOff, s.in, m}, {s.ppOff, s.pp, m}, {s.ownOff, s.own, m}, {s.leakOff, s.leak, m}} {
		if len(c.off) != n+1 || int(c.off[n]) != len(c.data) {
			return bad("adjacency")
		}
		for i := 0; i < n; i++ {
			if c.off[i] > c.off[i+1] {
				return bad("adjacency offsets")
			}
		}
		for _, v := range c.data {
			if v < 0 || int(v) >= c.max {
				return bad("edge reference")
			}
		}
	}
	for _, v := range s.lastEdge {
		if v < -1 || int(v) >= m {
			return bad("last-use edge")
		}
	}
	for _, v := range s.sorted {
		if int(v) >= n {
			return bad("id order")
		}
	}
	if len(s.from) != m || len(s.to) != m {
		return bad("edge ends")
	}
	for _, c := range [][]int32{s.from, s.to} {
		for _, v := range c {
			if v < -1 || int(v) >= n {
				return bad("edge end")
			}
		}
	}
	// Every string reference in rows and maps.
	for _, col := range [][]uint32{s.priv, s.ownStat} {
		for _, v := range col {
			if v >= nstr {
				return bad("string reference")
			}
		}
	}
	for i := 0; i < n; i++ {
		r := nodes[i*nodeCols : (i+1)*nodeCols]
		for c := 0; c < 6; c++ {
			if r[c] >= nstr {
				return bad("node string reference")
			}
		}
		for _, mo := range r[6:8] {
			if mo != nilMap && !s.mapOK(mo, nstr) {
				return bad("node map")
			}
		}
	}
	for e := 0; e < m; e++ {
		r := s.edges[e*edgeCols : (e+1)*edgeCols]
		for c := 0; c < 7; c++ {
			if r[c] >= nstr {
				return bad("edge string reference")
			}
		}
		if r[8] != nilMap && !s.mapOK(r[8], nstr) {
			return bad("edge attrs")
		}
	}
	return nil
}

func (s *snapData) mapOK(off, nstr uint32) bool {
	if uint64(off) >= uint64(len(s.maps)) {
		return false
	}
	cnt := uint64(s.maps[off])
	if uint64(off)+1+2*cnt > uint64(len(s.maps)) {
		return false
	}
	for _, v := range s.maps[off+1 : uint64(off)+1+2*cnt] {
		if v >= nstr {
			return false
		}
	}
	return true
}

func castSlice[T any](b []byte) []T {
	var z T
	sz := int(unsafe.Sizeof(z))
	if len(b) < sz {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/sz)
}

// snapEdge decodes edge ei.
func (s *snapData) edge(ei int32) *Edge {
	r := s.edges[int(ei)*edgeCols : int(ei+1)*edgeCols]
	return &Edge{From: s.str(r[0]), To: s.str(r[1]), Kind: EdgeKind(s.str(r[2])), Action: s.str(r[3]),
		Resource: s.str(r[4]), Effect: s.str(r[5]), Privilege: Privilege(s.str(r[6])), Conditional: r[7] == 1,
		LastSeen: snapTime(s.edgeSec[ei], s.edgeNsec[ei]), Attrs: s.strMap(r[8])}
}

func (s *snapData) lookup(id string) (int32, bool) {
	k := sort.Search(len(s.sorted), func(i int) bool { return s.nodeStr(int32(s.sorted[i]), 0) >= id })
	if k < len(s.sorted) && s.nodeStr(int32(s.sorted[k]), 0) == id {
		return int32(s.sorted[k]), true
	}
	return 0, false
}

// openKinds reads the per-kind node lists, checking every reference.
func (s *snapData) openKinds(idx []uint32, nodes []int32) error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrSnapshot, what) }
	if len(idx)%2 != 0 || len(nodes) != s.nnodes {
		return bad("kind lists")
	}
	nstr := uint32(len(s.strOff) - 1)
	s.byKind = make(map[Kind][]int32, len(idx)/2)
	start := uint32(0)
	for p := 0; p < len(idx); p += 2 {
		k, end := idx[p], idx[p+1]
		if k >= nstr || end < start || int(end) > len(nodes) {
			return bad("kind index")
		}
		kind := Kind(s.str(k))
		list := nodes[start:end:end]
		for _, v := range list {
			if v < 0 || int(v) >= s.nnodes || s.nodeStr(v, 1) != string(kind) {
				return bad("kind list entry")
			}
		}
		s.byKind[kind] = list
		start = end
	}
	if int(start) != len(nodes) {
		return bad("kind lists")
	}
	return nil
}
