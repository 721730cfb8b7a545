// Package slackfake is a local Slack Web API for tests of the Slack app:
// slacktest's server with the methods the bot calls (chat.postMessage,
// chat.postEphemeral, users.info, users.lookupByEmail, views.open, the three-step file upload)
// answering in Slack's wire format and recording every call, plus helpers
// that sign requests the way Slack signs them. It is test support; nothing
// in Steward's binary imports it.
package slackfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// Call is one recorded API call: its method and its parameters (form
// fields, or the top-level fields of a JSON body).
type Call struct {
	Method string
	Form   url.Values
	JSON   map[string]any
	Body   []byte
}

// Server is the fake Web API.
type Server struct {
	*slacktest.Server
	// Emails answers users.info: Slack user id -> profile e-mail.
	Emails map[string]string
	// SocketURL answers apps.connections.open (Socket Mode): the
	// websocket a test serves.
	SocketURL string

	mu    sync.Mutex
	calls []Call
	seq   int
}

// New starts a fake Slack API; call Stop when done.
func New(emails map[string]string) *Server {
	s := &Server{Emails: emails}
	bind := func(c slacktest.Customize) {
		for _, m := range []string{"chat.postMessage", "chat.postEphemeral", "users.info", "users.lookupByEmail", "views.open",
			"files.getUploadURLExternal", "files.completeUploadExternal", "upload", "apps.connections.open"} {
			m := m
			c.Handle("/"+m, func(w http.ResponseWriter, r *http.Request) { s.serve(m, w, r) })
		}
	}
	s.Server = slacktest.NewTestServer(bind)
	s.Server.Start()
	return s
}

// SetSocketURL sets the websocket apps.connections.open hands out.
func (s *Server) SetSocketURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.SocketURL = u
}

// APIURL is the value for the bot's API URL option.
func (s *Server) APIURL() string { return s.GetAPIURL() }

func (s *Server) serve(method string, w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := Call{Method: method, Body: body}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(body, &c.JSON)
	} else if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		c.Form, _ = url.ParseQuery(string(body))
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.seq++
	n := s.seq
	s.mu.Unlock()
	ts := fmt.Sprintf("1700000000.%06d", n)
	w.Header().Set("Content-Type", "application/json")
	var out any
	switch method {
	case "chat.postMessage":
		out = map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": ts}
	case "chat.postEphemeral":
		out = map[string]any{"ok": true, "message_ts": ts}
	case "users.info":
		id := c.Form.Get("user")
		out = map[string]any{"ok": true, "user": map[string]any{"id": id, "name": id, "profile": map[string]any{"email": s.Emails[id]}}}
	case "users.lookupByEmail":
		email, id := c.Form.Get("email"), ""
		for u, e := range s.Emails {
			if strings.EqualFold(e, email) {
				id = u
			}
		}
		if id == "" {
			out = map[string]any{"ok": false, "error": "users_not_found"}
			break
		}
		out = map[string]any{"ok": true, "user": map[string]any{"id": id, "name": id, "profile": map[string]any{"email": email}}}
	case "views.open":
		out = map[string]any{"ok": true, "view": map[string]any{"id": "V" + strconv.Itoa(n)}}
	case "files.getUploadURLExternal":
		out = map[string]any{"ok": true, "upload_url": s.GetAPIURL() + "upload", "file_id": "F" + strconv.Itoa(n)}
	case "files.completeUploadExternal":
		var files []map[string]any
		_ = json.Unmarshal([]byte(c.Form.Get("files")), &files)
		out = map[string]any{"ok": true, "files": files}
	case "apps.connections.open":
		s.mu.Lock()
		u := s.SocketURL
		s.mu.Unlock()
		out = map[string]any{"ok": true, "url": u}
	case "upload":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("OK - " + strconv.Itoa(len(body))))
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

// Calls returns the recorded calls of method ("" for all), in order.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Texts returns the text and blocks of every chat.postMessage (or
// chat.postEphemeral) call, one string per call, for assertions.
func (s *Server) Texts(method string) []string {
	var out []string
	for _, c := range s.Calls(method) {
		out = append(out, c.Form.Get("text")+"\n"+c.Form.Get("blocks"))
	}
	return out
}

// Sign returns the headers Slack sends with body at time ts, signed with
// secret (v0 signature over "v0:<ts>:<body>").
func Sign(secret string, ts time.Time, body []byte) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:", stamp)
	m.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	return h
}

// Request builds a signed POST to url (the bot's endpoint). A zero ts
// means now.
func Request(secret, url, contentType string, body []byte, ts time.Time) *http.Request {
	if ts.IsZero() {
		ts = time.Now()
	}
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	for k, v := range Sign(secret, ts, body) {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", contentType)
	return r
}

// BlockAction is the form body of a block_actions click by user on the
// button actionID carrying value, in the message ts of channel's thread
// threadTS.
func BlockAction(user, channel, threadTS, messageTS, actionID, value, actionTS string) []byte {
	payload := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "username": user},
		"channel":    map[string]any{"id": channel},
		"trigger_id": "trig-" + actionTS,
		"container":  map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel, "thread_ts": threadTS},
		"message":    map[string]any{"ts": messageTS, "thread_ts": threadTS},
		"actions": []map[string]any{{"action_id": actionID, "block_id": "proposal_actions", "type": "button",
			"value": value, "action_ts": actionTS}},
		"action_ts": actionTS,
	}
	return formPayload(payload)
}

// ViewSubmission is the form body of a modal submission.
func ViewSubmission(user, viewID, callbackID, privateMetadata string, values map[string]map[string]string) []byte {
	state := map[string]any{}
	for block, acts := range values {
		m := map[string]any{}
		for a, v := range acts {
			m[a] = map[string]any{"type": "plain_text_input", "value": v}
		}
		state[block] = m
	}
	payload := map[string]any{
		"type": "view_submission",
		"user": map[string]any{"id": user},
		"view": map[string]any{"id": viewID, "callback_id": callbackID, "private_metadata": privateMetadata,
			"hash": viewID + "-hash", "state": map[string]any{"values": state}},
	}
	return formPayload(payload)
}

func formPayload(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

// Mention is the Events API body of an app_mention by user in channel
// (threadTS "" for a top-level message).
func Mention(eventID, user, channel, text, ts, threadTS string) []byte {
	ev := map[string]any{"type": "app_mention", "user": user, "channel": channel, "text": text, "ts": ts, "event_ts": ts}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
	}
	b, err := json.Marshal(map[string]any{"type": "event_callback", "team_id": "T1", "api_app_id": "A1",
		"event_id": eventID, "event_time": 1700000000, "event": ev})
	if err != nil {
		panic(err)
	}
	return b
}
