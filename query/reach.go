package query

import (
	"context"
	"strings"

	"github.com/steward-oss/steward/graph"
)

// hop is one step of a walk through the grant structure: the node reached
// and the edges taken to get there.
type hop struct {
	node int32
	path []int32
}

// forward lists the nodes whose grants apply to the walker at n: groups it
// is a member of, roles and identities it can assume, and policies
// attached to it.
func forward(ix *graph.Index, n int32, fn func(next int32, via int32)) {
	// Kinds and ends by number: a walk decodes no edge.
	for _, ei := range ix.Out(n) {
		if k := ix.EdgeKind(ei); k == graph.EdgeMemberOf || k == graph.EdgeCanAssume {
			if t := ix.EdgeTo(ei); t >= 0 {
				fn(t, ei)
			}
		}
	}
	for _, ei := range ix.In(n) {
		if ix.EdgeKind(ei) == graph.EdgeAttachedTo {
			if f := ix.EdgeFrom(ei); f >= 0 {
				fn(f, ei)
			}
		}
	}
}

// backward is forward reversed: the nodes that gain n's grants.
func backward(ix *graph.Index, n int32, fn func(prev int32, via int32)) {
	for _, ei := range ix.In(n) {
		if k := ix.EdgeKind(ei); k == graph.EdgeMemberOf || k == graph.EdgeCanAssume {
			if f := ix.EdgeFrom(ei); f >= 0 {
				fn(f, ei)
			}
		}
	}
	for _, ei := range ix.Out(n) {
		if ix.EdgeKind(ei) == graph.EdgeAttachedTo {
			if t := ix.EdgeTo(ei); t >= 0 {
				fn(t, ei)
			}
		}
	}
}

// walk visits nodes breadth-first from start up to depth hops, shortest
// path first.
func walk(ctx context.Context, ix *graph.Index, start int32, depth int, step func(*graph.Index, int32, func(int32, int32)), visit func(h hop) bool) error {
	seen := map[int32]bool{start: true}
	frontier := []hop{{start, nil}}
	if !visit(frontier[0]) {
		return nil
	}
	for d := 0; d < depth && len(frontier) > 0; d++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var next []hop
		for _, h := range frontier {
			step(ix, h.node, func(t, via int32) {
				if seen[t] {
					return
				}
				seen[t] = true
				nh := hop{t, append(append([]int32(nil), h.path...), via)}
				if visit(nh) {
					next = append(next, nh)
				}
			})
		}
		frontier = next
	}
	return nil
}

func (ex *executor) reach(ctx context.Context) error {
	r := ex.p.Reach
	start, err := Resolve(ex.ix, r.From)
	if err != nil {
		return err
	}
	// A credential reaches what its holder reaches.
	var prefix []int32
	if ex.ix.NodeKind(start) == graph.KindCredential {
		for _, ei := range ex.ix.In(start) {
			if ex.ix.EdgeKind(ei) == graph.EdgeHasCredential {
				if h := ex.ix.EdgeFrom(ei); h >= 0 {
					start, prefix = h, []int32{ei}
					break
				}
			}
		}
	}
	ex.columns = []string{"resource", "action", "effect", "privilege", "via", "depth"}
	return walk(ctx, ex.ix, start, r.MaxDepth, forward, func(h hop) bool {
		for _, ei := range ex.ix.Out(h.node) {
			if ex.ix.EdgeKind(ei) != graph.EdgeGrants {
				continue
			}
			e := ex.ix.Edge(ei)
			res := e.Resource
			if res == "" {
				res = e.To
			}
			if r.Action != "" && !actionMatch(e.Action, r.Action) {
				continue
			}
			if r.Resource != "" && !resourceMatch(ex.ix, ei, e, r.Resource) {
				continue
			}
			if !ex.grantInScope(ei) {
				continue
			}
			ev := append(append(append([]int32(nil), prefix...), h.path...), ei)
			via := ex.ix.NodeName(h.node)
			if via == "" {
				via = ex.ix.NodeID(h.node)
			}
			ex.rows = append(ex.rows, row{node: h.node, evidence: ev, vals: map[string]any{
				"resource": res, "action": e.Action, "effect": e.Effect, "privilege": string(graph.GrantPrivilege(e)),
				"via": via, "depth": float64(len(h.path)), "id": ex.ix.NodeID(h.node),
			}})
		}
		return true
	})
}

// grantInScope applies the plan's sources and environment filters to a
// reached grant's target, so "what can X touch in prod" narrows by where
// the grant lands.
func (ex *executor) grantInScope(ei int32) bool {
	t := ex.ix.EdgeTo(ei)
	ok := t >= 0
	for _, f := range ex.p.Filters {
		if f.Field != "environment" {
			continue
		}
		if !ok {
			return false
		}
		if !ex.match(t, &f) {
			return false
		}
	}
	return true
}

func (ex *executor) whoCan(ctx context.Context) error {
	w := ex.p.WhoCan
	ex.columns = []string{"id", "name", "kind", "source", "action", "resource", "privilege", "owner", "owner_status"}
	if w.Action == "assume" {
		return ex.whoCanAssume(ctx)
	}
	best := map[int32]row{}
	var order []int32
	for ei := range int32(ex.ix.NumEdges()) {
		if ex.ix.EdgeKind(ei) != graph.EdgeGrants {
			continue
		}
		e := ex.ix.Edge(ei)
		if e.Kind != graph.EdgeGrants || e.Effect == graph.EffectDeny {
			continue
		}
		if w.Action != "" && !actionMatch(e.Action, w.Action) {
			continue
		}
		if w.Privilege != "" && graph.GrantPrivilege(e).Rank() < w.Privilege.Rank() {
			continue
		}
		if w.Resource != "" && !resourceMatch(ex.ix, ei, e, w.Resource) {
			continue
		}
		if w.Scope == "account" {
			if t := ex.ix.EdgeTo(ei); t < 0 || ex.ix.NodeKind(t) != graph.KindAccount {
				continue
			}
		}
		g := ex.ix.EdgeFrom(ei)
		if g < 0 {
			continue
		}
		err := walk(ctx, ex.ix, g, w.MaxDepth, backward, func(h hop) bool {
			if !ex.inScope(h.node) {
				return true
			}
			// Evidence reads from the identity to the grant.
			ev := make([]int32, 0, len(h.path)+1)
			for i := len(h.path) - 1; i >= 0; i-- {
				ev = append(ev, h.path[i])
			}
			ev = append(ev, int32(ei))
			old, seen := best[h.node]
			if seen && len(old.evidence) <= len(ev) {
				return true
			}
			if !seen {
				order = append(order, h.node)
			}
			res := e.Resource
			if res == "" {
				res = e.To
			}
			best[h.node] = row{node: h.node, evidence: ev, vals: map[string]any{
				"action": e.Action, "resource": res, "privilege": string(graph.GrantPrivilege(e)),
			}}
			return true
		})
		if err != nil {
			return err
		}
	}
	for _, n := range order {
		ex.rows = append(ex.rows, best[n])
	}
	return nil
}

// whoCanAssume walks trust (can_assume) and group membership backwards
// from the target: everyone who can become it, directly or in steps.
func (ex *executor) whoCanAssume(ctx context.Context) error {
	target, err := Resolve(ex.ix, ex.p.WhoCan.Resource)
	if err != nil {
		return err
	}
	tn := ex.ix.Node(target)
	return walk(ctx, ex.ix, target, ex.p.WhoCan.MaxDepth, backward, func(h hop) bool {
		if h.node == target || !ex.inScope(h.node) {
			return true
		}
		ev := make([]int32, 0, len(h.path))
		for i := len(h.path) - 1; i >= 0; i-- {
			ev = append(ev, h.path[i])
		}
		ex.rows = append(ex.rows, row{node: h.node, evidence: ev, vals: map[string]any{
			"action": "assume", "resource": tn.ID, "privilege": string(ex.privOf(target)),
		}})
		return true
	})
}

func (ex *executor) privOf(i int32) graph.Privilege {
	p, _ := ex.ix.Privilege(i)
	return p
}

// actionMatch reports whether a grant's action pattern covers the asked
// action (or the asked pattern covers the grant: "who can s3:*" matches a
// grant of s3:GetObject). Kubernetes-style verbs lists "get,list" match
// any item.
func actionMatch(grant, asked string) bool {
	for _, g := range strings.Split(grant, ",") {
		g = strings.TrimSpace(g)
		if globMatch(g, asked) || globMatch(asked, g) {
			return true
		}
	}
	return false
}

// resourceMatch reports whether a grant applies to the asked resource: its
// resource pattern covers it, or it lands on a node whose id or name does.
func resourceMatch(ix *graph.Index, ei int32, e *graph.Edge, asked string) bool {
	if v, ok := e.Attrs[graph.AttrReadsSecrets]; ok && (strings.EqualFold(asked, "secrets") || strings.EqualFold(asked, "secret")) {
		return v == "true"
	}
	for _, r := range strings.Split(e.Resource, ",") {
		r = strings.TrimSpace(r)
		if r != "" && (globMatch(r, asked) || globMatch(asked, r)) {
			return true
		}
	}
	low := strings.ToLower(asked)
	if globMatch(asked, e.To) || strings.Contains(strings.ToLower(e.To), low) {
		return true
	}
	if t := ix.EdgeTo(ei); t >= 0 {
		n := ix.Node(t)
		if globMatch(asked, n.Name) || strings.Contains(strings.ToLower(n.Name), low) {
			return true
		}
	}
	return false
}
