package chat

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/steward-oss/steward/audit"
)

// TestFinding1SecretQuestionAudited: issue 12 finding 1. A question with a
// secret-shaped token is audited, masked (old code: not audited at all).
func TestFinding1SecretQuestionAudited(t *testing.T) {
	s, logPath := newService(t)
	_, _ = s.Chat(context.Background(), "", "api:test", "what can AKIAYVP4CIPPERUVIFXG access", nil)
	data, _ := os.ReadFile(logPath)
	if !strings.Contains(string(data), `"action":"question"`) {
		t.Fatalf("question with a secret not audited: %q", data)
	}
	if strings.Contains(string(data), "AKIAYVP4CIPPERUVIFXG") {
		t.Fatalf("secret written to the audit log: %s", data)
	}
}

// TestFinding2ConversationOwned: issue 12 finding 2. Another principal
// cannot read or extend a conversation (old code: it could).
func TestFinding2ConversationOwned(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	a, err := s.Chat(ctx, "", "api:alice", "admins idle 30 days", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Chat(ctx, a.ConversationID, "api:mallory", "and which of those have no owner?", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another principal extended the conversation: %v", err)
	}
}

// TestFinding2ConversationBounded: a conversation keeps at most
// MaxTurns turns (old code: grew without bound).
func TestFinding2ConversationBounded(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	a, err := s.Chat(ctx, "", "api:alice", "admins idle 30 days", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 250 {
		if _, err := s.Chat(ctx, a.ConversationID, "api:alice", "admins idle 30 days", nil); err != nil {
			break
		}
	}
	conv, err := s.Conversation(ctx, a.ConversationID, "api:alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Turns) > 200 {
		t.Fatalf("conversation holds %d turns", len(conv.Turns))
	}
}

// TestConversationReadOnlyByOwner: GET of another principal's
// conversation is not found, like an unknown id.
func TestConversationReadOnlyByOwner(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	a, err := s.Chat(ctx, "", "alice@example.com", "what can AKIAYVP4CIPPERUVIFXG access", nil)
	if err != nil && a == nil {
		a, err = s.Chat(ctx, "", "alice@example.com", "admins idle 30 days", nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Conversation(ctx, a.ConversationID, "mallory@example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another principal read the conversation: %v", err)
	}
	if c, err := s.Conversation(ctx, a.ConversationID, "alice@example.com"); err != nil || len(c.Turns) != 1 {
		t.Fatalf("owner: %v %+v", err, c)
	}
}

type failingAudit struct{}

func (failingAudit) Append(context.Context, audit.Record) (audit.Record, error) {
	return audit.Record{}, errors.New("disk full")
}

// TestAuditFailureFailsTheQuestion: fail closed.
func TestAuditFailureFailsTheQuestion(t *testing.T) {
	s, _ := newService(t)
	s.audit = failingAudit{}
	if a, err := s.Chat(context.Background(), "", "api:alice", "admins idle 30 days", nil); err == nil {
		t.Fatalf("answered without an audit record: %+v", a)
	}
}
