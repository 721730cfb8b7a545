package slackbot

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/server"
)

// TestNoSelfApprovalAcrossChannels: issue 12 finding 9. A proposal made
// over HTTP with Carol's API key (which names her e-mail) cannot be
// approved by Carol in Slack: both channels resolve to one principal
// (old code: the HTTP requester was "api:<key name>", a different id, so
// Carol approved her own proposal).
func TestNoSelfApprovalAcrossChannels(t *testing.T) {
	h := newHarness(t, nil)
	template := h.propose("admins idle 30 days") // Alice's, through Slack
	var id string
	srv := server.New(server.Config{
		Keys:   []server.Key{{Name: "carol-laptop", SHA256: config.HashKey("k-carol"), Email: "Carol@Example.com"}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// What chat's proposer does with the request's actor.
		Chatter: proposeAs(func(ctx context.Context, actor string) error {
			p := *template
			p.ID, p.Decisions = "", nil
			got, err := h.svc.Propose(ctx, &p, approval.Actor{ID: actor, Where: audit.WhereHTTP})
			if err != nil {
				return err
			}
			id = got.ID
			return nil
		}),
	})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/v1/chat", strings.NewReader(`{"message":"disable them"}`))
	req.Header.Set("Authorization", "Bearer k-carol")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("propose over HTTP: %d", resp.StatusCode)
	}
	p, _ := h.svc.Get(context.Background(), id)
	if p.Requester != "carol@example.com" {
		t.Fatalf("HTTP requester %q, want Carol's e-mail", p.Requester)
	}
	h.click(carol, ActionApprove, id, "1700000300.000077")
	after, _ := h.svc.Get(context.Background(), id)
	if after.State != p.State || len(after.Decisions) != 0 {
		t.Fatalf("Carol approved her own HTTP proposal in Slack: %s, %d decisions", after.State, len(after.Decisions))
	}
	eph := h.slack.Texts("chat.postEphemeral")
	if len(eph) == 0 || !strings.Contains(eph[len(eph)-1], "You requested this proposal") {
		t.Fatalf("ephemeral %v", eph)
	}
}

// proposeAs is a chatter that proposes as the asking actor, what chat's
// proposer does with the request's principal.
type proposeAs func(ctx context.Context, actor string) error

func (f proposeAs) Chat(ctx context.Context, conv, actor, _ string, _ func(chat.Step)) (*chat.Answer, error) {
	if err := f(ctx, actor); err != nil {
		return nil, err
	}
	return &chat.Answer{ConversationID: conv, Answer: "proposed"}, nil
}

func (f proposeAs) Conversation(context.Context, string, string) (*chat.Conversation, error) {
	return nil, chat.ErrNotFound
}
