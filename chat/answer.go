package chat

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/steward-oss/steward/query"
)

// The types below are the conversation contract: the JSON of POST
// /v1/chat and GET /v1/conversations/{id} (package server) and what the
// Slack app renders. They live here, with the service that makes them,
// so the dependencies run server -> chat -> agent and never back.

// Step is one thing the agent did while answering (a tool call).
type Step struct {
	Tool    string          `json:"tool"`
	Args    json.RawMessage `json:"args,omitempty"`
	Summary string          `json:"summary,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// Answer is the chat reply: the JSON of POST /v1/chat (fields are only
// ever added).
type Answer struct {
	ConversationID string            `json:"conversation_id"`
	Answer         string            `json:"answer"`
	Plan           *query.Plan       `json:"plan,omitempty"`
	Columns        []string          `json:"columns,omitempty"`
	Rows           [][]any           `json:"rows,omitempty"`
	Evidence       [][]query.EdgeRef `json:"evidence,omitempty"`
	Total          int               `json:"total"`
	Steps          []Step            `json:"steps,omitempty"`
	// Interpretation says in words how the question was read: kinds,
	// conditions with their numbers, scope, row limit (planner.Describe).
	Interpretation string `json:"interpretation,omitempty"`
}

// Turn is one exchange of a conversation.
type Turn struct {
	Message string    `json:"message"`
	Answer  *Answer   `json:"answer"`
	At      time.Time `json:"at"`
	// Truncated says the answer's rows and evidence were not kept (the
	// conversation reached its size bound).
	Truncated bool `json:"truncated,omitempty"`
}

// Conversation is GET /v1/conversations/{id}.
type Conversation struct {
	ID    string `json:"id"`
	Turns []Turn `json:"turns"`
}

// ErrNotFound is returned by Service.Conversation (and Chat) for an
// unknown id or one the actor does not own.
var ErrNotFound = errors.New("not found")
