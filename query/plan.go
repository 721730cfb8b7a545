// Package query defines Steward's typed query plan — versioned JSON that
// the offline planner, the LLM's tools, HTTP /v1/query and Slack all
// produce — and the one executor that runs it over a graph.Index.
//
// The executor runs on the in-memory index rather than compiling to cayley
// path queries: the cayley store (bolt, SQL) is the record, but measured
// here bolt answers multi-hop questions ~100× slower than memory, and the
// derived facts a plan filters on (privilege through groups and roles,
// owner status, last use) are computed once per load with their evidence.
// Every plan is validated before it runs; errors name the bad field.
package query

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
)

// Version is the plan format this package reads and writes.
const Version = 1

// Plan is one question, typed. Exactly one of the modes applies:
// find (the default: select identities by filters), reach (what can From
// reach) and who_can (which identities can Action on Resource).
type Plan struct {
	Version int `json:"version"`
	// Kinds restricts to node kinds; empty means every non-human
	// identity kind plus credentials (see DefaultKinds).
	Kinds []graph.Kind `json:"kinds,omitempty"`
	// Sources restricts to sources, by type ("aws") or full name
	// ("aws:111111111111").
	Sources []string `json:"sources,omitempty"`
	// IDs restricts to these node ids (follow-ups on a previous result).
	IDs     []string `json:"ids,omitempty"`
	Filters []Filter `json:"filters,omitempty"`
	Reach   *Reach   `json:"reach,omitempty"`
	WhoCan  *WhoCan  `json:"who_can,omitempty"`
	// Changes asks what changed between syncs: it reads the change
	// history (findings/changes, `steward changes`), not the graph, so
	// it runs through the list_changes tool and Execute refuses it.
	Changes *Changes `json:"changes,omitempty"`
	GroupBy []string `json:"group_by,omitempty"`
	Sort    []Sort   `json:"sort,omitempty"`
	Limit   int      `json:"limit,omitempty"`
	// Now is the reference time for day arithmetic; zero means the
	// caller's now.
	Now time.Time `json:"now,omitzero"`
}

// Filter is one condition on a field of the selected nodes.
type Filter struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	// Value is a string, number or bool depending on the field; Values is
	// for in / not_in.
	Value  any   `json:"value,omitempty"`
	Values []any `json:"values,omitempty"`
}

// Reach asks what From can reach: every grant reachable through groups,
// roles it can assume and attached policies, up to MaxDepth hops.
type Reach struct {
	From     string `json:"from"`
	MaxDepth int    `json:"max_depth,omitempty"`
	// Action and Resource optionally narrow the grants shown (glob).
	Action   string `json:"action,omitempty"`
	Resource string `json:"resource,omitempty"`
}

// WhoCan asks which identities can perform Action on Resource.
type WhoCan struct {
	// Action is a glob over grant actions ("s3:GetObject", "get",
	// "*delete*"), or "assume": who can become Resource (a role or
	// identity) through trust and impersonation.
	Action string `json:"action,omitempty"`
	// Privilege, instead of an action, asks for grants of at least this
	// level ("read", "write", "admin").
	Privilege graph.Privilege `json:"privilege,omitempty"`
	Resource  string          `json:"resource"`
	MaxDepth  int             `json:"max_depth,omitempty"`
	// Scope "account" keeps only grants over a whole account (a cluster,
	// project, AWS account, tenant: "cluster-wide"), not over one
	// namespace or resource inside it.
	Scope string `json:"scope,omitempty"`
}

// Changes selects recorded changes between syncs. Sources (by type or
// full name) and IDs (the identities changed) of the plan narrow it too.
type Changes struct {
	// Since keeps the changes recorded at or after this time; zero keeps
	// the whole history. The planner resolves "yesterday", "since
	// Monday", "last 7 days" to it against its clock (UTC).
	Since time.Time `json:"since,omitzero"`
	// LastSync keeps only what the most recent sync found ("since the
	// last sync"); Since must then be zero.
	LastSync bool `json:"last_sync,omitempty"`
	// Types keeps these change types (ChangeTypes); empty keeps all.
	Types []string `json:"types,omitempty"`
	// Window is the question's words for the time ("yesterday", "since
	// monday"), shown with the answer; it does not select anything.
	Window string `json:"window,omitempty"`
}

// ChangeTypes are the change types findings/changes records (its Types;
// a test there keeps the two lists equal).
var ChangeTypes = []string{"identity_added", "identity_removed", "new_admin", "new_escalation_path", "new_credential",
	"new_long_lived_admin_key", "owner_lost", "owner_departed", "grant_added"}

// ChangeColumns are the columns of a change plan's rows.
var ChangeColumns = []string{"at", "source", "type", "id", "name", "detail"}

// Sort orders rows by a column.
type Sort struct {
	Field string `json:"field"`
	Desc  bool   `json:"desc,omitempty"`
}

// Limits.
const (
	DefaultLimit    = 200
	MaxLimit        = 10000
	DefaultMaxDepth = 6
	MaxDepth        = 12
)

// fieldType is the type of a filterable field.
type fieldType int

const (
	tString fieldType = iota
	tNumber
	tBool
	tPrivilege
)

// Fields are the filterable fields and their types. tag:<key> and
// attr:<key> are string fields too.
var Fields = map[string]fieldType{
	"id": tString, "name": tString, "kind": tString, "subtype": tString, "source": tString,
	"source_type": tString, "status": tString, "owner": tString, "owner_status": tString,
	"team": tString, "account": tString, "environment": tString,
	"privilege":       tPrivilege,
	"idle_days":       tNumber, // days since last use, or since creation when never used
	"last_used_days":  tNumber, // days since last use; absent when never used
	"age_days":        tNumber, // days since created_at
	"rotated_days":    tNumber, // days since rotated_at, or created_at when never rotated
	"expires_in_days": tNumber, // days until expires_at (negative: expired); absent without expiry
	"never_used":      tBool,
	"leaked":          tBool,
	"nhi":             tBool,
	// can become admin through a privilege-escalation path
	// (findings/escalation); the path is the row's evidence.
	"admin_via_escalation": tBool,
}

// FieldNames lists the filterable field names, sorted; for schemas.
func FieldNames() []string {
	out := make([]string, 0, len(Fields))
	for f := range Fields {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Ops lists the operators per field type.
var opsByType = map[fieldType][]string{
	tString:    {"eq", "ne", "in", "not_in", "contains", "prefix", "exists", "not_exists"},
	tNumber:    {"eq", "ne", "gt", "gte", "lt", "lte", "exists", "not_exists"},
	tBool:      {"eq"},
	tPrivilege: {"eq", "ne", "gte", "lte", "in"},
}

// Columns that rows may show and sorts may use.
var Columns = []string{"id", "name", "kind", "subtype", "source", "status", "privilege", "owner",
	"owner_status", "team", "last_used_at", "created_at", "rotated_at", "expires_at", "idle_days",
	"leaked", "count", "resource", "action", "effect", "depth", "via"}

// FieldError names the bad field of a plan.
type FieldError struct {
	Field string // JSON path: "filters[1].op"
	Msg   string
}

func (e *FieldError) Error() string { return "query: plan." + e.Field + ": " + e.Msg }

// Parse decodes and validates a plan. Unknown fields are errors.
func Parse(data []byte) (*Plan, error) {
	var p Plan
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("query: decode plan: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks every field and normalises defaults.
func (p *Plan) Validate() error {
	if p.Version != Version {
		return &FieldError{"version", fmt.Sprintf("must be %d, got %d", Version, p.Version)}
	}
	for i, k := range p.Kinds {
		if !k.Valid() {
			return &FieldError{fmt.Sprintf("kinds[%d]", i), fmt.Sprintf("unknown kind %q", k)}
		}
	}
	for i, f := range p.Filters {
		if err := f.validate(); err != nil {
			err.Field = fmt.Sprintf("filters[%d].%s", i, err.Field)
			return err
		}
	}
	if err := p.validateChanges(); err != nil {
		return err
	}
	if p.Reach != nil && p.WhoCan != nil {
		return &FieldError{"reach", "reach and who_can are exclusive"}
	}
	if p.Reach != nil {
		if p.Reach.From == "" {
			return &FieldError{"reach.from", "empty"}
		}
		if err := checkDepth(&p.Reach.MaxDepth, "reach.max_depth"); err != nil {
			return err
		}
	}
	if p.WhoCan != nil {
		if p.WhoCan.Action == "" && p.WhoCan.Resource == "" && p.WhoCan.Privilege == "" {
			return &FieldError{"who_can", "needs action, privilege or resource"}
		}
		if p.WhoCan.Privilege != "" && p.WhoCan.Privilege.Rank() < 0 {
			return &FieldError{"who_can.privilege", "want none, read, write or admin"}
		}
		if p.WhoCan.Scope != "" && p.WhoCan.Scope != "account" {
			return &FieldError{"who_can.scope", "want \"account\" or nothing"}
		}
		if p.WhoCan.Action == "assume" && p.WhoCan.Resource == "" {
			return &FieldError{"who_can.resource", "assume needs the role or identity to assume"}
		}
		if err := checkDepth(&p.WhoCan.MaxDepth, "who_can.max_depth"); err != nil {
			return err
		}
	}
	for i, g := range p.GroupBy {
		if !groupable(g) {
			return &FieldError{fmt.Sprintf("group_by[%d]", i), fmt.Sprintf("cannot group by %q", g)}
		}
	}
	for i, s := range p.Sort {
		if !isColumn(s.Field) {
			return &FieldError{fmt.Sprintf("sort[%d].field", i), fmt.Sprintf("unknown column %q", s.Field)}
		}
	}
	switch {
	case p.Limit < 0:
		return &FieldError{"limit", "negative"}
	case p.Limit > MaxLimit:
		return &FieldError{"limit", fmt.Sprintf("at most %d", MaxLimit)}
	case p.Limit == 0:
		p.Limit = DefaultLimit
	}
	return nil
}

// validateChanges checks a change plan: it selects changes, so nothing
// that selects or groups graph nodes may come with it.
func (p *Plan) validateChanges() error {
	c := p.Changes
	if c == nil {
		return nil
	}
	switch {
	case p.Reach != nil:
		return &FieldError{"changes", "changes and reach are exclusive"}
	case p.WhoCan != nil:
		return &FieldError{"changes", "changes and who_can are exclusive"}
	case len(p.Kinds) > 0:
		return &FieldError{"kinds", "a change plan selects changes, not node kinds (use changes.types)"}
	case len(p.Filters) > 0:
		return &FieldError{"filters", "a change plan takes no filters (use changes.types, sources, ids)"}
	case len(p.GroupBy) > 0:
		return &FieldError{"group_by", "a change plan is not grouped"}
	case len(p.Sort) > 0:
		return &FieldError{"sort", "change rows come newest sync first and are not sorted otherwise"}
	case c.LastSync && !c.Since.IsZero():
		return &FieldError{"changes.since", "since and last_sync are exclusive"}
	}
	for i, t := range c.Types {
		if !slices.Contains(ChangeTypes, t) {
			return &FieldError{fmt.Sprintf("changes.types[%d]", i), fmt.Sprintf("unknown change type %q (known: %s)", t, strings.Join(ChangeTypes, ", "))}
		}
	}
	return nil
}

func checkDepth(d *int, field string) error {
	switch {
	case *d < 0 || *d > MaxDepth:
		return &FieldError{field, fmt.Sprintf("must be 1..%d", MaxDepth)}
	case *d == 0:
		*d = DefaultMaxDepth
	}
	return nil
}

// groupFields are the fields a plan may group by, besides tag:KEY.
var groupFields = []string{"account", "environment", "kind", "owner", "owner_status", "privilege", "source", "source_type", "status", "subtype", "team"}

func groupable(f string) bool {
	for _, g := range groupFields {
		if g == f {
			return true
		}
	}
	return strings.HasPrefix(f, "tag:") && len(f) > 4
}

// GroupFields lists what a plan may group_by, sorted; "tag:KEY" stands for
// any tag.
func GroupFields() []string { return append(append([]string(nil), groupFields...), "tag:KEY") }

// FieldType names the value type of a filter field: "string", "number"
// or "boolean" (privilege is a string enumeration). ok is false for an
// unknown field. "tag:KEY" and "attr:KEY" are strings.
func FieldType(name string) (typ string, ok bool) {
	t, ok := fieldTypeOf(strings.Replace(name, "KEY", "k", 1))
	if !ok {
		return "", false
	}
	switch t {
	case tNumber:
		return "number", true
	case tBool:
		return "boolean", true
	}
	return "string", true
}

// FieldOps lists the operators a filter field accepts.
func FieldOps(name string) []string {
	t, ok := fieldTypeOf(strings.Replace(name, "KEY", "k", 1))
	if !ok {
		return nil
	}
	return append([]string(nil), opsByType[t]...)
}

// Ops lists every filter operator, in a stable order.
func Ops() []string {
	return []string{"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "prefix", "exists", "not_exists"}
}

// FieldEnum lists the values an enumerated field takes (privilege,
// owner_status, kind); nil for free-form fields.
func FieldEnum(name string) []string {
	switch name {
	case "privilege":
		return []string{string(graph.PrivNone), string(graph.PrivRead), string(graph.PrivWrite), string(graph.PrivAdmin)}
	case "owner_status":
		return []string{string(graph.OwnerPresent), string(graph.OwnerAbsent), string(graph.OwnerDeparted)}
	case "kind":
		out := make([]string, len(graph.Kinds))
		for i, k := range graph.Kinds {
			out[i] = string(k)
		}
		return out
	}
	return nil
}

func isColumn(c string) bool {
	for _, x := range Columns {
		if x == c {
			return true
		}
	}
	return false
}

func fieldTypeOf(name string) (fieldType, bool) {
	if strings.HasPrefix(name, "tag:") || strings.HasPrefix(name, "attr:") {
		return tString, len(name) > 4
	}
	t, ok := Fields[name]
	return t, ok
}

func (f *Filter) validate() *FieldError {
	t, ok := fieldTypeOf(f.Field)
	if !ok {
		return &FieldError{"field", fmt.Sprintf("unknown field %q (known: %s, tag:KEY, attr:KEY)", f.Field, strings.Join(FieldNames(), ", "))}
	}
	allowed := false
	for _, op := range opsByType[t] {
		if op == f.Op {
			allowed = true
		}
	}
	if !allowed {
		return &FieldError{"op", fmt.Sprintf("operator %q not valid for %s (use %s)", f.Op, f.Field, strings.Join(opsByType[t], ", "))}
	}
	if f.Op == "exists" || f.Op == "not_exists" {
		return nil
	}
	if f.Op == "in" || f.Op == "not_in" {
		if len(f.Values) == 0 {
			return &FieldError{"values", "empty"}
		}
		for i, v := range f.Values {
			if err := checkValue(t, v); err != "" {
				return &FieldError{fmt.Sprintf("values[%d]", i), err}
			}
		}
		return nil
	}
	if err := checkValue(t, f.Value); err != "" {
		return &FieldError{"value", err}
	}
	switch f.Field {
	case "owner_status":
		if s, _ := f.Value.(string); s != string(graph.OwnerPresent) && s != string(graph.OwnerAbsent) && s != string(graph.OwnerDeparted) {
			return &FieldError{"value", "owner_status is present, absent or departed"}
		}
	case "kind":
		if s, _ := f.Value.(string); !graph.Kind(s).Valid() {
			return &FieldError{"value", fmt.Sprintf("unknown kind %q", s)}
		}
	}
	return nil
}

func checkValue(t fieldType, v any) string {
	switch t {
	case tString:
		if _, ok := v.(string); !ok {
			return fmt.Sprintf("want a string, got %T", v)
		}
	case tNumber:
		if _, ok := toFloat(v); !ok {
			return fmt.Sprintf("want a number, got %T", v)
		}
	case tBool:
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("want true or false, got %T", v)
		}
	case tPrivilege:
		s, _ := v.(string)
		if graph.Privilege(s).Rank() < 0 || s == "" {
			return "want none, read, write or admin"
		}
	}
	return ""
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
