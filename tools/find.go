package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/steward-oss/steward/query"
)

// decodePlan reads a plan strictly and validates it; version may be
// omitted.
func decodePlan(args json.RawMessage) (*query.Plan, error) {
	var p query.Plan
	if err := decode(args, &p); err != nil {
		return nil, err
	}
	if p.Version == 0 {
		p.Version = query.Version
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// bound clamps a validated plan to the limits.
func bound(p *query.Plan, l Limits) {
	if p.Limit == 0 || p.Limit > l.MaxRows {
		p.Limit = l.MaxRows
	}
	if p.Reach != nil && p.Reach.MaxDepth > l.MaxDepth {
		p.Reach.MaxDepth = l.MaxDepth
	}
	if p.WhoCan != nil && p.WhoCan.MaxDepth > l.MaxDepth {
		p.WhoCan.MaxDepth = l.MaxDepth
	}
}

// execute bounds and runs p.
func execute(ctx context.Context, env *Env, p *query.Plan) (*query.Result, error) {
	bound(p, env.Limits)
	res, err := query.Execute(ctx, env.Index, p, env.Now)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func shown(res *query.Result) string {
	if res.Total > len(res.Rows) {
		return fmt.Sprintf(" (showing %d)", len(res.Rows))
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func findIdentities() Tool {
	return Tool{
		Name: "find_identities",
		Description: "Select identities (or credentials, roles, groups...) by kind, source and field filters. " +
			"Arguments are a query plan in find mode; use explain_access for what one identity can reach, who_can for who can act on a resource, aggregate for counts. " +
			"Rows carry evidence edges (privilege path, owners, last use, leaks).",
		Schema:   planSchema([]string{"version", "kinds", "sources", "ids", "filters", "sort", "limit", "now"}, nil, nil),
		ReadOnly: true,
		Run: func(ctx context.Context, env *Env, args json.RawMessage) (*Output, error) {
			p, err := decodePlan(args)
			if err != nil {
				return nil, err
			}
			switch {
			case p.Reach != nil:
				return nil, argErr("reach", "find_identities does not walk access; call explain_access")
			case p.WhoCan != nil:
				return nil, argErr("who_can", "find_identities does not answer who-can; call who_can")
			case len(p.GroupBy) > 0:
				return nil, argErr("group_by", "find_identities lists rows; call aggregate to count")
			}
			res, err := execute(ctx, env, p)
			if err != nil {
				return nil, err
			}
			return &Output{Plan: p, Result: res, Text: plural(res.Total, "match", "matches") + shown(res)}, nil
		},
	}
}

func aggregate() Tool {
	return Tool{
		Name: "aggregate",
		Description: "Count identities grouped by fields (source, source_type, kind, owner, owner_status, team, privilege, status, environment, tag:KEY...). " +
			"Arguments are a query plan with group_by; who_can may be combined to count who holds an access.",
		Schema:   planSchema([]string{"version", "kinds", "sources", "ids", "filters", "who_can", "group_by", "sort", "limit", "now"}, []string{"group_by"}, nil),
		ReadOnly: true,
		Run: func(ctx context.Context, env *Env, args json.RawMessage) (*Output, error) {
			p, err := decodePlan(args)
			if err != nil {
				return nil, err
			}
			switch {
			case len(p.GroupBy) == 0:
				return nil, argErr("group_by", "required: the fields to count by")
			case p.Reach != nil:
				return nil, argErr("reach", "reach rows are grants, not identities; call explain_access")
			}
			res, err := execute(ctx, env, p)
			if err != nil {
				return nil, err
			}
			n := 0
			for _, r := range res.Rows {
				if f, ok := r[len(r)-1].(float64); ok {
					n += int(f)
				}
			}
			return &Output{Plan: p, Result: res, Text: fmt.Sprintf("%s in %s by %s%s", plural(n, "identity", "identities"),
				plural(res.Total, "group", "groups"), strings.Join(p.GroupBy, ", "), shown(res))}, nil
		},
	}
}
