package publicerr

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

type refusal struct{ m string }

func (r *refusal) Error() string       { return "workflow: " + r.m }
func (r *refusal) UserMessage() string { return r.m }

func TestMessage(t *testing.T) {
	internal := fmt.Errorf("store: open %q: %w", "/var/lib/steward/graph.db", fs.ErrPermission)
	tests := []struct {
		name       string
		err        error
		public     string
		ok         bool
		detail     string
		isInternal bool
	}{
		{"internal only", internal, "", false, `store: open "/var/lib/steward/graph.db": permission denied`, true},
		{"wrapped", Wrap("the graph cannot be read now", internal), "the graph cannot be read now", true, `store: open "/var/lib/steward/graph.db": permission denied`, true},
		{"wrapped deeper", fmt.Errorf("server: query: %w", Wrap("the graph cannot be read now", internal)), "the graph cannot be read now", true, `server: query: store: open "/var/lib/steward/graph.db": permission denied`, true},
		{"new", New("plan is required"), "plan is required", true, "plan is required", false},
		{"other public type", fmt.Errorf("slack: %w", &refusal{"disable first"}), "disable first", true, "slack: workflow: disable first", false},
		{"nil", nil, "", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := Message(tt.err)
			if m != tt.public || ok != tt.ok {
				t.Errorf("Message = %q, %v, want %q, %v", m, ok, tt.public, tt.ok)
			}
			if tt.err != nil && tt.err.Error() != tt.detail {
				t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.detail)
			}
			if errors.Is(tt.err, fs.ErrPermission) != tt.isInternal {
				t.Errorf("errors.Is(ErrPermission) = %v", !tt.isInternal)
			}
			want := tt.public
			if !tt.ok {
				want = "see the log"
			}
			if got := MessageOr(tt.err, "see the log"); got != want {
				t.Errorf("MessageOr = %q, want %q", got, want)
			}
		})
	}
}
