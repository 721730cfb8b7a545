// Package webhooktest is a SOAR tool as the actuate webhook wire format
// describes it, for tests: it verifies each request's signature and
// idempotency header, records it, and answers as the test says. It is
// imported by tests only.
package webhooktest

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/steward-oss/steward/actuate"
)

// Receiver is an http.Handler for the webhook actuator's requests.
type Receiver struct {
	// Secret is the shared signing secret.
	Secret []byte
	// Answer decides the reply to each verified request, called with the
	// receiver's lock held so it may keep state without its own. A
	// status other than 2xx is sent as an error; nil answers every
	// request 200 with call "disabled <target>".
	Answer func(req actuate.WebhookRequest) (status int, resp actuate.WebhookResponse)

	mu    sync.Mutex
	calls []actuate.WebhookRequest
}

// ServeHTTP verifies, records and answers one request.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := actuate.VerifyWebhook(r.Secret, req.Header, body, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var in actuate.WebhookRequest
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if got := req.Header.Get(actuate.HeaderIdempotencyKey); got != in.IdempotencyKey {
		http.Error(w, "idempotency header mismatch", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, in)
	status, out := http.StatusOK, actuate.WebhookResponse{Call: "disabled " + in.Action.Target}
	if r.Answer != nil {
		status, out = r.Answer(in)
	}
	if status < 200 || status > 299 {
		http.Error(w, "refused by the test receiver", status)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

// Calls returns the verified requests received so far.
func (r *Receiver) Calls() []actuate.WebhookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]actuate.WebhookRequest(nil), r.calls...)
}

// Ops returns each verified request as "op target".
func (r *Receiver) Ops() []string {
	var out []string
	for _, c := range r.Calls() {
		out = append(out, c.Op+" "+c.Action.Target)
	}
	return out
}
