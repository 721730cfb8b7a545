package chat

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

func newService(t *testing.T) (*Service, string) {
	t.Helper()
	sgs := testgraph.Read(t, "../query/testdata/small.jsonl")
	logPath := filepath.Join(t.TempDir(), "audit.log")
	alog, err := audit.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alog.Close() })
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	return New(Options{Agent: agent.New(agent.Options{}), Graph: testgraph.NewSource(graph.Build(sgs)), Now: func() time.Time { return now }, Audit: alog}), logPath
}

func TestChatFollowUpAndConversation(t *testing.T) {
	s, logPath := newService(t)
	ctx := context.Background()
	var steps []Step
	a, err := s.Chat(ctx, "", "api:test", "admins idle 30 days", func(st Step) { steps = append(steps, st) })
	if err != nil {
		t.Fatal(err)
	}
	if a.ConversationID == "" || a.Total != 2 || len(a.Evidence) != 2 || len(steps) == 0 {
		t.Fatalf("answer %+v, %d steps", a, len(steps))
	}
	b, err := s.Chat(ctx, a.ConversationID, "api:test", "and which of those have no owner?", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Total >= a.Total || b.Total == 0 {
		t.Fatalf("follow-up did not narrow: %d then %d", a.Total, b.Total)
	}
	conv, err := s.Conversation(ctx, a.ConversationID, "api:test")
	if err != nil || len(conv.Turns) != 2 {
		t.Fatalf("conversation: %v %+v", err, conv)
	}
	if _, err := s.Conversation(ctx, "nope", "api:test"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown conversation: %v", err)
	}
	if n, err := audit.VerifyFile(logPath); err != nil || n != 2 {
		t.Fatalf("audit: %d records, %v", n, err)
	}
}

func TestChatUnmappedIsAUserError(t *testing.T) {
	s, logPath := newService(t)
	_, err := s.Chat(context.Background(), "", "api:test", "what's the weather in Paris", nil)
	var ue interface{ UserMessage() string } // what server.UserError matches
	if !errors.As(err, &ue) || !strings.Contains(ue.UserMessage(), "Try questions like") {
		t.Fatalf("want a user error with examples, got %v", err)
	}
	data, _ := os.ReadFile(logPath)
	if !strings.Contains(string(data), `"outcome":"error"`) {
		t.Fatalf("refusal not audited: %s", data)
	}
}
