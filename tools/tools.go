// Package tools is the only way Steward's agent touches data: a small set
// of typed, bounded tools over the graph index (find, explain, who-can,
// describe, aggregate) and one non-read tool that records a remediation
// proposal without ever executing it. The same registry serves the LLM
// agent, the offline planner path, the HTTP API and Slack, so every
// surface validates arguments, bounds work and returns evidence the same
// way.
//
// Arguments are JSON, decoded strictly (unknown fields are errors). Every
// failure is an *Error naming the bad field, so a model can correct its
// call instead of the caller crashing.
package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// Tool is one capability. Run must honour ctx and env.Limits.
type Tool struct {
	Name        string
	Description string
	// Schema is the JSON Schema of the arguments object.
	Schema json.RawMessage
	// ReadOnly is false only for tools that record something
	// (propose_remediation); no tool changes a source system.
	ReadOnly bool
	Run      func(ctx context.Context, env *Env, args json.RawMessage) (*Output, error)
}

// Limits bound the work one call may do.
type Limits struct {
	// MaxRows caps the rows a result returns (plans asking for more are
	// clamped, and Total still counts every match).
	MaxRows int
	// MaxDepth caps reach and who_can walks.
	MaxDepth int
	// Timeout bounds one call.
	Timeout time.Duration
	// MaxTargets caps how many identities one proposal may name.
	MaxTargets int
}

// Default limits.
const (
	DefaultMaxRows    = 200
	DefaultTimeout    = 10 * time.Second
	DefaultMaxTargets = 50
)

func (l Limits) withDefaults() Limits {
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultMaxRows
	}
	if l.MaxRows > query.MaxLimit {
		l.MaxRows = query.MaxLimit
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = query.DefaultMaxDepth
	}
	if l.MaxDepth > query.MaxDepth {
		l.MaxDepth = query.MaxDepth
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxTargets <= 0 {
		l.MaxTargets = DefaultMaxTargets
	}
	return l
}

// Env is what a call runs against. It is built per request: the index a
// question sees never changes under it.
type Env struct {
	Index  *graph.Index
	Now    time.Time
	Limits Limits
	// Proposer records proposals; nil disables propose_remediation.
	Proposer Proposer
	// Actor is who asked (an e-mail, "api-key:<name>"); proposals are
	// requested in their name.
	Actor string
	// Changes is the change history list_changes reads; nil means none
	// is recorded here.
	Changes ChangeHistory
}

// Output is what a tool returns. Which fields are set depends on the tool.
type Output struct {
	Plan     *query.Plan   `json:"plan,omitempty"`
	Result   *query.Result `json:"result,omitempty"`
	Text     string        `json:"text,omitempty"`
	Proposal any           `json:"proposal,omitempty"`
	// Identity is describe_identity's detail.
	Identity *Identity `json:"identity,omitempty"`
}

// Error codes.
const (
	CodeUnknownTool = "unknown_tool"
	CodeInvalidJSON = "invalid_json"
	CodeInvalidArgs = "invalid_args"
	CodeNotFound    = "not_found"
	CodeUnavailable = "unavailable"
	CodeTimeout     = "timeout"
	CodeFailed      = "failed"
)

// Error is a tool failure in a form a model (or an API client) can act
// on: which tool, which argument, what was wrong.
type Error struct {
	Tool string `json:"tool"`
	Code string `json:"code"`
	// Field is the JSON path of the bad argument ("filters[0].op"), empty
	// when the failure is not about one argument.
	Field       string   `json:"field,omitempty"`
	Message     string   `json:"message"`
	Suggestions []string `json:"suggestions,omitempty"`
	err         error
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("tools: %s: %s: %s", e.Tool, e.Field, e.Message)
	}
	return fmt.Sprintf("tools: %s: %s", e.Tool, e.Message)
}

func (e *Error) Unwrap() error { return e.err }

// argErr is the error a Run returns for a bad argument; Registry.Call
// stamps the tool name.
func argErr(field, format string, a ...any) *Error {
	return &Error{Code: CodeInvalidArgs, Field: field, Message: fmt.Sprintf(format, a...)}
}

// Registry holds tools by name.
type Registry struct {
	tools map[string]Tool
}

// NewRegistry returns a registry of ts. Duplicate names panic: the set is
// fixed at build time.
func NewRegistry(ts ...Tool) *Registry {
	r := &Registry{tools: map[string]Tool{}}
	for _, t := range ts {
		if _, dup := r.tools[t.Name]; dup {
			panic("tools: duplicate tool " + t.Name)
		}
		r.tools[t.Name] = t
	}
	return r
}

// Default is the registry of every Steward tool.
func Default() *Registry {
	return NewRegistry(findIdentities(), explainAccess(), whoCan(), describeIdentity(), aggregate(), listChanges(), proposeRemediation())
}

// List returns the tools sorted by name.
func (r *Registry) List() []Tool {
	out := make([]Tool, 0, len(r.tools))
	for _, t := range r.tools {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns the tool called name.
func (r *Registry) Get(name string) (Tool, bool) {
	t, ok := r.tools[name]
	return t, ok
}

// Call runs tool name with args under env's limits. Every failure is an
// *Error.
func (r *Registry) Call(ctx context.Context, env *Env, name string, args json.RawMessage) (*Output, error) {
	t, ok := r.tools[name]
	if !ok {
		return nil, &Error{Tool: name, Code: CodeUnknownTool, Message: fmt.Sprintf("no tool %q (have %s)", name, r.names())}
	}
	if env == nil || env.Index == nil {
		return nil, &Error{Tool: name, Code: CodeUnavailable, Message: "no graph loaded"}
	}
	e := *env
	e.Limits = env.Limits.withDefaults()
	if e.Now.IsZero() {
		e.Now = time.Now().UTC()
	}
	ctx, cancel := context.WithTimeout(ctx, e.Limits.Timeout)
	defer cancel()
	out, err := t.Run(ctx, &e, args)
	if err != nil {
		return nil, classify(name, err)
	}
	return out, nil
}

func (r *Registry) names() string {
	var s string
	for i, t := range r.List() {
		if i > 0 {
			s += ", "
		}
		s += t.Name
	}
	return s
}

// classify turns any error from a tool into an *Error.
func classify(tool string, err error) *Error {
	var te *Error
	if errors.As(err, &te) {
		c := *te
		c.Tool = tool
		return &c
	}
	var fe *query.FieldError
	if errors.As(err, &fe) {
		return &Error{Tool: tool, Code: CodeInvalidArgs, Field: fe.Field, Message: fe.Msg, err: err}
	}
	var ee *query.EntityError
	if errors.As(err, &ee) {
		return &Error{Tool: tool, Code: CodeNotFound, Message: ee.Error(), Suggestions: ee.Suggestions, err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Tool: tool, Code: CodeTimeout, Message: "the call ran out of time; narrow the question", err: err}
	}
	return &Error{Tool: tool, Code: CodeFailed, Message: err.Error(), err: err}
}
