// Package agent answers analysts' questions about the identity graph. With
// a Model it runs a bounded tool-calling loop (steps, tokens, time) over
// the tools package; without one it uses the offline planner and the same
// tools, so both paths return the same Answer shape. Conversations are
// remembered per thread, so follow-ups narrow the previous result.
//
// Guardrails: the model sees tool results only as JSON inside delimited
// data blocks, and the system prompt says data is never instructions;
// unknown tools and invalid arguments are returned to the model as errors
// it can correct (and count against the step budget); only read-only
// tools and propose_remediation are offered, and proposing only records a
// proposal for people to approve. This package imports neither actuators
// nor Slack.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/steward-oss/steward/prompts"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/tools"
)

// Options configure an Agent.
type Options struct {
	// Model is nil for the offline planner.
	Model Model
	// Tools defaults to tools.Default().
	Tools *tools.Registry
	// Memory defaults to NewMemoryStore(0, 0).
	Memory Memory
	// MaxSteps bounds tool calls per question; MaxTokens bounds the
	// tokens a question may spend across model calls; Timeout bounds the
	// whole question. Zero means the Config defaults.
	MaxSteps  int
	MaxTokens int
	Timeout   time.Duration
	// ModelRows is how many rows of a result the model sees (the Answer
	// keeps them all); default 50.
	ModelRows int
	Logger    *slog.Logger
}

// Agent answers questions. It is safe for concurrent use.
type Agent struct {
	o Options
}

// New returns an agent.
func New(o Options) *Agent {
	if o.Tools == nil {
		o.Tools = tools.Default()
	}
	if o.Memory == nil {
		o.Memory = NewMemoryStore(0, 0)
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ModelRows <= 0 {
		o.ModelRows = 50
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Agent{o: o}
}

// FromConfig builds an agent from cfg, reading the API key through getenv.
func FromConfig(ctx context.Context, cfg Config, getenv func(string) string, o Options) (*Agent, error) {
	m, err := NewModel(ctx, cfg, getenv)
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	o.Model, o.MaxSteps, o.MaxTokens, o.Timeout = m, cfg.MaxSteps, cfg.MaxTokens, cfg.Timeout
	return New(o), nil
}

// Question is one analyst question.
type Question struct {
	// Thread groups questions into a conversation; empty means none.
	Thread string
	Text   string
	// OnStep, when set, is called after each tool call (for streaming).
	OnStep func(Step)
}

// Step is one tool call made while answering.
type Step struct {
	N    int    `json:"n"`
	Tool string `json:"tool"`
	// Args are the arguments as sent, which may be invalid JSON.
	Args     string       `json:"args"`
	Text     string       `json:"text,omitempty"`
	Rows     int          `json:"rows"`
	Total    int          `json:"total"`
	Error    *tools.Error `json:"error,omitempty"`
	Proposal any          `json:"proposal,omitempty"`
}

// Answer is the reply to a question.
type Answer struct {
	// Text is the one-line summary.
	Text string `json:"text"`
	// Plan and Result are the last tool result with rows.
	Plan      *query.Plan   `json:"plan,omitempty"`
	Result    *query.Result `json:"result,omitempty"`
	Steps     []Step        `json:"steps"`
	Proposals []any         `json:"proposals,omitempty"`
	Usage     Usage         `json:"usage"`
	// Offline is true when the offline planner answered.
	Offline bool `json:"offline"`
	// Stopped names the budget that ended the turn early ("max_steps",
	// "max_tokens"); empty when the model finished.
	Stopped string `json:"stopped,omitempty"`
	// Corrections are the words the offline planner read as others
	// ("admnis → admins"), to be shown with the answer.
	Corrections []string `json:"corrections,omitempty"`
}

// ErrBudget is matched (errors.Is) by a *BudgetError.
var ErrBudget = errors.New("budget exhausted")

// BudgetError says which budget ran out. Ask returns it together with the
// partial Answer.
type BudgetError struct {
	Budget string // "max_steps" or "max_tokens"
	Limit  int
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("agent: %s budget of %d exhausted before the model finished", e.Budget, e.Limit)
}

func (e *BudgetError) Unwrap() error { return ErrBudget }

// Ask answers q against env (whose Index, Now, Actor and Proposer are the
// request's). On a budget stop it returns the partial Answer and a
// *BudgetError; an offline question the planner cannot map returns an
// Answer explaining what works and the *planner.UnmappedError.
func (a *Agent) Ask(ctx context.Context, env *tools.Env, q Question) (*Answer, error) {
	if strings.TrimSpace(q.Text) == "" {
		return nil, errors.New("agent: empty question")
	}
	if env == nil || env.Index == nil {
		return nil, errors.New("agent: no graph loaded")
	}
	ctx, cancel := context.WithTimeout(ctx, a.o.Timeout)
	defer cancel()
	th := &Thread{}
	if q.Thread != "" {
		t, err := a.o.Memory.Load(ctx, q.Thread)
		if err != nil {
			return nil, err
		}
		if t != nil {
			th = t
		}
	}
	var ans *Answer
	var msgs []Message
	var err error
	if a.o.Model == nil {
		ans, err = a.offline(ctx, env, q, th)
		msgs = append(th.Messages, Message{Role: RoleUser, Content: q.Text}, Message{Role: RoleAssistant, Content: ans.Text})
	} else {
		ans, msgs, err = a.converse(ctx, env, q, th)
	}
	if ans == nil {
		return nil, err
	}
	if q.Thread != "" {
		next := &Thread{Messages: msgs, Plan: th.Plan, IDs: th.IDs}
		if ans.Plan != nil {
			next.Plan = ans.Plan
			next.IDs = nil
			if ans.Result != nil {
				next.IDs = ans.Result.IDs
			}
		}
		if serr := a.o.Memory.Save(context.WithoutCancel(ctx), q.Thread, next); serr != nil && err == nil {
			err = serr
		}
	}
	return ans, err
}

// exposed lists the tools the model may call: read-only ones, and
// propose_remediation when a Proposer is configured.
func (a *Agent) exposed(env *tools.Env) map[string]tools.Tool {
	out := map[string]tools.Tool{}
	for _, t := range a.o.Tools.List() {
		if t.ReadOnly || (t.Name == "propose_remediation" && env.Proposer != nil) {
			out[t.Name] = t
		}
	}
	return out
}

func (a *Agent) converse(ctx context.Context, env *tools.Env, q Question, th *Thread) (*Answer, []Message, error) {
	sys, err := prompts.System(env.Index.Sources)
	if err != nil {
		return nil, nil, err
	}
	// Change questions name times relative to the asker's now
	// ("since yesterday"); the model resolves them against this clock.
	sys += "\n\nThe current time is " + env.Now.UTC().Format(time.RFC3339) + " (UTC)."
	exposed := a.exposed(env)
	var specs []ToolSpec
	for _, t := range a.o.Tools.List() {
		if _, ok := exposed[t.Name]; ok {
			specs = append(specs, ToolSpec{Name: t.Name, Description: t.Description, Parameters: t.Schema})
		}
	}
	history := append(append([]Message(nil), th.Messages...), Message{Role: RoleUser, Content: q.Text})
	ans := &Answer{Steps: []Step{}}
	var lastText string
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("agent: question ran out of time: %w", err)
		}
		reply, err := a.o.Model.Chat(ctx, append([]Message{{Role: RoleSystem, Content: sys}}, history...), specs)
		if err != nil {
			return nil, nil, fmt.Errorf("agent: model: %w", err)
		}
		ans.Usage.add(reply.Usage)
		history = append(history, Message{Role: RoleAssistant, Content: reply.Content, ToolCalls: reply.ToolCalls})
		if len(reply.ToolCalls) == 0 {
			ans.Text = strings.TrimSpace(reply.Content)
			if ans.Text == "" {
				ans.Text = lastText
			}
			return ans, history, nil
		}
		var stop *BudgetError
		if ans.Usage.Total() > a.o.MaxTokens {
			stop = &BudgetError{"max_tokens", a.o.MaxTokens}
		}
		for _, tc := range reply.ToolCalls {
			if stop == nil && len(ans.Steps) >= a.o.MaxSteps {
				stop = &BudgetError{"max_steps", a.o.MaxSteps}
			}
			if stop != nil {
				// Answer every call so the transcript stays well formed.
				history = append(history, toolMessage(tc, dataBlock(tc, map[string]any{"ok": false, "error": "not run: " + stop.Budget + " budget exhausted"})))
				continue
			}
			step, out := a.runTool(ctx, env, exposed, tc, len(ans.Steps)+1)
			ans.Steps = append(ans.Steps, step)
			ans.Usage.ToolCalls++
			if out != nil {
				if out.Result != nil {
					ans.Plan, ans.Result = out.Plan, out.Result
				}
				if out.Proposal != nil {
					ans.Proposals = append(ans.Proposals, out.Proposal)
				}
				lastText = out.Text
			}
			history = append(history, toolMessage(tc, dataBlock(tc, a.modelView(step, out))))
			if q.OnStep != nil {
				q.OnStep(step)
			}
		}
		if stop != nil {
			ans.Stopped = stop.Budget
			ans.Text = stopText(stop, lastText)
			return ans, history, stop
		}
	}
}

func stopText(b *BudgetError, last string) string {
	what := fmt.Sprintf("the step budget of %d tool calls", b.Limit)
	if b.Budget == "max_tokens" {
		what = fmt.Sprintf("the token budget of %d tokens", b.Limit)
	}
	s := "Stopped before finishing: " + what + " ran out."
	if last != "" {
		s += " Last result: " + last
	}
	return s
}

func (a *Agent) runTool(ctx context.Context, env *tools.Env, exposed map[string]tools.Tool, tc ToolCall, n int) (Step, *tools.Output) {
	step := Step{N: n, Tool: tc.Name, Args: tc.Arguments}
	var out *tools.Output
	var err error
	if _, ok := exposed[tc.Name]; !ok {
		names := make([]string, 0, len(exposed))
		for _, t := range a.o.Tools.List() {
			if _, ok := exposed[t.Name]; ok {
				names = append(names, t.Name)
			}
		}
		err = &tools.Error{Tool: tc.Name, Code: tools.CodeUnknownTool, Message: "no tool " + tc.Name + " (have " + strings.Join(names, ", ") + ")"}
	} else {
		out, err = a.o.Tools.Call(ctx, env, tc.Name, json.RawMessage(tc.Arguments))
	}
	if err != nil {
		var te *tools.Error
		if !errors.As(err, &te) {
			te = &tools.Error{Tool: tc.Name, Code: tools.CodeFailed, Message: err.Error()}
		}
		step.Error = te
		a.o.Logger.Debug("tool call failed", "tool", tc.Name, "code", te.Code, "field", te.Field)
		return step, nil
	}
	step.Text = out.Text
	step.Proposal = out.Proposal
	if out.Result != nil {
		step.Rows, step.Total = len(out.Result.Rows), out.Result.Total
	}
	return step, out
}

// modelView is what the model sees of a tool result: bounded rows, the
// ids it needs for follow-ups and proposals, and errors in full.
func (a *Agent) modelView(step Step, out *tools.Output) map[string]any {
	if step.Error != nil {
		return map[string]any{"ok": false, "error": step.Error}
	}
	v := map[string]any{"ok": true, "text": out.Text}
	if out.Plan != nil {
		v["plan"] = out.Plan
	}
	if r := out.Result; r != nil {
		n := min(len(r.Rows), a.o.ModelRows)
		v["columns"], v["rows"], v["total"] = r.Columns, r.Rows[:n], r.Total
		if len(r.IDs) > 0 {
			v["ids"] = r.IDs[:min(n, len(r.IDs))]
		}
		v["evidence"] = r.Evidence[:min(n, 10)]
		if n < r.Total {
			v["truncated"] = fmt.Sprintf("showing %d of %d rows", n, r.Total)
		}
	}
	if out.Identity != nil {
		v["identity"] = out.Identity
	}
	if out.Proposal != nil {
		v["proposal"] = out.Proposal
	}
	return v
}

var attrRE = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// dataBlock wraps v as JSON between delimiters. encoding/json escapes <,
// > and &, so nothing inside can close the block early.
func dataBlock(tc ToolCall, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"ok": false, "error": "result not encodable: " + err.Error()})
	}
	id := attrRE.ReplaceAllString(tc.ID, "_")
	name := attrRE.ReplaceAllString(tc.Name, "_")
	return prompts.DataOpen("tool="+name+" call="+id) + "\n" + string(b) + "\n" + prompts.DataClose("call="+id)
}

func toolMessage(tc ToolCall, content string) Message {
	return Message{Role: RoleTool, ToolCallID: tc.ID, Name: tc.Name, Content: content}
}
