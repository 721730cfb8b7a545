package connectors

import (
	"context"
	"errors"

	"github.com/steward-oss/steward/remediation/action"
)

// Action is one change an actuator can make to one target.
type Action struct {
	Type   action.Kind       `json:"type"`   // action.DisableCredential, ...
	Target string            `json:"target"` // graph node id
	Params map[string]string `json:"params,omitempty"`
}

// Step is what an actuator did or would do: a human-readable description
// of the call ("ALTER ROLE \"etl\" NOLOGIN") and the state needed to undo it.
type Step struct {
	Call string            `json:"call"`
	Undo map[string]string `json:"undo,omitempty"`
}

// Actuator changes a source system. Implementations re-read live state
// before acting and return ErrTargetChanged if it differs from Expect.
type Actuator interface {
	// Plan describes exactly what Execute would call (the dry run).
	Plan(ctx context.Context, a Action) ([]Step, error)
	// Execute performs a, after checking the live state still matches
	// what was approved.
	Execute(ctx context.Context, a Action) (Step, error)
	// Rollback undoes a step Execute returned.
	Rollback(ctx context.Context, a Action, done Step) error
}

// Sentinel errors actuators return.
var (
	ErrTargetChanged = errors.New("target changed since approval")
	ErrUnsupported   = errors.New("action not supported by this source")
)
