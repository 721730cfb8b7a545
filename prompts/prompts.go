// Package prompts holds the agent's system prompt and few-shot examples
// as embedded files, and renders them with a graph-schema section that is
// generated from the code at run time (graph.Kinds, graph.EdgeKinds, the
// query fields and operators, the tools' action types), so the model is
// never told about a kind or field that no longer exists.
package prompts

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/tools"
)

//go:embed system.md examples.json
var files embed.FS

// DataTag names the delimiters around tool results. Data blocks are JSON
// with <, > and & escaped, so a block cannot contain a delimiter.
const DataTag = "STEWARD_DATA"

// DataOpen is the line that opens a data block.
func DataOpen(attrs string) string { return "<<<" + DataTag + " " + attrs + ">>>" }

// DataClose is the line that closes a data block.
func DataClose(attrs string) string { return "<<<END_" + DataTag + " " + attrs + ">>>" }

// Example is one few-shot question and the tool call that answers it.
type Example struct {
	Question string          `json:"question"`
	Tool     string          `json:"tool"`
	Args     json.RawMessage `json:"args"`
	Note     string          `json:"note,omitempty"`
}

// Examples returns the few-shot examples.
func Examples() ([]Example, error) {
	b, err := files.ReadFile("examples.json")
	if err != nil {
		return nil, fmt.Errorf("prompts: read examples.json: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ex []Example
	if err := dec.Decode(&ex); err != nil {
		return nil, fmt.Errorf("prompts: examples.json: %w", err)
	}
	return ex, nil
}

// Schema renders the graph and plan vocabulary from the code.
func Schema() string {
	var b strings.Builder
	kinds := make([]string, len(graph.Kinds))
	for i, k := range graph.Kinds {
		kinds[i] = string(k)
	}
	edges := make([]string, len(graph.EdgeKinds))
	for i, k := range graph.EdgeKinds {
		edges[i] = string(k)
	}
	nhi := make([]string, len(graph.NHIKinds))
	for i, k := range graph.NHIKinds {
		nhi[i] = string(k)
	}
	fmt.Fprintf(&b, "Node kinds: %s.\n", strings.Join(kinds, ", "))
	fmt.Fprintf(&b, "Non-human identity kinds: %s.\n", strings.Join(nhi, ", "))
	fmt.Fprintf(&b, "Edge kinds: %s.\n", strings.Join(edges, ", "))
	fmt.Fprintf(&b, "Privileges, weakest first: %s, %s, %s, %s.\n", graph.PrivNone, graph.PrivRead, graph.PrivWrite, graph.PrivAdmin)
	fmt.Fprintf(&b, "Owner status: %s (an active owner), %s (every owner has left), %s (nobody owns it).\n", graph.OwnerPresent, graph.OwnerDeparted, graph.OwnerAbsent)
	fmt.Fprintf(&b, "\nQuery plan (version %d) fields: %s.\n", query.Version, strings.Join(planFields(), ", "))
	b.WriteString("Filter fields (type: operators):\n")
	for _, fs := range tools.FieldSpecs() {
		fmt.Fprintf(&b, "- %s (%s): %s", fs.Name, fs.Type, strings.Join(fs.Ops, ", "))
		if len(fs.Enum) > 0 {
			fmt.Fprintf(&b, "; values: %s", strings.Join(fs.Enum, ", "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Operators: %s. in and not_in take \"values\"; exists and not_exists take no value.\n", strings.Join(tools.Ops(), ", "))
	fmt.Fprintf(&b, "group_by fields: %s.\n", strings.Join(tools.GroupFields(), ", "))
	fmt.Fprintf(&b, "Columns (sort fields): %s.\n", strings.Join(query.Columns, ", "))
	fmt.Fprintf(&b, "Change plans (list_changes): changes.since (RFC 3339) or changes.last_sync, changes.types (%s), sources, ids; rows have columns %s.\n",
		strings.Join(query.ChangeTypes, ", "), strings.Join(query.ChangeColumns, ", "))
	fmt.Fprintf(&b, "Depth of reach and who_can walks: 1..%d (default %d).\n", query.MaxDepth, query.DefaultMaxDepth)
	b.WriteString("Remediation actions (propose only):\n")
	for _, a := range tools.Actions {
		fmt.Fprintf(&b, "- %s: %s\n", a.Type, a.Doc)
	}
	return strings.TrimRight(b.String(), "\n")
}

// planFields are the JSON names of query.Plan's fields.
func planFields() []string {
	var out []string
	t := reflect.TypeFor[query.Plan]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

func renderExamples(ex []Example) string {
	var b strings.Builder
	for _, e := range ex {
		fmt.Fprintf(&b, "Analyst: %s\nCall %s %s\n", e.Question, e.Tool, compact(e.Args))
		if e.Note != "" {
			fmt.Fprintf(&b, "(%s)\n", e.Note)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func compact(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// sourceRE is what a source name must look like to appear in the prompt:
// the prompt sits outside the data blocks, so a graph file naming its
// source "ignore previous instructions" must not reach it.
var sourceRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}(:[A-Za-z0-9._@/-]{1,96})?$`)

// System renders the system prompt. sources are the loaded source names
// (may be empty); names not shaped like "type" or "type:scope" are left
// out.
func System(sources []string) (string, error) {
	var safe []string
	for _, s := range sources {
		if sourceRE.MatchString(s) {
			safe = append(safe, s)
		}
	}
	b, err := files.ReadFile("system.md")
	if err != nil {
		return "", fmt.Errorf("prompts: read system.md: %w", err)
	}
	tmpl, err := template.New("system.md").Option("missingkey=error").Parse(string(b))
	if err != nil {
		return "", fmt.Errorf("prompts: parse system.md: %w", err)
	}
	ex, err := Examples()
	if err != nil {
		return "", err
	}
	// Source names come from the data (a graph file names its own
	// source), so even well-shaped ones reach the model only inside a
	// data block, as JSON with <, > and & escaped.
	sourcesBlock := ""
	if len(safe) > 0 {
		b, err := json.Marshal(safe)
		if err != nil {
			return "", fmt.Errorf("prompts: encode sources: %w", err)
		}
		sourcesBlock = DataOpen("kind=sources") + "\n" + string(b) + "\n" + DataClose("kind=sources")
	}
	var out bytes.Buffer
	err = tmpl.Execute(&out, map[string]string{
		"Schema":    Schema(),
		"Examples":  renderExamples(ex),
		"Sources":   sourcesBlock,
		"DataOpen":  DataOpen("tool=NAME call=ID"),
		"DataClose": DataClose("call=ID"),
	})
	if err != nil {
		return "", fmt.Errorf("prompts: render system.md: %w", err)
	}
	return out.String(), nil
}
