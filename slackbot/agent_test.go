package slackbot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/internal/fakeclock"
	"github.com/steward-oss/steward/remediation"
)

// proposingAsker is an agent that answers by recording a proposal through
// propose_remediation, as the model may.
type proposingAsker struct {
	svc   *approval.Service
	clock *fakeclock.Clock
}

func (a *proposingAsker) Chat(ctx context.Context, conv, actor, msg string, _ func(chat.Step)) (*chat.Answer, error) {
	rp := &remediation.Proposal{
		Plan:          json.RawMessage(`{"version":1,"ids":["` + oldETL + `"]}`),
		Targets:       []remediation.Target{{ID: oldETL, Name: "old-etl", Kind: "service_account", Source: "aws:111111111111"}},
		Actions:       []connectors.Action{{Type: "deactivate_identity", Target: oldETL}},
		Justification: "old-etl is an admin idle for 550 days",
		Approvers:     remediation.Approvers{Required: 1, Group: "secops"},
		ExpiresAt:     a.clock.Now().Add(72 * time.Hour),
		OnExpiry:      approval.ExpiryCancel,
	}
	p, err := remediation.Submit(ctx, a.svc, rp, approval.Actor{ID: actor, Where: audit.WhereSlack})
	if err != nil {
		return nil, err
	}
	return &chat.Answer{ConversationID: conv, Answer: "I proposed " + p.ID + " for approval.",
		Steps: []chat.Step{{Tool: "propose_remediation", Summary: "proposal " + p.ID + " recorded"}}}, nil
}

func TestAgentProposalGetsButtons(t *testing.T) {
	h := newHarness(t, nil)
	h.bot.deps.Asker = &proposingAsker{svc: h.svc, clock: h.clock}
	h.mention(alice, "disable old-etl, it is an idle admin", "1700000800.000001", "")
	ps, _ := h.svc.List(context.Background(), approval.Filter{})
	if len(ps) != 1 {
		t.Fatalf("%d proposals", len(ps))
	}
	posts := h.slack.Calls("chat.postMessage")
	if len(posts) != 2 || posts[1].Form.Get("thread_ts") != "1700000800.000001" ||
		!strings.Contains(posts[1].Form.Get("blocks"), ActionApprove) || !strings.Contains(posts[1].Form.Get("blocks"), `"value":"`+ps[0].ID+`"`) {
		t.Fatalf("posts = %v", h.slack.Texts("chat.postMessage"))
	}
	h.click(carol, ActionApprove, ps[0].ID, "1700000800.000009")
	if got, _ := h.svc.Get(context.Background(), ps[0].ID); got.State != approval.StateDone {
		t.Fatalf("state = %s", got.State)
	}
	if ops := h.soar.Ops(); len(ops) != 1 || ops[0] != "execute "+oldETL {
		t.Fatalf("receiver got %v", ops)
	}
}
