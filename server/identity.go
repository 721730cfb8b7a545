package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// Identity is GET /v1/identities/{id}: one node with what the index
// derived about it, each fact with the edges behind it. Its JSON is a
// contract: fields are only added.
type Identity struct {
	Node graph.Node `json:"node"`
	// Privilege is the derived privilege; PrivilegePath the edges from the
	// identity to its strongest grant.
	Privilege     graph.Privilege   `json:"privilege"`
	PrivilegePath []query.EdgeRef   `json:"privilege_path"`
	OwnerStatus   graph.OwnerStatus `json:"owner_status"`
	// Owners are the owns edges naming a known human, with that human.
	Owners      []IdentityOwner `json:"owners"`
	Credentials []graph.Node    `json:"credentials"`
	// Grants are the identity's own outgoing grants, memberships, role
	// assumptions and policy attachments (what its privilege derives from).
	Grants []query.EdgeRef `json:"grants"`
	// Usage is every used edge of the identity and of its credentials,
	// newest first: the usage timeline.
	Usage    []query.EdgeRef `json:"usage"`
	LastUsed *time.Time      `json:"last_used,omitempty"`
	// Leaks are leaked_in edges that match one of its credentials.
	Leaks []query.EdgeRef `json:"leaks"`
}

// IdentityOwner is one owner of an Identity.
type IdentityOwner struct {
	Human graph.Node    `json:"human"`
	Edge  query.EdgeRef `json:"edge"`
}

// identity is GET /v1/identities/{id} (the id percent-encoded: ids hold "/").
func (s *Server) identity(c echo.Context) error {
	id := c.Param("id")
	if c.Request().URL.RawPath != "" {
		u, err := url.PathUnescape(id)
		if err != nil {
			return problem(http.StatusBadRequest, "bad_request", fmt.Sprintf("path parameter id: %v", err))
		}
		id = u
	}
	ix := s.cfg.Graph.Index()
	i, ok := ix.Lookup(id)
	if !ok {
		return problem(http.StatusNotFound, "not_found", "no such identity in the graph")
	}
	return c.JSON(http.StatusOK, describeIdentity(ix, i))
}

func refs(ix *graph.Index, eis []int32) []query.EdgeRef {
	out := make([]query.EdgeRef, 0, len(eis))
	for _, ei := range eis {
		out = append(out, query.Ref(ix.Edge(ei)))
	}
	return out
}

func describeIdentity(ix *graph.Index, i int32) *Identity {
	v := &Identity{Node: ix.Node(i), Owners: []IdentityOwner{}, Credentials: []graph.Node{}, Grants: []query.EdgeRef{},
		Usage: []query.EdgeRef{}, Leaks: []query.EdgeRef{}}
	var path []int32
	v.Privilege, path = ix.Privilege(i)
	v.PrivilegePath = refs(ix, path)
	owns, st := ix.Owners(i)
	v.OwnerStatus = st
	for _, ei := range owns {
		e := ix.Edge(ei)
		o := IdentityOwner{Edge: query.Ref(e)}
		if h, ok := ix.Lookup(e.From); ok {
			o.Human = ix.Node(h)
		}
		v.Owners = append(v.Owners, o)
	}
	if t, _ := ix.LastUsed(i); !t.IsZero() {
		v.LastUsed = &t
	}
	var used []*graph.Edge
	for _, ei := range ix.Out(i) {
		e := ix.Edge(ei)
		switch e.Kind {
		case graph.EdgeGrants, graph.EdgeMemberOf, graph.EdgeCanAssume, graph.EdgeAttachedTo:
			v.Grants = append(v.Grants, query.Ref(e))
		case graph.EdgeUsed:
			used = append(used, e)
		case graph.EdgeHasCredential:
			ci, ok := ix.Lookup(e.To)
			if !ok {
				continue
			}
			v.Credentials = append(v.Credentials, ix.Node(ci))
			for _, cei := range ix.Out(ci) {
				if ce := ix.Edge(cei); ce.Kind == graph.EdgeUsed {
					used = append(used, ce)
				}
			}
			v.Leaks = append(v.Leaks, refs(ix, ix.Leaks(ci))...)
		}
	}
	// Grants attached to the identity (a policy attached_to it) point in.
	for _, ei := range ix.In(i) {
		if e := ix.Edge(ei); e.Kind == graph.EdgeAttachedTo {
			v.Grants = append(v.Grants, query.Ref(e))
		}
	}
	v.Leaks = append(v.Leaks, refs(ix, ix.Leaks(i))...)
	sort.SliceStable(used, func(a, b int) bool { return used[a].LastSeen.After(used[b].LastSeen) })
	for _, e := range used {
		v.Usage = append(v.Usage, query.Ref(e))
	}
	return v
}

// Overview is GET /v1/overview: the graph's identities counted by source,
// kind, derived privilege and owner status, and how many are idle (no
// recorded use for IdleDays, counted from creation when never used) and
// orphaned (every owner departed).
type Overview struct {
	Sources    []SourceCount  `json:"sources"`
	Kinds      map[string]int `json:"kinds"`
	Privileges map[string]int `json:"privileges"`
	Owners     map[string]int `json:"owner_status"`
	Identities int            `json:"identities"`
	IdleDays   int            `json:"idle_days"`
	Idle       int            `json:"idle"`
	Orphaned   int            `json:"orphaned"`
	Nodes      int            `json:"nodes"`
	Edges      int            `json:"edges"`
	// Syncs is the last run of each connector with its error; Trend the
	// changes between syncs (new admins, owners lost or departed...)
	// counted by sync. Both are empty when the server keeps no history
	// (Config.History nil, no sync run yet).
	Syncs []SyncStatus   `json:"syncs"`
	Trend []ChangeCounts `json:"trend"`
}

// SyncStatus is the last sync of one connector.
type SyncStatus struct {
	Connector string    `json:"connector"`
	Sources   []string  `json:"sources,omitempty"`
	At        time.Time `json:"at"`
	Error     string    `json:"error,omitempty"`
}

// ChangeCounts is what one sync changed, counted by change type
// (findings/changes types: identity_added, new_admin, owner_departed...).
type ChangeCounts struct {
	At     time.Time      `json:"at"`
	Counts map[string]int `json:"counts"`
}

// History is the sync history the overview shows.
type History interface {
	Syncs(ctx context.Context) ([]SyncStatus, error)
	Trend(ctx context.Context) ([]ChangeCounts, error)
}

// SourceCount is one source of an Overview.
type SourceCount struct {
	Source     string `json:"source"`
	Nodes      int    `json:"nodes"`
	Identities int    `json:"identities"`
}

// overviewIdleDays is the idle threshold of the overview, the README's
// standing "idle 30 days" question.
const overviewIdleDays = 30

func (s *Server) overview(c echo.Context) error {
	o := summarize(s.cfg.Graph.Index(), s.cfg.Now())
	o.Syncs, o.Trend = []SyncStatus{}, []ChangeCounts{}
	if h := s.cfg.History; h != nil {
		ctx := c.Request().Context()
		syncs, err := h.Syncs(ctx)
		if err != nil {
			return fmt.Errorf("server: overview syncs: %w", err)
		}
		trend, err := h.Trend(ctx)
		if err != nil {
			return fmt.Errorf("server: overview trend: %w", err)
		}
		if syncs != nil {
			o.Syncs = syncs
		}
		if trend != nil {
			o.Trend = trend
		}
	}
	return c.JSON(http.StatusOK, o)
}

func summarize(ix *graph.Index, now time.Time) *Overview {
	o := &Overview{Kinds: map[string]int{}, Privileges: map[string]int{}, Owners: map[string]int{},
		IdleDays: overviewIdleDays, Nodes: ix.NumNodes(), Edges: ix.NumEdges(), Sources: []SourceCount{}}
	bySource := map[string]*SourceCount{}
	for _, src := range ix.Sources {
		bySource[src] = &SourceCount{Source: src}
	}
	cut := now.AddDate(0, 0, -overviewIdleDays)
	for i := range int32(ix.NumNodes()) {
		src, kind := ix.NodeSource(i), ix.NodeKind(i)
		sc := bySource[src]
		if sc == nil {
			sc = &SourceCount{Source: src}
			bySource[src] = sc
		}
		sc.Nodes++
		if !kind.IsNHI() {
			continue
		}
		sc.Identities++
		o.Identities++
		o.Kinds[string(kind)]++
		p, _ := ix.Privilege(int32(i))
		o.Privileges[string(p)]++
		_, st := ix.Owners(int32(i))
		o.Owners[string(st)]++
		if st == graph.OwnerDeparted {
			o.Orphaned++
		}
		last, _ := ix.LastUsed(int32(i))
		if last.IsZero() {
			last = ix.NodeCreatedAt(i)
		}
		if !last.IsZero() && last.Before(cut) {
			o.Idle++
		}
	}
	for _, sc := range bySource {
		o.Sources = append(o.Sources, *sc)
	}
	sort.Slice(o.Sources, func(a, b int) bool { return o.Sources[a].Source < o.Sources[b].Source })
	return o
}
