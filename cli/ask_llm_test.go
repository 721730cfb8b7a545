package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeOpenAI is a minimal OpenAI-compatible /v1/chat/completions server
// (the wire format of agent's fake): each request gets the next scripted
// message, tool calls or content.
func fakeOpenAI(t *testing.T, script ...map[string]any) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test-not-a-real-key" {
			t.Errorf("fake openai: %s %s auth %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
			http.Error(w, "{}", http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		n := len(bodies)
		bodies = append(bodies, string(b))
		mu.Unlock()
		if n >= len(script) {
			t.Errorf("fake openai: request %d beyond the script", n+1)
			http.Error(w, "{}", http.StatusInternalServerError)
			return
		}
		finish := "stop"
		if _, ok := script[n]["tool_calls"]; ok {
			finish = "tool_calls"
		}
		msg := map[string]any{"role": "assistant", "content": nil}
		for k, v := range script[n] {
			msg[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": fmt.Sprintf("chatcmpl-%d", n+1), "object": "chat.completion", "created": 1767225600, "model": "fake",
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   map[string]any{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
		})
	}))
	t.Cleanup(srv.Close)
	return srv, &bodies
}

func toolCall(id, name, args string) map[string]any {
	return map[string]any{"tool_calls": []any{map[string]any{"id": id, "type": "function",
		"function": map[string]any{"name": name, "arguments": args}}}}
}

// TestAskHandsRefusalToModel: with a model configured, a question the
// planner refuses goes to the model through the read tools; its plan is
// validated, run, and its interpretation shown like the planner's.
func TestAskHandsRefusalToModel(t *testing.T) {
	q := "admins idle 30 days in the eu-west-1 region"
	setModel := func(url string) {
		t.Setenv("STEWARD_LLM_PROVIDER", "openai")
		t.Setenv("STEWARD_LLM_BASE_URL", url)
		t.Setenv("STEWARD_LLM_MODEL", "fake-model")
		t.Setenv("STEWARD_LLM_API_KEY_ENV", "FAKE_LLM_KEY")
		t.Setenv("FAKE_LLM_KEY", "sk-test-not-a-real-key")
	}

	t.Run("model plans", func(t *testing.T) {
		srv, bodies := fakeOpenAI(t,
			toolCall("call_1", "find_identities", `{"version":1,"kinds":["bot"],"filters":[{"field":"privilege","op":"eq","value":"admin"}]}`),
			map[string]any{"content": "One admin bot; the data has no regions."},
		)
		setModel(srv.URL + "/v1")
		code, out, errs := run(t, "ask", "--demo", "--owners", "", "--format", "json", q)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var a Answer
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatal(err)
		}
		if len(*bodies) != 2 || !strings.Contains((*bodies)[0], "eu-west-1") {
			t.Fatalf("model requests: %d", len(*bodies))
		}
		if a.Plan == nil || len(a.Plan.Kinds) != 1 || a.Plan.Kinds[0] != "bot" ||
			!strings.Contains(a.Interpretation, "bots; admin privilege") || !strings.Contains(a.Interpretation, "planned by the model openai/fake-model") {
			t.Fatalf("plan %+v, interpretation %q", a.Plan, a.Interpretation)
		}
		for _, r := range a.Rows {
			if r[2] != "bot" {
				t.Fatalf("row %v is not a bot", r)
			}
		}
	})

	t.Run("model declines", func(t *testing.T) {
		srv, _ := fakeOpenAI(t, map[string]any{"content": "The graph records no regions."})
		setModel(srv.URL + "/v1")
		code, out, errs := run(t, "ask", "--demo", "--owners", "", q)
		if code != ExitError || out != "" || !strings.Contains(errs, "gave no query plan") || !strings.Contains(errs, `"eu-west-1 region"`) {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})

	t.Run("model plan invalid", func(t *testing.T) {
		srv, _ := fakeOpenAI(t,
			toolCall("call_1", "find_identities", `{"version":1,"filters":[{"field":"region","op":"eq","value":"eu-west-1"}]}`),
			map[string]any{"content": "I could not filter by region."},
		)
		setModel(srv.URL + "/v1")
		code, out, _ := run(t, "ask", "--demo", "--owners", "", q)
		if code == 0 || out != "" {
			t.Fatalf("an invalid model plan answered: exit %d, stdout %q", code, out)
		}
	})

	t.Run("actions never go to the model", func(t *testing.T) {
		srv, bodies := fakeOpenAI(t)
		setModel(srv.URL + "/v1")
		if code, _, _ := run(t, "ask", "--demo", "--owners", "", "disable all leaked keys"); code != ExitError || len(*bodies) != 0 {
			t.Fatalf("exit %d, %d model requests", code, len(*bodies))
		}
	})
}
