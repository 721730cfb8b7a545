package planner

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// DescribeOptions tune Describe.
type DescribeOptions struct {
	// Rows, when set, adds the row limit ("up to 200 rows").
	Rows bool
}

// Describe says in words what p asks — kinds, sources, conditions with
// their numbers, scope, grouping and, with Rows, the row limit — so an
// analyst can check the answer is to the question asked. Any plan can be
// described: the offline planner's, a model's, or one written by hand.
func Describe(p *query.Plan, o DescribeOptions) string {
	var parts []string
	switch {
	case p.Changes != nil:
		parts = append(parts, describeChanges(p.Changes))
	case p.Reach != nil:
		s := "what " + p.Reach.From + " can reach (through groups, roles and policies"
		if p.Reach.MaxDepth > 0 {
			s += ", up to " + strconv.Itoa(p.Reach.MaxDepth) + " hops"
		}
		s += ")"
		if p.Reach.Action != "" {
			s += ", actions " + p.Reach.Action
		}
		if p.Reach.Resource != "" {
			s += ", resources " + p.Reach.Resource
		}
		parts = append(parts, s)
	case p.WhoCan != nil:
		w := p.WhoCan
		var s string
		switch {
		case w.Action == "assume":
			s = "who can assume " + w.Resource
		case w.Action != "":
			s = "who can " + w.Action + " on " + w.Resource
		default:
			s = fmt.Sprintf("who has %s access or more on %s", w.Privilege, w.Resource)
		}
		if w.Resource == "*" {
			s = strings.TrimSuffix(s, " on *") + " on anything"
		}
		if w.Scope == "account" {
			s += ", account-wide grants only"
		}
		parts = append(parts, s)
		if len(p.Kinds) > 0 {
			parts = append(parts, "among "+kindList(p.Kinds))
		}
	default:
		parts = append(parts, kindList(p.Kinds))
	}
	if len(p.Sources) > 0 {
		parts = append(parts, "in "+strings.Join(p.Sources, ", "))
	}
	if len(p.IDs) > 0 {
		parts = append(parts, fmt.Sprintf("among the %d rows of the previous answer", len(p.IDs)))
	}
	parts = append(parts, describeFilters(p.Filters)...)
	if len(p.GroupBy) > 0 {
		parts = append(parts, "counted by "+strings.ReplaceAll(strings.Join(p.GroupBy, ", "), "_", " "))
	}
	if len(p.Sort) > 0 {
		var ss []string
		for _, s := range p.Sort {
			d := ""
			if s.Desc {
				d = " descending"
			}
			ss = append(ss, strings.ReplaceAll(s.Field, "_", " ")+d)
		}
		parts = append(parts, "sorted by "+strings.Join(ss, ", "))
	}
	if o.Rows {
		switch {
		case p.Limit == query.MaxLimit:
			parts = append(parts, fmt.Sprintf("all rows (at most %d)", query.MaxLimit))
		case p.Limit > 0 && p.Limit != query.DefaultLimit:
			parts = append(parts, fmt.Sprintf("first %d rows", p.Limit))
		default:
			parts = append(parts, fmt.Sprintf("up to %d rows", query.DefaultLimit))
		}
	}
	return strings.Join(parts, "; ")
}

func kindList(kinds []graph.Kind) string {
	if len(kinds) == 0 {
		return "non-human identities"
	}
	names := map[graph.Kind]string{
		graph.KindServiceAccount: "service accounts", graph.KindWorkload: "workloads", graph.KindOAuthApp: "OAuth apps",
		graph.KindBot: "bots", graph.KindAIAgent: "AI agents", graph.KindCredential: "credentials", graph.KindRole: "roles",
		graph.KindGroup: "groups", graph.KindUser: "users", graph.KindAccount: "accounts",
	}
	var out []string
	for _, k := range kinds {
		n, ok := names[k]
		if !ok {
			n = string(k)
		}
		out = append(out, n)
	}
	return strings.Join(out, ", ")
}

func num(v any) string {
	if f, ok := toFloat(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

var opWords = map[string]string{"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "contains": "contains", "prefix": "starts with"}

func describeFilters(fs []query.Filter) []string {
	var out []string
	// An expiry window is two filters: say it once.
	lo, hi := -1, -1
	for i, f := range fs {
		if f.Field == "expires_in_days" && f.Op == "gte" {
			lo = i
		}
		if f.Field == "expires_in_days" && f.Op == "lte" {
			hi = i
		}
	}
	for i, f := range fs {
		if lo >= 0 && hi >= 0 && (i == lo || i == hi) {
			if i == hi {
				out = append(out, fmt.Sprintf("expiring within %s days (%s to %s days from now)", num(fs[hi].Value), num(fs[lo].Value), num(fs[hi].Value)))
			}
			continue
		}
		out = append(out, describeFilter(f))
	}
	return out
}

func describeFilter(f query.Filter) string {
	op := opWords[f.Op]
	switch f.Field {
	case "privilege":
		switch f.Op {
		case "eq":
			return fmt.Sprintf("%s privilege", f.Value)
		case "gte":
			return fmt.Sprintf("%s privilege or more", f.Value)
		}
	case "idle_days":
		return fmt.Sprintf("idle %s %s days", op, num(f.Value))
	case "last_used_days":
		return fmt.Sprintf("last used %s %s days ago", op, num(f.Value))
	case "age_days":
		return fmt.Sprintf("created %s %s days ago", op, num(f.Value))
	case "rotated_days":
		return fmt.Sprintf("not rotated for %s %s days", op, num(f.Value))
	case "expires_in_days":
		switch {
		case f.Op == "lt" && num(f.Value) == "0":
			return "expired"
		case f.Op == "not_exists":
			return "no expiry date"
		}
		return fmt.Sprintf("expiring in %s %s days", op, num(f.Value))
	case "never_used":
		if f.Value == true {
			return "never used"
		}
		return "used at least once"
	case "leaked":
		if f.Value == true {
			return "leaked"
		}
		return "not leaked"
	case "owner_status":
		switch f.Value {
		case "absent":
			return "no owner"
		case "departed":
			return "every owner has left the organisation"
		case "present":
			return "owner present"
		}
	case "environment":
		if f.Op == "eq" {
			return fmt.Sprintf("in %s", f.Value)
		}
		if f.Op == "ne" {
			return fmt.Sprintf("not in %s", f.Value)
		}
	case "team":
		if f.Op == "eq" {
			return fmt.Sprintf("team %s", f.Value)
		}
	case "owner":
		if f.Op == "eq" {
			return fmt.Sprintf("owned by %s", f.Value)
		}
	}
	field := strings.ReplaceAll(f.Field, "_", " ")
	switch f.Op {
	case "exists":
		return field + " set"
	case "not_exists":
		return field + " not set"
	case "in", "not_in":
		vs := make([]string, len(f.Values))
		for i, v := range f.Values {
			vs[i] = fmt.Sprint(v)
		}
		slices.Sort(vs)
		if f.Op == "in" {
			return field + " one of " + strings.Join(vs, ", ")
		}
		return field + " not " + strings.Join(vs, ", ")
	}
	if op == "" {
		op = f.Op
	}
	return fmt.Sprintf("%s %s %s", field, op, num(f.Value))
}

// describeChanges says which recorded changes a change plan selects.
func describeChanges(c *query.Changes) string {
	s := "changes between syncs"
	if len(c.Types) > 0 {
		s += " of type " + strings.Join(c.Types, ", ")
	}
	switch {
	case c.LastSync:
		s += ", found by the last sync"
	case !c.Since.IsZero():
		s += ", recorded since " + c.Since.UTC().Format("Mon 2006-01-02 15:04 MST")
		if c.Window != "" && c.Window != "since "+c.Since.UTC().Format("2006-01-02") {
			s += " (" + c.Window + ")"
		}
	default:
		s += ", the whole history"
	}
	return s
}
