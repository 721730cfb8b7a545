package chat

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestChatInterpretation: the HTTP answer says how the question was read,
// including the words read as others.
func TestChatInterpretation(t *testing.T) {
	s, _ := newService(t)
	a, err := s.Chat(context.Background(), "", "api:test", "admnis idle 30 days", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Interpretation string `json:"interpretation"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"read admnis → admins", "admin privilege", "idle ≥ 30 days", "up to 200 rows"} {
		if !strings.Contains(got.Interpretation, want) {
			t.Errorf("interpretation %q lacks %q", got.Interpretation, want)
		}
	}
}
