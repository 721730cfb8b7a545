package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/remediation/action"
)

// Proposer records a remediation proposal for people to approve. It is
// declared here, where it is used; the server adapts the approval service
// to it. An implementation must only record: nothing is executed until
// approvers decide, outside the agent.
type Proposer interface {
	Propose(ctx context.Context, req ProposalRequest) (*ProposalReceipt, error)
}

// ProposalRequest is what propose_remediation asks the Proposer to record.
type ProposalRequest struct {
	Requester     string            `json:"requester"`
	Action        action.Kind       `json:"action"`
	Params        map[string]string `json:"params,omitempty"`
	Justification string            `json:"justification"`
	Targets       []Target          `json:"targets"`
	// Plan selected the targets; nil when they were named by id.
	Plan *query.Plan `json:"plan,omitempty"`
	At   time.Time   `json:"at"`
}

// Target is one node a proposal acts on, with the evidence that put it
// there.
type Target struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Kind        graph.Kind        `json:"kind"`
	Source      string            `json:"source"`
	Owners      []string          `json:"owners,omitempty"`
	OwnerStatus graph.OwnerStatus `json:"owner_status"`
	Evidence    []query.EdgeRef   `json:"evidence,omitempty"`
}

// ProposalReceipt is what the Proposer recorded.
type ProposalReceipt struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Approvers who may decide, when the Proposer knows them.
	Approvers []string `json:"approvers,omitempty"`
}

// Proposal is propose_remediation's Output.Proposal.
type Proposal struct {
	ProposalReceipt
	Action        action.Kind `json:"action"`
	Targets       []string    `json:"targets"`
	Justification string      `json:"justification"`
}

// ActionSpec says which node kinds an action type applies to and which
// params it needs.
type ActionSpec struct {
	Type   action.Kind
	Kinds  []graph.Kind
	Params []string // required params
	Doc    string
}

// Actions are the remediation types an analyst (or the model) may
// propose. Deletion is deliberately absent: the agent proposes reversible
// changes only.
var Actions = []ActionSpec{
	{action.NotifyOwner, append(append([]graph.Kind{}, graph.IdentityKinds...), graph.KindCredential), nil, "ask the owner to review; changes nothing"},
	{action.DisableCredential, []graph.Kind{graph.KindCredential}, nil, "disable (not delete) a credential"},
	{action.RotateCredential, []graph.Kind{graph.KindCredential}, nil, "issue a new credential and retire the old one"},
	{action.DeactivateIdentity, graph.IdentityKinds, nil, "disable an identity's login/use"},
	{action.RemoveMembership, append(append([]graph.Kind{}, graph.IdentityKinds...), graph.KindGroup), []string{"group"}, "remove the identity from the group or role given as params.group (node id)"},
	{action.RevokeGrant, append(append([]graph.Kind{}, graph.IdentityKinds...), graph.KindGroup, graph.KindRole), nil, "revoke a grant; params describe it in the source's terms"},
}

func actionSpec(t action.Kind) (ActionSpec, bool) {
	for _, a := range Actions {
		if a.Type == t {
			return a, true
		}
	}
	return ActionSpec{}, false
}

func actionTypes() []string {
	out := make([]string, len(Actions))
	for i, a := range Actions {
		out[i] = string(a.Type)
	}
	return out
}

// minJustification is the shortest justification accepted: approvers need
// a reason, not "fix".
const minJustification = 10

type proposeArgs struct {
	IDs           []string          `json:"ids"`
	Plan          json.RawMessage   `json:"plan"`
	Action        action.Kind       `json:"action"`
	Params        map[string]string `json:"params"`
	Justification string            `json:"justification"`
}

func proposeRemediation() Tool {
	var docs []string
	for _, a := range Actions {
		docs = append(docs, string(a.Type)+": "+a.Doc)
	}
	return Tool{
		Name: "propose_remediation",
		Description: "Record a remediation proposal for human approval in Slack. It NEVER executes anything: approvers decide later, outside this conversation. " +
			"Targets are ids (from a previous result) or a find plan. Actions: " + strings.Join(docs, "; ") + ".",
		Schema: mustJSON(obj{"type": "object", "additionalProperties": false, "required": []string{"action", "justification"}, "properties": obj{
			"ids":           strArray("node ids to act on"),
			"plan":          planSchema([]string{"version", "kinds", "sources", "ids", "filters", "who_can", "limit", "now"}, nil, nil),
			"action":        obj{"type": "string", "enum": actionTypes()},
			"params":        obj{"type": "object", "additionalProperties": obj{"type": "string"}},
			"justification": str("why, citing the evidence; approvers read it"),
		}}),
		ReadOnly: false,
		Run:      runPropose,
	}
}

func runPropose(ctx context.Context, env *Env, raw json.RawMessage) (*Output, error) {
	var a proposeArgs
	if err := decode(raw, &a); err != nil {
		return nil, err
	}
	spec, ok := actionSpec(a.Action)
	if !ok {
		return nil, argErr("action", "unknown action %q (want %s)", a.Action, strings.Join(actionTypes(), ", "))
	}
	if len(strings.TrimSpace(a.Justification)) < minJustification {
		return nil, argErr("justification", "required: at least %d characters explaining why", minJustification)
	}
	for _, p := range spec.Params {
		if strings.TrimSpace(a.Params[p]) == "" {
			return nil, argErr("params."+p, "required for %s", a.Action)
		}
	}
	if spec.Type == action.RevokeGrant && len(a.Params) == 0 {
		return nil, argErr("params", "revoke_grant needs params naming the grant")
	}
	hasPlan := len(a.Plan) > 0 && string(a.Plan) != "null"
	if (len(a.IDs) > 0) == hasPlan {
		return nil, argErr("ids", "give exactly one of ids or plan")
	}
	if env.Proposer == nil {
		return nil, &Error{Code: CodeUnavailable, Message: "proposals are not enabled on this server"}
	}
	if strings.TrimSpace(env.Actor) == "" {
		return nil, &Error{Code: CodeUnavailable, Message: "no requester: proposals need an authenticated actor"}
	}
	ix := env.Index
	var ids []string
	var plan *query.Plan
	if hasPlan {
		p, err := decodePlan(a.Plan)
		if err != nil {
			return nil, prefixField(err, "plan.")
		}
		switch {
		case len(p.GroupBy) > 0:
			return nil, argErr("plan.group_by", "a grouped plan selects no identities")
		case p.Reach != nil:
			return nil, argErr("plan.reach", "reach rows are grants, not identities")
		}
		p.Limit = env.Limits.MaxTargets + 1
		res, err := query.Execute(ctx, ix, p, env.Now)
		if err != nil {
			return nil, prefixField(err, "plan.")
		}
		if res.Total > env.Limits.MaxTargets {
			return nil, argErr("plan", "selects %d targets; at most %d per proposal, narrow it", res.Total, env.Limits.MaxTargets)
		}
		p.Limit = env.Limits.MaxTargets
		ids, plan = res.IDs, p
	} else {
		if len(a.IDs) > env.Limits.MaxTargets {
			return nil, argErr("ids", "%d targets; at most %d per proposal", len(a.IDs), env.Limits.MaxTargets)
		}
		for k, id := range a.IDs {
			i, err := query.Resolve(ix, id)
			if err != nil {
				te := classify("", err)
				te.Field = fmt.Sprintf("ids[%d]", k)
				return nil, te
			}
			if nid := ix.NodeID(i); !slices.Contains(ids, nid) {
				ids = append(ids, nid)
			}
		}
	}
	if len(ids) == 0 {
		return nil, argErr("plan", "selects no targets")
	}
	targets, err := targetsOf(ctx, env, ids, spec, a.Params)
	if err != nil {
		return nil, err
	}
	req := ProposalRequest{Requester: env.Actor, Action: spec.Type, Params: a.Params, Justification: strings.TrimSpace(a.Justification),
		Targets: targets, Plan: plan, At: env.Now}
	rec, err := env.Proposer.Propose(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("propose %s: %w", spec.Type, err)
	}
	out := Proposal{ProposalReceipt: *rec, Action: spec.Type, Targets: ids, Justification: req.Justification}
	return &Output{Plan: plan, Proposal: out,
		Text: fmt.Sprintf("proposal %s (%s) recorded for %s; it waits for approval and has not been executed", rec.ID, spec.Type, plural(len(ids), "target", "targets"))}, nil
}

// targetsOf checks every target suits the action and gathers its
// evidence.
func targetsOf(ctx context.Context, env *Env, ids []string, spec ActionSpec, params map[string]string) ([]Target, error) {
	ix := env.Index
	var kinds []graph.Kind
	for k, id := range ids {
		i, _ := ix.Lookup(id)
		n := ix.Node(i)
		if !slices.Contains(spec.Kinds, n.Kind) {
			return nil, argErr(fmt.Sprintf("ids[%d]", k), "%s is a %s; %s applies to %s", id, n.Kind, spec.Type, kindList(spec.Kinds))
		}
		if spec.Type == action.RemoveMembership && !memberOf(ix, i, params["group"]) {
			return nil, argErr("params.group", "%s is not a member of %q", id, params["group"])
		}
		if !slices.Contains(kinds, n.Kind) {
			kinds = append(kinds, n.Kind)
		}
	}
	// One find over the targets gives each its evidence the same way a
	// question would.
	p := &query.Plan{Version: query.Version, IDs: ids, Kinds: kinds, Limit: len(ids)}
	res, err := query.Execute(ctx, ix, p, env.Now)
	if err != nil {
		return nil, err
	}
	ev := map[string][]query.EdgeRef{}
	for k, id := range res.IDs {
		ev[id] = res.Evidence[k]
	}
	out := make([]Target, 0, len(ids))
	for _, id := range ids {
		i, _ := ix.Lookup(id)
		n := ix.Node(i)
		t := Target{ID: n.ID, Name: displayName(&n), Kind: n.Kind, Source: n.Source, Evidence: ev[id]}
		owners, st := ix.Owners(i)
		t.OwnerStatus = st
		for _, ei := range owners {
			if e := ix.Edge(ei); e.Kind == graph.EdgeOwns {
				t.Owners = append(t.Owners, strings.TrimPrefix(e.From, "human:"))
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func memberOf(ix *graph.Index, i int32, group string) bool {
	for _, ei := range ix.Out(i) {
		if e := ix.Edge(ei); e.Kind == graph.EdgeMemberOf && e.To == group {
			return true
		}
	}
	return false
}

func kindList(ks []graph.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// prefixField puts the plan's field paths under the argument that held
// it.
func prefixField(err error, prefix string) error {
	te := classify("", err)
	if te.Field != "" || te.Code == CodeInvalidArgs {
		te.Field = strings.TrimSuffix(prefix+te.Field, ".")
	}
	return te
}
