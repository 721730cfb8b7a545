// Package chat is the conversation service behind the HTTP chat API and
// Slack: it gives the agent the current graph and the asker's identity,
// keeps each conversation's turns for GET /v1/conversations/{id}, and
// writes every question and its outcome to the audit log.
//
// A conversation belongs to the principal that started it: anyone else
// asking in it or reading it gets not-found, exactly as for an id that
// does not exist (so ids cannot be probed), and the agent's memory is
// keyed by owner and id. Conversations are bounded in turns and bytes and
// expire when idle; the whole store is bounded in bytes.
//
// The audit record is written before the answer is returned, with
// secret-shaped values masked (a pasted key is recorded as AKIA…IFXG, never
// a reason to skip the record); when it cannot be written the question
// fails.
package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/publicerr"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
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
	changes  tools.ChangeHistory
	audit    Auditor
	where    string
	log      *slog.Logger

	mu    sync.Mutex
	convs map[string]*conversation
	bytes int // sum of the stored turns' sizes
}

// conversation is one stored conversation.
type conversation struct {
	owner   string
	turns   []Turn
	bytes   int
	used    time.Time
	created time.Time
}

// Bounds of the conversation store.
const (
	// MaxTurns is how many turns one conversation holds; the next
	// question in it is refused (start a new conversation).
	MaxTurns = 100
	// MaxConversationBytes bounds one conversation's stored turns; a turn
	// that would exceed it is kept without its rows and evidence.
	MaxConversationBytes = 2 << 20
	// MaxStoreBytes bounds all stored conversations together; the least
	// recently used are dropped first.
	MaxStoreBytes = 128 << 20
	// maxConversations bounds how many conversations are kept.
	maxConversations = 1000
	// ConversationTTL is how long an idle conversation is kept.
	ConversationTTL = 24 * time.Hour
)

// ErrConversationFull is returned for a question in a conversation that
// has MaxTurns turns.
var ErrConversationFull = errors.New("chat: conversation is full")

// Options configure a Service. Proposer and Audit may be nil.
type Options struct {
	Agent    *agent.Agent
	Graph    IndexSource
	Now      func() time.Time
	Proposer tools.Proposer
	// Changes is the change history change questions read (nil: none
	// is recorded).
	Changes tools.ChangeHistory
	Audit   Auditor
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
	return &Service{agent: o.Agent, graph: o.Graph, now: o.Now, proposer: o.Proposer, changes: o.Changes, audit: o.Audit, where: o.Where, log: o.Logger,
		convs: map[string]*conversation{}}
}

// Chat answers message in conversation (a new one when empty).
func (s *Service) Chat(ctx context.Context, conversation, actor, message string, onStep func(Step)) (*Answer, error) {
	if conversation == "" {
		conversation = newID()
	}
	if err := s.admit(conversation, actor); err != nil {
		return nil, err
	}
	env := &tools.Env{Index: s.graph.Index(), Now: s.now().UTC(), Proposer: s.proposer, Actor: actor, Changes: s.changes}
	if !strings.Contains(actor, "@") {
		// Separation of duties compares people: a requester that is not
		// a person (an API key without an e-mail) could approve its own
		// proposal under its other name, so it cannot propose.
		env.Proposer = nil
	}
	// The agent's memory is keyed by owner too, so a conversation id
	// reused by someone else never sees the owner's turns.
	q := agent.Question{Thread: actor + "\x00" + conversation, Text: message}
	if onStep != nil {
		q.OnStep = func(st agent.Step) { onStep(step(st)) }
	}
	ans, err := s.agent.Ask(ctx, env, q)
	if aerr := s.record(ctx, actor, conversation, message, ans, err); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		var um *planner.UnmappedError
		var ee *query.EntityError
		var be *agent.BudgetError
		switch {
		case errors.As(err, &um):
			return nil, publicerr.Wrap(um.Error(), err)
		case errors.As(err, &ee):
			return nil, publicerr.Wrap(ee.Error(), err)
		case errors.As(err, &be) && ans != nil:
			// A partial answer is still an answer; it says which budget
			// stopped it.
		default:
			return nil, err
		}
	}
	out := &Answer{ConversationID: conversation, Answer: ans.Text, Plan: ans.Plan, Interpretation: interpretation(ans)}
	if ans.Result != nil {
		out.Columns, out.Rows, out.Evidence, out.Total = ans.Result.Columns, ans.Result.Rows, ans.Result.Evidence, ans.Result.Total
	}
	for _, st := range ans.Steps {
		out.Steps = append(out.Steps, step(st))
	}
	s.remember(conversation, actor, message, out)
	return out, nil
}

// admit checks that actor may ask in conversation: it is new, or theirs
// and not full. Another principal's conversation is not found.
func (s *Service) admit(id, actor string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.live(id)
	if !ok {
		return nil
	}
	if c.owner != actor {
		return ErrNotFound
	}
	if len(c.turns) >= MaxTurns {
		return publicerr.Wrap(fmt.Sprintf("this conversation has reached %d turns; start a new one", MaxTurns), ErrConversationFull)
	}
	return nil
}

// live returns the conversation unless it expired (then it is dropped).
// s.mu is held.
func (s *Service) live(id string) (*conversation, bool) {
	c, ok := s.convs[id]
	if !ok {
		return nil, false
	}
	if s.now().Sub(c.used) > ConversationTTL {
		s.drop(id)
		return nil, false
	}
	return c, true
}

func (s *Service) drop(id string) {
	if c, ok := s.convs[id]; ok {
		s.bytes -= c.bytes
		delete(s.convs, id)
	}
}

// interpretation states how the question was read, whoever planned it:
// the offline planner (with its typo corrections) or the model.
func interpretation(ans *agent.Answer) string {
	if ans.Plan == nil {
		return ""
	}
	s := planner.Describe(ans.Plan, planner.DescribeOptions{Rows: true})
	if len(ans.Corrections) > 0 {
		s = "read " + strings.Join(ans.Corrections, ", ") + "; " + s
	}
	return s
}

func step(st agent.Step) Step {
	out := Step{Tool: st.Tool, Summary: st.Text}
	if json.Valid([]byte(st.Args)) {
		out.Args = json.RawMessage(st.Args)
	}
	if st.Error != nil {
		out.Error = st.Error.Message
	}
	return out
}

func (s *Service) record(ctx context.Context, actor, conv, message string, ans *agent.Answer, err error) error {
	if s.audit == nil {
		return nil
	}
	rec := audit.Record{Actor: actor, Action: audit.ActionQuestion, Target: conv, Where: s.where, Outcome: "answered",
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
	// A pasted secret is masked in the record, never a reason to skip
	// it; a record that cannot be written fails the question.
	if _, aerr := s.audit.Append(context.WithoutCancel(ctx), audit.MaskRecord(rec)); aerr != nil {
		s.log.Error("question not audited; refusing to answer", "conversation", conv, "err", aerr)
		return fmt.Errorf("chat: audit question: %w", aerr)
	}
	return nil
}

func (s *Service) remember(id, owner, message string, a *Answer) {
	turn := Turn{Message: message, Answer: a, At: s.now().UTC()}
	size := turnSize(turn)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.live(id)
	if !ok {
		c = &conversation{owner: owner, created: s.now()}
		s.convs[id] = c
	}
	if c.owner != owner {
		return // raced with another principal creating the same id
	}
	if c.bytes+size > MaxConversationBytes {
		// Keep the turn's text and plan, not its rows: GET stays small.
		cp := *a
		cp.Rows, cp.Evidence, cp.Steps = nil, nil, nil
		turn.Answer, turn.Truncated = &cp, true
		size = turnSize(turn)
	}
	c.turns = append(c.turns, turn)
	c.bytes += size
	c.used = s.now()
	s.bytes += size
	s.evict(id)
}

// evict drops expired conversations, then the least recently used ones
// while the store is over its bounds (never keep, the one just used).
// s.mu is held.
func (s *Service) evict(keep string) {
	now := s.now()
	for id, c := range s.convs {
		if now.Sub(c.used) > ConversationTTL {
			s.drop(id)
		}
	}
	for (s.bytes > MaxStoreBytes || len(s.convs) > maxConversations) && len(s.convs) > 1 {
		oldest := ""
		for id, c := range s.convs {
			if id != keep && (oldest == "" || c.used.Before(s.convs[oldest].used)) {
				oldest = id
			}
		}
		if oldest == "" {
			return
		}
		s.drop(oldest)
	}
}

func turnSize(t Turn) int {
	b, err := json.Marshal(t)
	if err != nil {
		return 0
	}
	return len(b)
}

// Conversation returns a copy of a conversation's turns, for its owner
// only: anyone else gets ErrNotFound.
func (s *Service) Conversation(_ context.Context, id, actor string) (*Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.live(id)
	if !ok || c.owner != actor {
		return nil, ErrNotFound
	}
	return &Conversation{ID: id, Turns: append([]Turn(nil), c.turns...)}, nil
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
