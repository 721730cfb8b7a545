package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/tools"
)

// offline answers with the deterministic planner, then runs the plan
// through the same tool a model would have called, so the Answer, the
// Step and the evidence look the same on both paths.
func (a *Agent) offline(ctx context.Context, env *tools.Env, q Question, th *Thread) (*Answer, error) {
	ans := &Answer{Offline: true, Steps: []Step{}}
	// Names in the question resolve against the graph the tools read, so
	// the plan and its execution see the same identities.
	var o planner.Options
	if env != nil {
		o.Now = env.Now // "since yesterday" is the asker's yesterday
	}
	if env != nil && env.Index != nil {
		o.Resolver = planner.IndexResolver(env.Index)
	}
	u, err := planner.Understand(q.Text, th.Plan, o)
	if err != nil {
		var um *planner.UnmappedError
		if errors.As(err, &um) {
			ans.Text = um.Error()
			return ans, err
		}
		return nil, fmt.Errorf("agent: plan %q: %w", q.Text, err)
	}
	p := u.Plan
	for _, c := range u.Corrections {
		ans.Corrections = append(ans.Corrections, c.String())
	}
	name, args, err := toolCallFor(p)
	if err != nil {
		return nil, err
	}
	step, out := a.runTool(ctx, env, a.exposed(env), ToolCall{ID: "offline-1", Name: name, Arguments: string(args)}, 1)
	ans.Steps = append(ans.Steps, step)
	ans.Usage.ToolCalls = 1
	if q.OnStep != nil {
		q.OnStep(step)
	}
	if step.Error != nil {
		ans.Text = step.Error.Message
		return ans, step.Error
	}
	ans.Plan, ans.Result, ans.Text = out.Plan, out.Result, out.Text
	return ans, nil
}

// toolCallFor maps a plan to the tool that runs its mode.
func toolCallFor(p *query.Plan) (string, []byte, error) {
	var name string
	var v any
	switch {
	case p.Changes != nil:
		name, v = "list_changes", p
	case p.Reach != nil:
		name, v = "explain_access", map[string]any{"identity": p.Reach.From, "action": p.Reach.Action, "resource": p.Reach.Resource,
			"max_depth": p.Reach.MaxDepth, "filters": p.Filters}
	case p.WhoCan != nil && len(p.GroupBy) == 0:
		name, v = "who_can", map[string]any{"action": p.WhoCan.Action, "privilege": p.WhoCan.Privilege, "resource": p.WhoCan.Resource,
			"max_depth": p.WhoCan.MaxDepth, "kinds": p.Kinds, "sources": p.Sources, "filters": p.Filters, "sort": p.Sort, "limit": p.Limit}
	case len(p.GroupBy) > 0:
		name, v = "aggregate", p
	default:
		name, v = "find_identities", p
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", nil, fmt.Errorf("agent: encode %s arguments: %w", name, err)
	}
	return name, b, nil
}
