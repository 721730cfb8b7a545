package agent

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/steward-oss/steward/query"
)

// Thread is what one conversation remembers between questions, so a
// follow-up ("and which of those are in prod?") sees what came before.
type Thread struct {
	// Messages are the earlier turns (user, assistant and tool messages;
	// never the system prompt).
	Messages []Message `json:"messages"`
	// Plan and IDs are the last answer's plan and row ids.
	Plan *query.Plan `json:"plan,omitempty"`
	IDs  []string    `json:"ids,omitempty"`
}

// Memory stores threads by id. The in-memory store is the default; the
// HTTP server may persist threads behind the same interface.
type Memory interface {
	// Load returns the thread, or nil and no error when it is unknown.
	Load(ctx context.Context, id string) (*Thread, error)
	Save(ctx context.Context, id string, t *Thread) error
}

// MemoryStore keeps the most recently used threads in memory: at most
// MaxThreads of them, each with at most MaxMessages messages (older turns
// are dropped whole, so a tool message never loses the call it answers).
type MemoryStore struct {
	maxThreads, maxMessages int

	mu    sync.Mutex
	order *list.List // of string ids, most recent first
	items map[string]*list.Element
	data  map[string][]byte
}

var _ Memory = (*MemoryStore)(nil)

// NewMemoryStore returns a store bounded by maxThreads and maxMessages
// (defaults 1000 and 60 when not positive).
func NewMemoryStore(maxThreads, maxMessages int) *MemoryStore {
	if maxThreads <= 0 {
		maxThreads = 1000
	}
	if maxMessages <= 0 {
		maxMessages = 60
	}
	return &MemoryStore{maxThreads: maxThreads, maxMessages: maxMessages, order: list.New(),
		items: map[string]*list.Element{}, data: map[string][]byte{}}
}

// Load returns a copy of the thread.
func (s *MemoryStore) Load(_ context.Context, id string) (*Thread, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[id]
	if !ok {
		return nil, nil
	}
	s.order.MoveToFront(el)
	var t Thread
	if err := json.Unmarshal(s.data[id], &t); err != nil {
		return nil, fmt.Errorf("agent: memory: load thread %q: %w", id, err)
	}
	return &t, nil
}

// Save stores a copy of t, trimmed to the bounds, evicting the least
// recently used thread when full.
func (s *MemoryStore) Save(_ context.Context, id string, t *Thread) error {
	c := *t
	c.Messages = trimTurns(t.Messages, s.maxMessages)
	b, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("agent: memory: save thread %q: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[id]; ok {
		s.order.MoveToFront(el)
	} else {
		s.items[id] = s.order.PushFront(id)
	}
	s.data[id] = b
	for s.order.Len() > s.maxThreads {
		old := s.order.Back()
		s.order.Remove(old)
		delete(s.items, old.Value.(string))
		delete(s.data, old.Value.(string))
	}
	return nil
}

// Len is the number of threads held.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}

// trimTurns keeps the newest messages, at most max, starting at a user
// message.
func trimTurns(msgs []Message, max int) []Message {
	if len(msgs) <= max {
		return msgs
	}
	start := len(msgs) - max
	for start < len(msgs) && msgs[start].Role != RoleUser {
		start++
	}
	return msgs[start:]
}
