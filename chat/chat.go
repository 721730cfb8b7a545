// Package chat is the conversation service behind the HTTP chat API and
// Slack: it gives the agent the current graph and the asker's identity,
// keeps each conversation's turns for GET /v1/conversations/{id}, and
// writes every question and its outcome to the audit log.
package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/server"
	"github.com/steward-oss/steward/tools"
)

// IndexSource gives the current graph index.
type IndexSource interface{ Index() *graph.Index }

// Auditor appends audit records.
type Auditor interface {
	Append(ctx context.Context, r audit.Record) (audit.Record, error)
}

// Service answers chat messages. It is safe for concurrent use.
type Service struct {
	agent    *agent.Agent
	graph    IndexSource
	now      func() time.Time
	proposer tools.Proposer
	audit    Auditor
	where    string
	log      *slog.Logger

	mu    sync.Mutex
	convs map[string]*server.Conversation
	order []string
}

// maxConversations bounds the turns kept for GET /v1/conversations.
const maxConversations = 1000

// Options configure a Service. Proposer and Audit may be nil.
type Options struct {
	Agent    *agent.Agent
	Graph    IndexSource
	Now      func() time.Time
	Proposer tools.Proposer
	Audit    Auditor
	// Where names the channel in audit records ("http", "slack").
	Where  string
	Logger *slog.Logger
}

// New returns a Service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Where == "" {
		o.Where = "http"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{agent: o.Agent, graph: o.Graph, now: o.Now, proposer: o.Proposer, audit: o.Audit, where: o.Where, log: o.Logger,
		convs: map[string]*server.Conversation{}}
}

var _ server.Chatter = (*Service)(nil)

// userError is an error whose message is meant for the asker.
type userError struct {
	msg string
	err error
}

func (e *userError) Error() string       { return e.msg }
func (e *userError) Unwrap() error       { return e.err }
func (e *userError) UserMessage() string { return e.msg }

// Chat answers message in conversation (a new one when empty).
func (s *Service) Chat(ctx context.Context, conversation, actor, message string, onStep func(server.Step)) (*server.Answer, error) {
	if conversation == "" {
		conversation = newID()
	}
	env := &tools.Env{Index: s.graph.Index(), Now: s.now().UTC(), Proposer: s.proposer, Actor: actor}
	q := agent.Question{Thread: conversation, Text: message}
	if onStep != nil {
		q.OnStep = func(st agent.Step) { onStep(step(st)) }
	}
	ans, err := s.agent.Ask(ctx, env, q)
	s.record(ctx, actor, conversation, message, ans, err)
	if err != nil {
		var um *planner.UnmappedError
		var ee *query.EntityError
		var be *agent.BudgetError
		switch {
		case errors.As(err, &um):
			return nil, &userError{um.Error(), err}
		case errors.As(err, &ee):
			return nil, &userError{ee.Error(), err}
		case errors.As(err, &be) && ans != nil:
			// A partial answer is still an answer; it says which budget
			// stopped it.
		default:
			return nil, err
		}
	}
	out := &server.Answer{ConversationID: conversation, Answer: ans.Text, Plan: ans.Plan}
	if ans.Result != nil {
		out.Columns, out.Rows, out.Evidence, out.Total = ans.Result.Columns, ans.Result.Rows, ans.Result.Evidence, ans.Result.Total
	}
	for _, st := range ans.Steps {
		out.Steps = append(out.Steps, step(st))
	}
	s.remember(conversation, message, out)
	return out, nil
}

func step(st agent.Step) server.Step {
	out := server.Step{Tool: st.Tool, Summary: st.Text}
	if json.Valid([]byte(st.Args)) {
		out.Args = json.RawMessage(st.Args)
	}
	if st.Error != nil {
		out.Error = st.Error.Message
	}
	return out
}

func (s *Service) record(ctx context.Context, actor, conv, message string, ans *agent.Answer, err error) {
	if s.audit == nil {
		return
	}
	rec := audit.Record{Actor: actor, Action: "question", Target: conv, Where: s.where, Outcome: "answered",
		Details: map[string]string{"question": message}}
	if ans != nil {
		if ans.Plan != nil {
			if b, jerr := json.Marshal(ans.Plan); jerr == nil {
				rec.Details["plan"] = string(b)
			}
		}
		if ans.Result != nil {
			rec.Details["rows"] = strconv.Itoa(ans.Result.Total)
		}
		rec.Details["tool_calls"] = strconv.Itoa(len(ans.Steps))
	}
	if err != nil {
		rec.Outcome = "error"
		rec.Details["error"] = err.Error()
	}
	// The audit log refuses secret-shaped values (a pasted key); the
	// question is still answered and the refusal logged, with no detail.
	if _, aerr := s.audit.Append(context.WithoutCancel(ctx), rec); aerr != nil {
		s.log.Warn("question not audited", "conversation", conv, "err", aerr)
	}
}

func (s *Service) remember(conv, message string, a *server.Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[conv]
	if !ok {
		c = &server.Conversation{ID: conv}
		s.convs[conv] = c
		s.order = append(s.order, conv)
		if len(s.order) > maxConversations {
			delete(s.convs, s.order[0])
			s.order = s.order[1:]
		}
	}
	c.Turns = append(c.Turns, server.Turn{Message: message, Answer: a, At: s.now().UTC()})
}

// Conversation returns a copy of a conversation's turns.
func (s *Service) Conversation(_ context.Context, id string) (*server.Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[id]
	if !ok {
		return nil, server.ErrNotFound
	}
	cp := *c
	cp.Turns = append([]server.Turn(nil), c.Turns...)
	return &cp, nil
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
