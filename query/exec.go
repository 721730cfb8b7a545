package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/findings/escalation"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/sources"
	"github.com/steward-oss/steward/internal/glob"
)

// DefaultKinds are the kinds a plan selects when it names none: the
// non-human identities themselves (credentials are asked for by kind).
var DefaultKinds = []graph.Kind{graph.KindServiceAccount, graph.KindOAuthApp, graph.KindBot, graph.KindAIAgent, graph.KindWorkload}

// IsFinding reports whether n is a secret-scanner finding rather than a
// live credential: its source registered as a scanner (sources.Source.
// Finding), whose credential-shaped records are evidence about other
// credentials, never identities themselves.
func IsFinding(n *graph.Node) bool { return IsFindingSource(n.Source) }

// IsFindingSource reports whether nodes of source are secret-scanner
// findings (IsFinding without the node).
func IsFindingSource(source string) bool { return sources.IsFinding(graph.SourceType(source)) }

// EdgeRef is one edge of evidence, in the export format's shape.
type EdgeRef struct {
	From  string         `json:"from"`
	To    string         `json:"to"`
	Kind  graph.EdgeKind `json:"kind"`
	Props map[string]any `json:"props,omitempty"`
}

// Result is the answer to a plan.
type Result struct {
	Plan    *Plan    `json:"plan"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Evidence[i] justifies Rows[i]: the edges that make the row true.
	Evidence [][]EdgeRef `json:"evidence"`
	// Total is the number of matching rows before Limit.
	Total int `json:"total"`
	// IDs are the node ids of the rows (for follow-ups and proposals),
	// empty for grouped results.
	IDs []string `json:"-"`
}

// ErrNotFound is returned when a plan names an entity the graph lacks.
var ErrNotFound = errors.New("not found")

// EntityError is returned when a named entity does not resolve; Suggestions
// holds close names ("did you mean").
type EntityError struct {
	Name        string
	Suggestions []string
}

func (e *EntityError) Error() string {
	if len(e.Suggestions) == 0 {
		return fmt.Sprintf("query: no identity named %q", e.Name)
	}
	return fmt.Sprintf("query: no identity named %q; did you mean %s?", e.Name, strings.Join(e.Suggestions, ", "))
}

func (e *EntityError) Unwrap() error { return ErrNotFound }

// Execute validates and runs p over ix. now is used when p.Now is zero.
func Execute(ctx context.Context, ix *graph.Index, p *Plan, now time.Time) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Changes != nil {
		return nil, &FieldError{"changes", "a change plan reads the change history, not the graph: run it with the list_changes tool (steward ask, chat)"}
	}
	if !p.Now.IsZero() {
		now = p.Now
	}
	ex := &executor{ix: ix, p: p, now: now.UTC()}
	var err error
	switch {
	case p.Reach != nil:
		err = ex.reach(ctx)
	case p.WhoCan != nil:
		err = ex.whoCan(ctx)
	default:
		err = ex.find(ctx)
	}
	if err != nil {
		return nil, err
	}
	return ex.finish(), nil
}

type row struct {
	node     int32
	vals     map[string]any
	evidence []int32
	lazy     bool // evidence not gathered yet
}

type executor struct {
	ix      *graph.Index
	p       *Plan
	now     time.Time
	columns []string
	rows    []row
	grouped bool

	// Nodes are grouped by source, so the last source's finding verdict
	// answers most lookups without a map.
	lastSrc     string
	lastFinding bool
}

func (ex *executor) isFindingSource(src string) bool {
	if src != ex.lastSrc || ex.lastSrc == "" {
		ex.lastSrc, ex.lastFinding = src, IsFindingSource(src)
	}
	return ex.lastFinding
}

func (ex *executor) inScope(i int32) bool {
	kind, src := ex.ix.NodeKind(i), ex.ix.NodeSource(i)
	kinds := ex.p.Kinds
	if len(kinds) == 0 {
		kinds = DefaultKinds
	}
	ok := false
	for _, k := range kinds {
		if kind == k {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	if len(ex.p.Sources) > 0 {
		ok = false
		for _, s := range ex.p.Sources {
			if src == s || graph.SourceType(src) == s {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	} else if ex.isFindingSource(src) {
		return false
	}
	for _, f := range ex.p.Filters {
		if !ex.match(i, &f) {
			return false
		}
	}
	return true
}

func (ex *executor) candidates() []int32 {
	if len(ex.p.IDs) > 0 {
		out := make([]int32, 0, len(ex.p.IDs))
		for _, id := range ex.p.IDs {
			if i, ok := ex.ix.Lookup(id); ok {
				out = append(out, i)
			}
		}
		return out
	}
	// Only the nodes of the kinds in scope, in node order: a question
	// over identities never visits credentials and resources.
	kinds := ex.p.Kinds
	if len(kinds) == 0 {
		kinds = DefaultKinds
	}
	var lists [][]int32
	total := 0
	seen := map[graph.Kind]bool{}
	for _, k := range kinds {
		if l := ex.ix.NodesOfKind(k); len(l) > 0 && !seen[k] {
			seen[k] = true
			lists = append(lists, l)
			total += len(l)
		}
	}
	if len(lists) == 1 {
		return lists[0]
	}
	out := make([]int32, 0, total)
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return out
}

func (ex *executor) find(ctx context.Context) error {
	var matched []int32 // for grouping: no rows are built
	for n, i := range ex.candidates() {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if !ex.inScope(i) {
			continue
		}
		if len(ex.p.GroupBy) > 0 {
			matched = append(matched, i)
			continue
		}
		// Evidence is gathered in finish, for the rows that survive the
		// limit only.
		ex.rows = append(ex.rows, row{node: i, lazy: true})
	}
	ex.columns = ex.findColumns()
	if len(ex.p.GroupBy) > 0 {
		ex.groupNodes(matched)
	}
	return nil
}

// evidence gathers the edges behind the facts a row shows: the path to its
// strongest grant, its owners, its latest use and leak findings.
func (ex *executor) evidence(i int32) []int32 {
	var ev []int32
	if p, path := ex.ix.Privilege(i); p != graph.PrivNone {
		ev = append(ev, path...)
	}
	owners, _ := ex.ix.Owners(i)
	ev = append(ev, owners...)
	if _, e := ex.ix.LastUsed(i); e >= 0 {
		ev = append(ev, e)
	}
	ev = append(ev, ex.ix.Leaks(i)...)
	if ex.filters("admin_via_escalation") {
		if ok, path := escalation.Of(ex.ix).Admin(i); ok {
			ev = append(ev, path...)
		}
	}
	return dedup(ev)
}

// filters reports whether the plan filters on field.
func (ex *executor) filters(field string) bool {
	for _, f := range ex.p.Filters {
		if f.Field == field {
			return true
		}
	}
	return false
}

func dedup(ev []int32) []int32 {
	seen := make(map[int32]bool, len(ev))
	out := ev[:0]
	for _, e := range ev {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

func (ex *executor) findColumns() []string {
	cols := []string{"id", "name", "kind", "source", "privilege", "owner", "owner_status", "last_used_at"}
	extra := map[string]string{"age_days": "created_at", "rotated_days": "rotated_at", "expires_in_days": "expires_at",
		"idle_days": "idle_days", "leaked": "leaked", "team": "team", "status": "status", "subtype": "subtype"}
	seen := map[string]bool{}
	for _, c := range cols {
		seen[c] = true
	}
	for _, f := range ex.p.Filters {
		if c, ok := extra[f.Field]; ok && !seen[c] {
			cols = append(cols, c)
			seen[c] = true
		}
		if f.Field == "idle_days" && !seen["created_at"] {
			cols = append(cols, "created_at")
			seen["created_at"] = true
		}
	}
	for _, k := range ex.p.Kinds {
		if k == graph.KindCredential && !seen["subtype"] {
			cols = append(cols, "subtype")
			seen["subtype"] = true
		}
	}
	return cols
}

// value returns the value of field for node i, and whether it has one.
func (ex *executor) value(i int32, field string) (any, bool) {
	ix := ex.ix
	if x, present, ok := ex.number(i, field); ok {
		return x, present
	}
	switch field {
	case "id":
		return ix.NodeID(i), true
	case "name":
		return ix.NodeName(i), true
	case "kind":
		return string(ix.NodeKind(i)), true
	case "subtype":
		s := ix.NodeSubtype(i)
		return s, s != ""
	case "source":
		return ix.NodeSource(i), true
	case "source_type":
		return graph.SourceType(ix.NodeSource(i)), true
	case "status":
		s := ix.NodeStatus(i)
		return s, s != ""
	case "privilege":
		p, _ := ex.ix.Privilege(i)
		return string(p), true
	case "owner":
		s := ex.ownerEmails(i)
		return s, s != ""
	case "owner_status":
		_, st := ex.ix.Owners(i)
		return string(st), true
	case "team":
		s := ex.team(i)
		return s, s != ""
	case "account":
		s := ex.account(i)
		return s, s != ""
	case "environment":
		s := ex.environment(i)
		return s, s != ""
	case "never_used":
		last, _ := ex.ix.LastUsed(i)
		return last.IsZero(), true
	case "leaked":
		return len(ex.ix.Leaks(i)) > 0 && !IsFindingSource(ix.NodeSource(i)), true
	case "nhi":
		return ix.NodeKind(i).IsNHI(), true
	case "admin_via_escalation":
		ok, _ := escalation.Of(ex.ix).Admin(i)
		return ok, true
	case "last_used_at":
		last, _ := ex.ix.LastUsed(i)
		return ts(last), !last.IsZero()
	case "created_at":
		t := ix.NodeCreatedAt(i)
		return ts(t), !t.IsZero()
	case "rotated_at":
		t := ix.NodeRotatedAt(i)
		return ts(t), !t.IsZero()
	case "expires_at":
		t := ix.NodeExpiresAt(i)
		return ts(t), !t.IsZero()
	}
	if k, ok := strings.CutPrefix(field, "tag:"); ok {
		return ix.NodeTag(i, k)
	}
	if k, ok := strings.CutPrefix(field, "attr:"); ok {
		return ix.NodeLookupAttr(i, k)
	}
	return nil, false
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (ex *executor) ownerEmails(i int32) string {
	owners, _ := ex.ix.Owners(i)
	var out []string
	for _, ei := range owners {
		if ex.ix.EdgeKind(ei) != graph.EdgeOwns {
			continue
		}
		h := ex.ix.EdgeFrom(ei)
		email := ex.ix.NodeAttr(h, graph.AttrEmail)
		if email == "" {
			email = strings.TrimPrefix(ex.ix.NodeID(h), "human:")
		}
		out = append(out, email)
	}
	return strings.Join(out, ",")
}

func (ex *executor) team(i int32) string {
	if t, _ := ex.ix.NodeTag(i, "team"); t != "" {
		return t
	}
	owners, _ := ex.ix.Owners(i)
	for _, ei := range owners {
		if ex.ix.EdgeKind(ei) != graph.EdgeOwns {
			continue
		}
		if t := ex.ix.NodeAttr(ex.ix.EdgeFrom(ei), graph.AttrTeam); t != "" {
			return t
		}
	}
	return ""
}

func (ex *executor) account(i int32) string {
	if ei := ex.accountEdge(i); ei >= 0 {
		return ex.ix.Edge(ei).To
	}
	return ""
}

// accountEdge is node i's first in_account edge, -1 when it has none.
func (ex *executor) accountEdge(i int32) int32 {
	for _, ei := range ex.ix.Out(i) {
		if ex.ix.EdgeKind(ei) == graph.EdgeInAccount {
			return ei
		}
	}
	return -1
}

func (ex *executor) environment(i int32) string {
	if v := ex.nodeEnvironment(i); v != "" {
		return v
	}
	if ei := ex.accountEdge(i); ei >= 0 && ex.ix.EdgeTo(ei) >= 0 && ex.ix.EdgeTo(ei) != i {
		return ex.nodeEnvironment(ex.ix.EdgeTo(ei))
	}
	return ""
}

// nodeEnvironment is the environment node i names itself, lower-case.
func (ex *executor) nodeEnvironment(i int32) string {
	if v := ex.ix.NodeAttr(i, graph.AttrEnvironment); v != "" {
		return strings.ToLower(v)
	}
	for _, k := range []string{"environment", "env"} {
		if v, _ := ex.ix.NodeTag(i, k); v != "" {
			return strings.ToLower(v)
		}
	}
	return ""
}

// number is value for the numeric fields, unboxed: filters over a
// million identities should not allocate per node.
func (ex *executor) number(i int32, field string) (x float64, present, ok bool) {
	ix := ex.ix
	days := func(t time.Time) float64 { return ex.now.Sub(t).Hours() / 24 }
	switch field {
	case "idle_days":
		last, _ := ix.LastUsed(i)
		if c := ix.NodeCreatedAt(i); c.After(last) {
			last = c
		}
		if last.IsZero() {
			return math.MaxFloat64, true, true // never used, creation unknown: no evidence of any use
		}
		return days(last), true, true
	case "last_used_days":
		last, _ := ix.LastUsed(i)
		return days(last), !last.IsZero(), true
	case "age_days":
		c := ix.NodeCreatedAt(i)
		return days(c), !c.IsZero(), true
	case "rotated_days":
		t := ix.NodeRotatedAt(i)
		if t.IsZero() {
			t = ix.NodeCreatedAt(i)
		}
		return days(t), !t.IsZero(), true
	case "expires_in_days":
		t := ix.NodeExpiresAt(i)
		return -days(t), !t.IsZero(), true
	}
	return 0, false, false
}

func (ex *executor) match(i int32, f *Filter) bool {
	// Fast paths for the fields most questions filter on, same result
	// as the general path below.
	if f.Op != "exists" && f.Op != "not_exists" {
		if x, present, ok := ex.number(i, f.Field); ok {
			if !present {
				return f.Op == "ne" || f.Op == "not_in"
			}
			return matchNumber(x, f)
		}
		if f.Field == "privilege" {
			p, _ := ex.ix.Privilege(i)
			return matchPrivilege(p.Rank(), f)
		}
	}
	v, present := ex.value(i, f.Field)
	switch f.Op {
	case "exists":
		return present
	case "not_exists":
		return !present
	}
	t, _ := fieldTypeOf(f.Field)
	if !present {
		// Absent values match only negative tests.
		return f.Op == "ne" || f.Op == "not_in"
	}
	switch t {
	case tNumber:
		return matchNumber(v.(float64), f)
	case tBool:
		b, _ := f.Value.(bool)
		return v.(bool) == b
	case tPrivilege:
		return matchPrivilege(graph.Privilege(v.(string)).Rank(), f)
	case tString:
		s := strings.ToLower(v.(string))
		want, _ := f.Value.(string)
		want = strings.ToLower(want)
		switch f.Op {
		case "eq":
			return s == want || (f.Field == "owner" && containsItem(s, want))
		case "ne":
			return s != want
		case "contains":
			return strings.Contains(s, want)
		case "prefix":
			return strings.HasPrefix(s, want)
		case "in", "not_in":
			hit := false
			for _, w := range f.Values {
				ws, _ := w.(string)
				if s == strings.ToLower(ws) {
					hit = true
				}
			}
			return hit == (f.Op == "in")
		}
	}
	return false
}

func matchNumber(x float64, f *Filter) bool {
	y, _ := toFloat(f.Value)
	switch f.Op {
	case "eq":
		return x == y
	case "ne":
		return x != y
	case "gt":
		return x > y
	case "gte":
		return x >= y
	case "lt":
		return x < y
	case "lte":
		return x <= y
	}
	return false
}

func matchPrivilege(r int, f *Filter) bool {
	if f.Op == "in" {
		for _, w := range f.Values {
			if s, _ := w.(string); graph.Privilege(s).Rank() == r {
				return true
			}
		}
		return false
	}
	y := graph.Privilege(f.Value.(string)).Rank()
	switch f.Op {
	case "eq":
		return r == y
	case "ne":
		return r != y
	case "gte":
		return r >= y
	case "lte":
		return r <= y
	}
	return false
}

func containsItem(list, item string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == item {
			return true
		}
	}
	return false
}

// Resolve finds the node a name refers to: an exact id, then an exact
// name among identities, then a unique case-insensitive name. Ambiguity or
// absence is an *EntityError with suggestions.
func Resolve(ix *graph.Index, name string) (int32, error) {
	if i, ok := ix.Lookup(name); ok {
		return i, nil
	}
	low := strings.ToLower(name)
	var exact []int32
	for i := range int32(ix.NumNodes()) {
		if k := ix.NodeKind(i); !(k.IsIdentity() || k == graph.KindCredential || k == graph.KindRole || k == graph.KindGroup) {
			continue
		}
		// An ASCII name lower-cases to its own length: most names are
		// rejected here without building their lower-case copy.
		if nm := ix.NodeName(i); (len(nm) == len(low) || !isASCII(nm)) && strings.ToLower(nm) == low {
			exact = append(exact, int32(i))
		}
	}
	if len(exact) == 1 {
		return exact[0], nil
	}
	if len(exact) > 1 {
		var ids []string
		for _, i := range exact {
			ids = append(ids, ix.NodeID(i))
		}
		sort.Strings(ids)
		if len(ids) > 5 {
			ids = ids[:5]
		}
		return -1, &EntityError{Name: name, Suggestions: ids}
	}
	return -1, &EntityError{Name: name, Suggestions: Suggest(ix, name, 3)}
}

// Suggest returns up to k identity names closest to name by edit distance.
func Suggest(ix *graph.Index, name string, k int) []string {
	type cand struct {
		name string
		d    int
	}
	low := strings.ToLower(name)
	best := map[string]int{}
	for i := range int32(ix.NumNodes()) {
		if k := ix.NodeKind(i); !(k.IsIdentity() || k == graph.KindRole || k == graph.KindGroup) {
			continue
		}
		name := ix.NodeName(i)
		nl := strings.ToLower(name)
		d := Levenshtein(low, nl)
		if strings.Contains(nl, low) || strings.Contains(low, nl) {
			d = min(d, 1+abs(len(nl)-len(low))/4)
		}
		if d <= max(2, len(low)/3) {
			if old, ok := best[name]; !ok || d < old {
				best[name] = d
			}
		}
	}
	var cs []cand
	for n, d := range best {
		cs = append(cs, cand{n, d})
	}
	sort.Slice(cs, func(a, b int) bool {
		if cs[a].d != cs[b].d {
			return cs[a].d < cs[b].d
		}
		return cs[a].name < cs[b].name
	})
	var out []string
	for i := 0; i < len(cs) && i < k; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Levenshtein is the edit distance between a and b.
func Levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// globMatch matches s against an IAM-style pattern (internal/glob: '*'
// and '?', '[' literal). A question's case carries no meaning, so query
// folds case even for resources.
func globMatch(pattern, s string) bool { return glob.Match(pattern, s, true) }

// cell is the displayed value of column c for r: a value the walk
// recorded, else the node's field.
func (ex *executor) cell(r *row, c string) any {
	if v, ok := r.vals[c]; ok {
		return v
	}
	if r.node < 0 {
		return ""
	}
	v, ok := ex.value(r.node, c)
	if !ok {
		return ""
	}
	if c == "idle_days" {
		if f, isF := v.(float64); isF {
			if f == math.MaxFloat64 {
				return "never"
			}
			return math.Floor(f)
		}
	}
	return v
}

func (ex *executor) finish() *Result {
	res := &Result{Plan: ex.p}
	if len(ex.p.GroupBy) > 0 && !ex.grouped {
		ex.group()
	}
	sorts := ex.p.Sort
	if len(sorts) == 0 {
		if ex.grouped {
			sorts = []Sort{{Field: "count", Desc: true}}
		} else {
			sorts = []Sort{{Field: ex.columns[0]}}
		}
	}
	// Sort on keys computed once per row; the other cells are filled for
	// the rows that survive the limit only.
	keys := make([][]any, len(ex.rows))
	for ri := range ex.rows {
		k := make([]any, len(sorts)+1)
		for si, s := range sorts {
			k[si] = ex.cell(&ex.rows[ri], s.Field)
		}
		k[len(sorts)] = ex.cell(&ex.rows[ri], ex.columns[0])
		keys[ri] = k
	}
	// Rows compare by the sort keys, then the first column, then their
	// position: a total order, so selecting the first Limit rows gives
	// exactly what a stable sort of every row would.
	cmpRows := func(a, b int) int {
		ka, kb := keys[a], keys[b]
		for si, s := range sorts {
			if c := compare(ka[si], kb[si]); c != 0 {
				if s.Desc {
					return -c
				}
				return c
			}
		}
		if c := compare(ka[len(sorts)], kb[len(sorts)]); c != 0 {
			return c
		}
		return a - b
	}
	res.Total = len(ex.rows)
	order := firstRows(len(ex.rows), ex.p.Limit, cmpRows)
	res.Columns = ex.columns
	res.Rows = make([][]any, len(order))
	res.Evidence = make([][]EdgeRef, len(order))
	for oi, ri := range order {
		r := &ex.rows[ri]
		if r.lazy {
			r.evidence = ex.evidence(r.node)
		}
		vals := make([]any, len(ex.columns))
		for ci, c := range ex.columns {
			vals[ci] = ex.cell(r, c)
		}
		res.Rows[oi] = vals
		res.Evidence[oi] = make([]EdgeRef, 0, len(r.evidence))
		for _, ei := range r.evidence {
			res.Evidence[oi] = append(res.Evidence[oi], Ref(ex.ix.Edge(ei)))
		}
		if !ex.grouped && r.node >= 0 {
			res.IDs = append(res.IDs, ex.ix.NodeID(r.node))
		}
	}
	return res
}

// firstRows returns the k smallest of rows 0..n-1 under cmp, in order,
// keeping a bounded heap so a question matching 300k identities does
// not sort them all to show 200.
func firstRows(n, k int, cmp func(a, b int) int) []int {
	if k > n {
		k = n
	}
	if k <= 0 {
		return nil
	}
	h := make([]int, 0, k) // max-heap under cmp
	down := func(i int) {
		for {
			l, big := 2*i+1, i
			if l < len(h) && cmp(h[l], h[big]) > 0 {
				big = l
			}
			if r := l + 1; r < len(h) && cmp(h[r], h[big]) > 0 {
				big = r
			}
			if big == i {
				return
			}
			h[i], h[big] = h[big], h[i]
			i = big
		}
	}
	for r := 0; r < n; r++ {
		if len(h) < k {
			h = append(h, r)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if cmp(h[i], h[p]) <= 0 {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		if cmp(r, h[0]) < 0 {
			h[0] = r
			down(0)
		}
	}
	slices.SortFunc(h, cmp)
	return h
}

func compare(a, b any) int {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	case int:
		if y, ok := b.(int); ok {
			return x - y
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// group replaces the rows by one row per distinct value of the group-by
// fields, with a count.
func (ex *executor) group() {
	nodes := make([]int32, len(ex.rows))
	for i, r := range ex.rows {
		nodes[i] = r.node
	}
	ex.groupNodes(nodes)
}

func (ex *executor) groupNodes(nodes []int32) {
	type agg struct {
		key   []string
		count int
	}
	groups := map[string]*agg{}
	var order []string
	key := make([]string, len(ex.p.GroupBy))
	for _, n := range nodes {
		for gi, g := range ex.p.GroupBy {
			v, ok := ex.value(n, g)
			switch s, isStr := v.(string); {
			case !ok:
				key[gi] = "(none)"
			case isStr:
				key[gi] = s
			default:
				key[gi] = fmt.Sprint(v)
			}
		}
		k := key[0]
		if len(key) > 1 {
			k = strings.Join(key, "\x00")
		}
		a, ok := groups[k]
		if !ok {
			a = &agg{key: append([]string(nil), key...)}
			groups[k] = a
			order = append(order, k)
		}
		a.count++
	}
	ex.rows = ex.rows[:0]
	for _, k := range order {
		a := groups[k]
		vals := map[string]any{"count": float64(a.count)}
		for gi, g := range ex.p.GroupBy {
			vals[g] = a.key[gi]
		}
		ex.rows = append(ex.rows, row{node: -1, vals: vals})
	}
	ex.columns = append(append([]string(nil), ex.p.GroupBy...), "count")
	ex.grouped = true
}

// Ref renders an edge as evidence, with the same props the export writes.
func Ref(e *graph.Edge) EdgeRef {
	return EdgeRef{From: e.From, To: e.To, Kind: e.Kind, Props: graph.EdgeProps(e)}
}
