package workflow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/remediation"
	"github.com/steward-oss/steward/remediation/action"
	"github.com/steward-oss/steward/tools"
)

// AnswerRequest asks for the remediation of every row of a chat answer:
// the Slack app's `remediate` command, typed in the thread of a question.
type AnswerRequest struct {
	// Answer is the thread's previous result; its "id" column names the
	// targets.
	Answer *chat.Answer
	// Question is what Answer answered; the default justification quotes
	// it.
	Question string
	// Args is what followed `remediate`: an optional action type, then
	// the justification.
	Args string
	// Requester is who asked (an e-mail or Slack id).
	Requester string
	// Required and Group are the configured approval rule: how many
	// distinct approvals, and the approver group besides the owners.
	Required int
	Group    string
	// ExpiresAt is the approval deadline; an unanswered proposal is
	// cancelled then.
	ExpiresAt time.Time
}

// FromAnswer builds, without submitting, the remediation proposal of
// req: one action per row, deactivate_identity for identities and
// disable_credential for credentials unless Args names one of the actions
// that take no parameters. Each target is snapshotted from the current
// graph with the state its actuator must still find, its first active
// owner and up to three evidence edges of its row.
//
// A refused request returns nil and an *AnswerRefusal whose text is
// written for the analyst (it names what to do instead), so the caller
// can show it as is.
func FromAnswer(g IndexSource, req AnswerRequest) (*remediation.Proposal, error) {
	ans := req.Answer
	if ans == nil {
		return nil, refuse("Ask a question in this thread first; `remediate` acts on its result.")
	}
	idCol := slices.Index(ans.Columns, "id")
	if idCol < 0 || len(ans.Rows) == 0 {
		return nil, refuse("The previous result lists no identities to remediate.")
	}
	if ans.Total > len(ans.Rows) {
		return nil, refuse("The previous result shows %d of %d rows; narrow the question so every target is visible before remediating.", len(ans.Rows), ans.Total)
	}
	var kind action.Kind
	args := req.Args
	if w, rest, _ := strings.Cut(args, " "); action.Kind(w).Known() {
		switch action.Kind(w) {
		case remediation.ActionDeactivateIdentity, remediation.ActionDisableCredential, remediation.ActionRotateCredential, remediation.ActionNotifyOwner:
			kind, args = action.Kind(w), strings.TrimSpace(rest)
		case remediation.ActionDelete:
			return nil, refuse("Deletion is not proposed from Slack; disable first.")
		default:
			return nil, refuse("%s needs parameters (which grant or group); ask the agent to propose it.", w)
		}
	}
	ix := g.Index()
	if ix == nil {
		return nil, refuse("No graph is loaded.")
	}
	rp := &remediation.Proposal{
		Approvers: remediation.Approvers{Required: req.Required, Group: req.Group},
		ExpiresAt: req.ExpiresAt.UTC(),
		OnExpiry:  approval.ExpiryCancel,
	}
	var ids []string
	for r, row := range ans.Rows {
		id, _ := row[idCol].(string)
		i, ok := ix.Lookup(id)
		if !ok {
			return nil, refuse("%s is no longer in the graph; ask again.", tools.MaskSecrets(id))
		}
		n := ix.Node(i)
		t := remediation.Target{ID: n.ID, Name: n.Name, Kind: n.Kind, Source: n.Source, Expect: actuate.Expect(&n), OwnerEmail: firstActiveOwner(ix, i)}
		if r < len(ans.Evidence) {
			for _, ev := range ans.Evidence[r] {
				if len(t.Why) == 3 {
					break
				}
				t.Why = append(t.Why, fmt.Sprintf("%s -%s-> %s", ev.From, ev.Kind, ev.To))
			}
		}
		typ := kind
		if typ == "" {
			typ = remediation.ActionDeactivateIdentity
			if n.Kind == graph.KindCredential {
				typ = remediation.ActionDisableCredential
			}
		}
		rp.Targets = append(rp.Targets, t)
		rp.Actions = append(rp.Actions, connectors.Action{Type: typ, Target: n.ID})
		ids = append(ids, n.ID)
	}
	plan := ans.Plan
	if plan == nil {
		plan = &query.Plan{Version: query.Version, IDs: ids}
	}
	pj, err := json.Marshal(plan)
	if err != nil {
		return nil, refuse("The previous result's plan cannot be encoded.")
	}
	rp.Plan = pj
	rp.Justification = strings.TrimSpace(args)
	if rp.Justification == "" {
		rp.Justification = fmt.Sprintf("Requested in Slack by %s for the result of %q", req.Requester, clip(req.Question, 300))
	}
	return rp, nil
}

// firstActiveOwner is the person of node i's first owns edge who has not
// left ("human:" prefix dropped): a departed owner is no longer someone
// who may approve.
func firstActiveOwner(ix *graph.Index, i int32) string {
	owners, _ := ix.Owners(i)
	for _, ei := range owners {
		e := ix.Edge(ei)
		if e.Kind != graph.EdgeOwns {
			continue
		}
		if j, ok := ix.Lookup(e.From); ok && ix.NodeStatus(j) == graph.StatusDeparted {
			continue
		}
		return strings.TrimPrefix(e.From, "human:")
	}
	return ""
}

// AnswerRefusal is why FromAnswer made no proposal, written for the
// analyst who asked.
type AnswerRefusal struct{ Message string }

func (r *AnswerRefusal) Error() string { return r.Message }

// UserMessage makes a refusal a public error (internal/publicerr): Slack
// and HTTP show its text as is.
func (r *AnswerRefusal) UserMessage() string { return r.Message }

func refuse(format string, args ...any) *AnswerRefusal {
	return &AnswerRefusal{Message: fmt.Sprintf(format, args...)}
}

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
