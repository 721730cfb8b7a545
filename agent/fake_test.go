package agent_test

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

// fakeLLM is a local OpenAI-compatible server speaking the real
// /v1/chat/completions wire format. Each request is answered by the next
// function of its script, which sees the decoded request; every request
// body is recorded for inspection.
type fakeLLM struct {
	t      *testing.T
	srv    *httptest.Server
	script []func(req *wireRequest) wireResponse

	mu   sync.Mutex
	reqs []*wireRequest
}

const fakeKey = "sk-test-not-a-real-key-0000"

type wireCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type wireMessage struct {
	Role       string          `json:"role"`
	RawContent json.RawMessage `json:"content"`
	Content    string          `json:"-"`
	ToolCalls  []wireCall      `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	Name       string          `json:"name"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type wireRequest struct {
	Model      string          `json:"model"`
	Messages   []wireMessage   `json:"messages"`
	Tools      []wireTool      `json:"tools"`
	ToolChoice json.RawMessage `json:"tool_choice"`
	Raw        string          `json:"-"`
}

// wireResponse is one scripted completion: tool calls or final content.
type wireResponse struct {
	calls   []wireCall
	content string
	prompt  int
	output  int
	// status, when set, answers with this HTTP error instead.
	status int
}

func newFakeLLM(t *testing.T, script ...func(*wireRequest) wireResponse) *fakeLLM {
	f := &fakeLLM{t: t, script: script}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the base URL clients take (".../v1").
func (f *fakeLLM) URL() string { return f.srv.URL + "/v1" }

func (f *fakeLLM) requests() []*wireRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*wireRequest(nil), f.reqs...)
}

func (f *fakeLLM) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.t.Errorf("fake llm: unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+fakeKey {
		f.t.Errorf("fake llm: authorization header %q", got)
	}
	body, _ := io.ReadAll(r.Body)
	var req wireRequest
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("fake llm: bad request body: %v", err)
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	req.Raw = string(body)
	for i := range req.Messages {
		req.Messages[i].Content = contentText(req.Messages[i].RawContent)
	}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, &req)
	f.mu.Unlock()
	if n >= len(f.script) {
		f.t.Errorf("fake llm: request %d beyond the script of %d", n+1, len(f.script))
		http.Error(w, `{"error":{"message":"script exhausted","type":"server_error"}}`, http.StatusInternalServerError)
		return
	}
	resp := f.script[n](&req)
	if resp.status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.status)
		_, _ = io.WriteString(w, `{"error":{"message":"upstream overloaded","type":"server_error","code":"overloaded"}}`)
		return
	}
	if resp.prompt == 0 {
		resp.prompt = 100
	}
	if resp.output == 0 {
		resp.output = 20
	}
	msg := map[string]any{"role": "assistant", "content": nil}
	finish := "stop"
	if len(resp.calls) > 0 {
		msg["tool_calls"] = resp.calls
		finish = "tool_calls"
	} else {
		msg["content"] = resp.content
	}
	out := map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d", n+1), "object": "chat.completion", "created": 1767225600, "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
		"usage":   map[string]any{"prompt_tokens": resp.prompt, "completion_tokens": resp.output, "total_tokens": resp.prompt + resp.output},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// contentText reads a message content that is a string, null or an
// array of parts.
func contentText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func call(id, name, args string) wireCall {
	c := wireCall{ID: id, Type: "function"}
	c.Function.Name, c.Function.Arguments = name, args
	return c
}

func calls(cs ...wireCall) func(*wireRequest) wireResponse {
	return func(*wireRequest) wireResponse { return wireResponse{calls: cs} }
}

func final(text string) func(*wireRequest) wireResponse {
	return func(*wireRequest) wireResponse { return wireResponse{content: text} }
}

// lastTool returns the decoded data block of the last tool message.
func lastTool(t *testing.T, req *wireRequest) map[string]any {
	t.Helper()
	for i := len(req.Messages) - 1; i >= 0; i-- {
		m := req.Messages[i]
		if m.Role != "tool" {
			continue
		}
		lines := strings.Split(m.Content, "\n")
		if len(lines) != 3 {
			t.Fatalf("tool message is not one data block: %q", m.Content)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(lines[1]), &v); err != nil {
			t.Fatalf("tool data is not JSON: %v", err)
		}
		return v
	}
	t.Fatal("no tool message in request")
	return nil
}
