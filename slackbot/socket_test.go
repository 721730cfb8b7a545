package slackbot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/steward-oss/steward/internal/secret"
	"github.com/steward-oss/steward/slackbot/slackfake"
)

// TestSocketMode serves Slack's Socket Mode protocol on a local
// websocket: hello, then envelopes carrying an app_mention, its retry and
// a slash command. Each envelope must be acknowledged by its id, the
// retry handled once, and the answers posted like in HTTP mode.
func TestSocketMode(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.AppToken = secret.New("xapp-test-not-real") })
	mention := json.RawMessage(slackfake.Mention("EvSock1", alice, channel, "<@U0BOT> admins idle 30 days", "1700000700.000001", ""))
	command, _ := json.Marshal(map[string]string{"command": "/steward", "text": "service accounts with no owner",
		"user_id": alice, "channel_id": channel, "trigger_id": "trig-sock-1"})
	envelopes := []map[string]any{
		{"envelope_id": "env-1", "type": "events_api", "payload": mention, "accepts_response_payload": false},
		{"envelope_id": "env-2", "type": "events_api", "payload": mention, "retry_attempt": 1, "retry_reason": "timeout"},
		{"envelope_id": "env-3", "type": "slash_commands", "payload": json.RawMessage(command), "accepts_response_payload": true},
	}
	acks := make(chan string, len(envelopes))
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Logf("upgrade: %v (headers %v)", err, r.Header)
			return
		}
		defer c.Close()
		if err := c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1}); err != nil {
			return
		}
		for _, e := range envelopes {
			if err := c.WriteJSON(e); err != nil {
				return
			}
			// One at a time: the next is sent once this one is acked.
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			var ack struct {
				EnvelopeID string `json:"envelope_id"`
			}
			_ = json.Unmarshal(msg, &ack)
			acks <- ack.EnvelopeID
		}
		// Keep the connection until the client leaves.
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(ws.Close)
	h.slack.SetSocketURL("ws" + strings.TrimPrefix(ws.URL, "http"))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- h.bot.RunSocketMode(ctx) }()
	var got []string
	for range envelopes {
		got = append(got, <-acks)
	}
	h.bot.Wait()
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("RunSocketMode: %v", err)
	}
	if strings.Join(got, ",") != "env-1,env-2,env-3" {
		t.Fatalf("acks = %v", got)
	}
	questions := 0
	for _, r := range h.auditRecords() {
		if r.Action == "question" {
			questions++
		}
	}
	if questions != 2 {
		t.Fatalf("%d questions handled, want 2 (the retry is dropped)", questions)
	}
	var mentionAnswer, commandAnswer bool
	for _, c := range h.slack.Calls("chat.postMessage") {
		b := c.Form.Get("blocks")
		mentionAnswer = mentionAnswer || (c.Form.Get("thread_ts") == "1700000700.000001" && strings.Contains(b, "ci-deployer"))
		commandAnswer = commandAnswer || (c.Form.Get("thread_ts") != "" && strings.Contains(b, "ops-bot"))
	}
	if !mentionAnswer || !commandAnswer {
		t.Fatalf("answers missing (mention %v, command %v): %v", mentionAnswer, commandAnswer, h.slack.Texts("chat.postMessage"))
	}
}
