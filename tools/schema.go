package tools

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// FieldSpec describes one filterable plan field exactly as the query
// package validates it. Specs are discovered by asking query.Plan.Validate,
// not copied, so a field or operator added there shows up in every tool
// schema and in the model's prompt without an edit here.
type FieldSpec struct {
	Name string   `json:"name"`
	Type string   `json:"type"` // "string", "number" or "boolean"
	Ops  []string `json:"ops"`
	Enum []string `json:"enum,omitempty"`
}

// Prefixed fields: tag:KEY and attr:KEY.
var prefixedFields = []string{"tag:KEY", "attr:KEY"}

func fieldSpec(name string) FieldSpec {
	typ, _ := query.FieldType(name)
	return FieldSpec{Name: name, Type: typ, Ops: query.FieldOps(name), Enum: query.FieldEnum(name)}
}

var fieldSpecs = sync.OnceValue(func() []FieldSpec {
	var out []FieldSpec
	for _, f := range query.FieldNames() {
		out = append(out, fieldSpec(f))
	}
	for _, f := range prefixedFields {
		out = append(out, fieldSpec(f))
	}
	return out
})

// FieldSpecs lists every filterable field: query.Fields plus tag:KEY and
// attr:KEY.
func FieldSpecs() []FieldSpec { return append([]FieldSpec(nil), fieldSpecs()...) }

// GroupFields lists what a plan may group_by.
func GroupFields() []string { return query.GroupFields() }

// Ops lists every operator some field accepts.
func Ops() []string {
	seen := map[string]bool{}
	for _, fs := range fieldSpecs() {
		for _, op := range fs.Ops {
			seen[op] = true
		}
	}
	var out []string
	for _, op := range query.Ops() {
		if seen[op] {
			out = append(out, op)
		}
	}
	return out
}

// FieldHelp is one line per field: name, type, operators, values.
func FieldHelp() string {
	var b strings.Builder
	for _, fs := range fieldSpecs() {
		fmt.Fprintf(&b, "%s (%s): %s", fs.Name, fs.Type, strings.Join(fs.Ops, ", "))
		if len(fs.Enum) > 0 {
			fmt.Fprintf(&b, "; values %s", strings.Join(fs.Enum, ", "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func kindNames() []string {
	out := make([]string, len(graph.Kinds))
	for i, k := range graph.Kinds {
		out[i] = string(k)
	}
	return out
}

func privilegeNames() []string {
	return []string{string(graph.PrivNone), string(graph.PrivRead), string(graph.PrivWrite), string(graph.PrivAdmin)}
}

type obj = map[string]any

func str(desc string) obj { return obj{"type": "string", "description": desc} }

func strArray(desc string) obj {
	return obj{"type": "array", "items": obj{"type": "string"}, "description": desc}
}

func enumArray(desc string, enum []string) obj {
	return obj{"type": "array", "items": obj{"type": "string", "enum": enum}, "description": desc}
}

func depth(desc string) obj {
	return obj{"type": "integer", "minimum": 1, "maximum": query.MaxDepth, "description": desc}
}

// planProps are the JSON Schema properties of every query.Plan field.
func planProps() obj {
	scalar := []string{"string", "number", "boolean"}
	var fields []string
	for _, fs := range fieldSpecs() {
		fields = append(fields, fs.Name)
	}
	return obj{
		"version": obj{"type": "integer", "enum": []int{query.Version}, "description": fmt.Sprintf("plan format version; omitted means %d", query.Version)},
		"kinds": enumArray(fmt.Sprintf("node kinds to select; empty means %s", strings.Join(func() []string {
			var s []string
			for _, k := range query.DefaultKinds {
				s = append(s, string(k))
			}
			return s
		}(), ", ")), kindNames()),
		"sources": strArray("source types (\"aws\") or full source names (\"aws:111111111111\")"),
		"ids":     strArray("restrict to these node ids, e.g. the ids of a previous result"),
		"filters": obj{"type": "array", "description": "conditions, all of which must hold. Fields:\n" + FieldHelp(), "items": obj{
			"type": "object", "additionalProperties": false, "required": []string{"field", "op"},
			"properties": obj{
				"field":  str("one of " + strings.Join(fields, ", ")),
				"op":     obj{"type": "string", "enum": Ops()},
				"value":  obj{"type": scalar, "description": "for every op but in, not_in, exists, not_exists"},
				"values": obj{"type": "array", "items": obj{"type": scalar}, "description": "for in and not_in"},
			},
		}},
		"reach": obj{"type": "object", "additionalProperties": false, "required": []string{"from"}, "description": "what an identity can reach through groups, assumable roles and attached policies",
			"properties": obj{
				"from":      str("identity id or name"),
				"max_depth": depth("hops to follow"),
				"action":    str("glob over grant actions, e.g. s3:Get*"),
				"resource":  str("glob over resources, or a resource name"),
			}},
		"who_can": obj{"type": "object", "additionalProperties": false, "description": "which identities can do action (or hold privilege) on resource",
			"properties": obj{
				"action":    str("glob over grant actions (\"s3:GetObject\", \"get\", \"*delete*\"), or \"assume\" to ask who can become resource"),
				"privilege": obj{"type": "string", "enum": privilegeNames(), "description": "instead of action: grants of at least this level"},
				"resource":  str("resource id, name or glob; * for anything"),
				"max_depth": depth("hops to follow backwards from the grant"),
			}},
		"changes": obj{"type": "object", "additionalProperties": false, "description": "what changed between syncs (the recorded change history, not the graph)",
			"properties": obj{
				"since":     obj{"type": "string", "format": "date-time", "description": "changes recorded at or after this time (RFC 3339, UTC): resolve yesterday, since Monday, last 7 days against now; omit for the whole history"},
				"last_sync": obj{"type": "boolean", "description": "only what the most recent sync found (since the last sync); not with since"},
				"types":     enumArray("change types to keep; empty keeps all", query.ChangeTypes),
				"window":    str("the question's words for the time (yesterday, since monday), shown with the answer"),
			}},
		"group_by": obj{"type": "array", "items": obj{"type": "string"}, "description": "count rows by these fields: " + strings.Join(GroupFields(), ", ")},
		"sort": obj{"type": "array", "items": obj{"type": "object", "additionalProperties": false, "required": []string{"field"},
			"properties": obj{"field": obj{"type": "string", "enum": query.Columns}, "desc": obj{"type": "boolean"}}}},
		"limit": obj{"type": "integer", "minimum": 1, "maximum": query.MaxLimit, "description": "rows to return (the server caps it)"},
		"now":   obj{"type": "string", "format": "date-time", "description": "reference time for day arithmetic; omit to use the server's clock"},
	}
}

// planSchema is an object schema over the named plan properties (all when
// keep is nil), with required listed.
func planSchema(keep []string, required []string, extra obj) json.RawMessage {
	all := planProps()
	props := obj{}
	if keep == nil {
		props = all
	} else {
		for _, k := range keep {
			props[k] = all[k]
		}
	}
	for k, v := range extra {
		props[k] = v
	}
	s := obj{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return mustJSON(s)
}

// PlanSchema is the JSON Schema of a whole query plan.
func PlanSchema() json.RawMessage { return planSchema(nil, nil, nil) }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("tools: schema: %v", err))
	}
	return b
}
