package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

type explainArgs struct {
	Identity  string          `json:"identity"`
	Resource  string          `json:"resource"`
	Action    string          `json:"action"`
	Privilege graph.Privilege `json:"privilege"`
	MaxDepth  int             `json:"max_depth"`
	Filters   []query.Filter  `json:"filters"`
}

func explainAccess() Tool {
	props := planProps()["reach"].(obj)["properties"].(obj)
	return Tool{
		Name: "explain_access",
		Description: "Explain an identity's access: every grant it reaches through groups, assumable roles and attached policies, each with the edge path that gives it. " +
			"Answers \"why does X have admin\" (privilege=admin) and \"how does X reach R\" (resource=R).",
		Schema: mustJSON(obj{"type": "object", "additionalProperties": false, "required": []string{"identity"}, "properties": obj{
			"identity":  str("identity id or name (a credential reaches what its holder reaches)"),
			"resource":  props["resource"],
			"action":    props["action"],
			"privilege": obj{"type": "string", "enum": privilegeNames(), "description": "only grants of at least this level"},
			"max_depth": props["max_depth"],
			"filters":   obj{"type": "array", "items": planProps()["filters"].(obj)["items"], "description": "environment filters narrow grants by where they land (\"what can X touch in prod\")"},
		}}),
		ReadOnly: true,
		Run: func(ctx context.Context, env *Env, raw json.RawMessage) (*Output, error) {
			var a explainArgs
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			if strings.TrimSpace(a.Identity) == "" {
				return nil, argErr("identity", "required")
			}
			if a.Privilege != "" && a.Privilege.Rank() < 0 {
				return nil, argErr("privilege", "want %s", strings.Join(privilegeNames(), ", "))
			}
			i, err := query.Resolve(env.Index, a.Identity)
			if err != nil {
				return nil, err
			}
			n := env.Index.Node(i)
			p := &query.Plan{Version: query.Version, Filters: a.Filters, Reach: &query.Reach{From: n.ID, MaxDepth: a.MaxDepth, Action: a.Action, Resource: a.Resource}}
			if err := p.Validate(); err != nil {
				return nil, renameField(err, "reach.", "")
			}
			bound(p, env.Limits)
			want := p.Limit
			if a.Privilege != "" {
				// The privilege cut happens after the walk, so count over
				// every grant and trim afterwards.
				p.Limit = query.MaxLimit
			}
			res, err := query.Execute(ctx, env.Index, p, env.Now)
			if err != nil {
				return nil, err
			}
			if a.Privilege != "" {
				keepRows(res, func(row []any) bool {
					s, _ := cell(res, row, "privilege").(string)
					return graph.Privilege(s).Rank() >= a.Privilege.Rank()
				})
				p.Limit = want
				truncate(res, want)
			}
			return &Output{Plan: p, Result: res, Text: explainText(env.Index, i, res, a.Privilege)}, nil
		},
	}
}

func explainText(ix *graph.Index, i int32, res *query.Result, want graph.Privilege) string {
	n := ix.Node(i)
	priv, path := ix.Privilege(i)
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) holds %s", displayName(&n), n.Kind, priv)
	if len(path) > 0 {
		refs := make([]query.EdgeRef, len(path))
		for k, ei := range path {
			refs[k] = query.Ref(ix.Edge(ei))
		}
		fmt.Fprintf(&b, " via %s", PathText(ix, refs))
	}
	switch {
	case want != "" && res.Total == 0:
		fmt.Fprintf(&b, "; no reachable grant gives %s", want)
	case want != "":
		fmt.Fprintf(&b, "; %s at least %s", plural(res.Total, "grant", "grants"), want)
	default:
		fmt.Fprintf(&b, "; %s reachable", plural(res.Total, "grant", "grants"))
	}
	return b.String() + shown(res)
}

// PathText renders evidence edges as "a member_of b; p grants * on *".
func PathText(ix *graph.Index, path []query.EdgeRef) string {
	name := func(id string) string {
		if j, ok := ix.Lookup(id); ok {
			nd := ix.Node(j)
			return displayName(&nd)
		}
		return id
	}
	parts := make([]string, 0, len(path))
	for _, e := range path {
		s := fmt.Sprintf("%s %s %s", name(e.From), e.Kind, name(e.To))
		if e.Kind == graph.EdgeGrants {
			act, _ := e.Props["action"].(string)
			res, _ := e.Props["resource"].(string)
			s = fmt.Sprintf("%s grants %s on %s", name(e.From), act, res)
			if p, _ := e.Props["privilege"].(string); p != "" {
				s += " (" + p + ")"
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

type whoCanArgs struct {
	Action    string          `json:"action"`
	Privilege graph.Privilege `json:"privilege"`
	Resource  string          `json:"resource"`
	MaxDepth  int             `json:"max_depth"`
	Kinds     []graph.Kind    `json:"kinds"`
	Sources   []string        `json:"sources"`
	Filters   []query.Filter  `json:"filters"`
	Sort      []query.Sort    `json:"sort"`
	Limit     int             `json:"limit"`
}

func whoCan() Tool {
	all := planProps()
	wc := all["who_can"].(obj)["properties"].(obj)
	return Tool{
		Name: "who_can",
		Description: "Which identities can perform an action (or hold at least a privilege) on a resource, directly or through groups, roles and policies; " +
			"action \"assume\" asks who can become a role or identity. Rows carry the edge path from identity to grant.",
		Schema: mustJSON(obj{"type": "object", "additionalProperties": false, "required": []string{"resource"}, "properties": obj{
			"action": wc["action"], "privilege": wc["privilege"], "resource": wc["resource"], "max_depth": wc["max_depth"],
			"kinds": all["kinds"], "sources": all["sources"], "filters": all["filters"], "sort": all["sort"], "limit": all["limit"],
		}}),
		ReadOnly: true,
		Run: func(ctx context.Context, env *Env, raw json.RawMessage) (*Output, error) {
			var a whoCanArgs
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			if a.Action == "" && a.Privilege == "" {
				return nil, argErr("action", "give action or privilege")
			}
			if strings.TrimSpace(a.Resource) == "" {
				return nil, argErr("resource", "required (use * for any resource)")
			}
			p := &query.Plan{Version: query.Version, Kinds: a.Kinds, Sources: a.Sources, Filters: a.Filters, Sort: a.Sort, Limit: a.Limit,
				WhoCan: &query.WhoCan{Action: a.Action, Privilege: a.Privilege, Resource: a.Resource, MaxDepth: a.MaxDepth}}
			if err := p.Validate(); err != nil {
				return nil, renameField(err, "who_can.", "")
			}
			res, err := execute(ctx, env, p)
			if err != nil {
				return nil, err
			}
			what := a.Action
			if what == "" {
				what = string(a.Privilege)
			}
			return &Output{Plan: p, Result: res, Text: fmt.Sprintf("%s can %s %s%s", plural(res.Total, "identity", "identities"), what, a.Resource, shown(res))}, nil
		},
	}
}

// renameField maps a plan field path onto the tool's own argument names.
func renameField(err error, from, to string) error {
	var fe *query.FieldError
	if errors.As(err, &fe) {
		return argErr(to+strings.TrimPrefix(fe.Field, from), "%s", fe.Msg)
	}
	return err
}

func cell(res *query.Result, row []any, col string) any {
	for i, c := range res.Columns {
		if c == col {
			return row[i]
		}
	}
	return nil
}

func keepRows(res *query.Result, keep func([]any) bool) {
	var rows [][]any
	var ev [][]query.EdgeRef
	var ids []string
	for i, r := range res.Rows {
		if !keep(r) {
			continue
		}
		rows = append(rows, r)
		ev = append(ev, res.Evidence[i])
		if i < len(res.IDs) {
			ids = append(ids, res.IDs[i])
		}
	}
	res.Rows, res.Evidence, res.IDs, res.Total = rows, ev, ids, len(rows)
	if res.Rows == nil {
		res.Rows, res.Evidence = [][]any{}, [][]query.EdgeRef{}
	}
}

func truncate(res *query.Result, n int) {
	if len(res.Rows) > n {
		res.Rows, res.Evidence = res.Rows[:n], res.Evidence[:n]
		if len(res.IDs) > n {
			res.IDs = res.IDs[:n]
		}
	}
}
