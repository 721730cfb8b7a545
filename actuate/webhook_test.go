package actuate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/actuatortest"
)

const testSecret = "test-only-webhook-secret-0123456789"

// receiver is a SOAR tool as the wire format describes it: it verifies
// each request, applies an execute once per idempotency key and answers
// check from what it applied.
type receiver struct {
	t       *testing.T
	mu      sync.Mutex
	calls   []WebhookRequest
	status  int // answer status when non-zero
	applied map[string]bool
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := VerifyWebhook([]byte(testSecret), req.Header, body, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var in WebhookRequest
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if got := req.Header.Get(HeaderIdempotencyKey); got != in.IdempotencyKey {
		http.Error(w, "idempotency header mismatch", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, in)
	if r.status != 0 {
		http.Error(w, "refused by test receiver", r.status)
		return
	}
	if r.applied == nil {
		r.applied = map[string]bool{}
	}
	var out WebhookResponse
	switch in.Op {
	case OpExecute:
		r.applied[in.IdempotencyKey] = true
		out = WebhookResponse{Call: "disabled " + in.Action.Target, Undo: map[string]string{"ticket": "SOAR-1"}}
	case OpRollback:
		if in.Step == nil || in.Step.Undo["ticket"] != "SOAR-1" {
			http.Error(w, "rollback without the undo data", http.StatusBadRequest)
			return
		}
		delete(r.applied, in.IdempotencyKey)
	case OpCheck:
		out.Applied = r.applied[in.IdempotencyKey]
		out.Undo = map[string]string{"ticket": "SOAR-1"}
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (r *receiver) ops() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		out = append(out, c.Op)
	}
	return out
}

func newWebhook(t *testing.T, rcv http.Handler, mutate func(*WebhookConfig)) *Webhook {
	t.Helper()
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	cfg := WebhookConfig{URL: srv.URL + "/hooks/steward?token=not-shown", Secret: []byte(testSecret), Source: "aws:111111111111", Check: true}
	if mutate != nil {
		mutate(&cfg)
	}
	w, err := NewWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var awsKey = connectors.Action{Type: "disable_credential", Target: "aws:111111111111:key/AKIA…WXYZ", Params: map[string]string{"status": "active"}}

func TestWebhookExecuteRollbackCheck(t *testing.T) {
	rcv := &receiver{t: t}
	w := newWebhook(t, rcv, nil)
	ctx := context.Background()
	seen := 0
	suite := actuatortest.Suite{Actuator: w, Secrets: []string{testSecret, "not-shown"}, IdempotentRepeat: true,
		Requests: func() []string { ops := rcv.ops(); n := seen; seen = len(ops); return ops[n:] },
		IsWrite:  func(op string) bool { return op != OpCheck }}
	applied := func(testing.TB) bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return rcv.applied[IdempotencyKey(awsKey)]
	}
	var plan []connectors.Step
	res := actuatortest.Lifecycle(t, suite, actuatortest.Case{Action: awsKey, Applied: applied,
		ExecuteWrites: []string{OpExecute}, RollbackWrites: []string{OpRollback},
		Planned: func(_ testing.TB, p []connectors.Step) { plan = p },
		Executed: func(t testing.TB, step connectors.Step, _ []string) {
			if !strings.HasPrefix(step.Call, plan[0].Call) || step.Undo["ticket"] != "SOAR-1" || step.Undo["idempotency_key"] != IdempotencyKey(awsKey) {
				t.Fatalf("step = %+v", step)
			}
		}})
	// The runner checks before and after Execute, repeats Execute, and
	// rolls back twice; the receiver deduplicates the repeats.
	if got, want := strings.Join(rcv.ops(), ","), "check,execute,check,execute,rollback,rollback"; got != want {
		t.Fatalf("ops = %s, want %s", got, want)
	}
	other := awsKey
	other.Target = "aws:111111111111:key/AKIA…ABCD"
	if err := w.Rollback(ctx, other, res.Step); err == nil || !strings.Contains(err.Error(), "another action") {
		t.Fatalf("rollback with a foreign step = %v", err)
	}
}

func TestWebhookFailures(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		mutate  func(*WebhookConfig)
		action  connectors.Action
		wantIs  error
		wantErr string
	}{
		{name: "conflict is a changed target", status: http.StatusConflict, action: awsKey, wantIs: connectors.ErrTargetChanged},
		{name: "server error", status: http.StatusInternalServerError, action: awsKey, wantErr: "answered 500"},
		{name: "wrong secret is refused by the receiver", mutate: func(c *WebhookConfig) { c.Secret = []byte("another-secret-of-enough-length") }, action: awsKey, wantErr: "answered 401"},
		{name: "stale clock is refused by the receiver", mutate: func(c *WebhookConfig) { c.Now = func() time.Time { return time.Now().Add(-time.Hour) } }, action: awsKey, wantErr: "answered 401"},
		{name: "target of another source", action: connectors.Action{Type: "disable_credential", Target: "gcp:p:key/1"}, wantErr: `not in source "aws:111111111111"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := &receiver{t: t, status: tt.status}
			w := newWebhook(t, rcv, tt.mutate)
			_, err := w.Execute(context.Background(), tt.action)
			if err == nil {
				t.Fatal("execute succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want %v", err, tt.wantIs)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "not-shown") || strings.Contains(err.Error(), testSecret) {
				t.Fatalf("error leaks the URL token or secret: %v", err)
			}
		})
	}
}

func TestWebhookCheckOff(t *testing.T) {
	w := newWebhook(t, &receiver{t: t}, func(c *WebhookConfig) { c.Check = false })
	if _, _, err := w.Check(context.Background(), awsKey); !errors.Is(err, ErrCannotCheck) {
		t.Fatalf("check = %v, want ErrCannotCheck", err)
	}
}

func TestVerifyWebhook(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"op":"execute"}`)
	good := func() http.Header {
		h := http.Header{}
		h.Set(HeaderTimestamp, "1800000000")
		h.Set(HeaderSignature, Sign([]byte(testSecret), "1800000000", body))
		return h
	}
	tests := []struct {
		name string
		edit func(http.Header) []byte
		want error
	}{
		{name: "good", edit: func(http.Header) []byte { return body }},
		{name: "unsigned", edit: func(h http.Header) []byte { h.Del(HeaderSignature); return body }, want: ErrBadSignature},
		{name: "body changed", edit: func(http.Header) []byte { return []byte(`{"op":"rollback"}`) }, want: ErrBadSignature},
		{name: "old", edit: func(h http.Header) []byte {
			h.Set(HeaderTimestamp, "1799999000")
			h.Set(HeaderSignature, Sign([]byte(testSecret), "1799999000", body))
			return body
		}, want: ErrStaleTimestamp},
		{name: "no timestamp", edit: func(h http.Header) []byte { h.Del(HeaderTimestamp); return body }, want: ErrStaleTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := good()
			b := tt.edit(h)
			if err := VerifyWebhook([]byte(testSecret), h, b, now); !errors.Is(err, tt.want) {
				t.Fatalf("verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewWebhookRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  WebhookConfig
		want string
	}{
		{"relative url", WebhookConfig{URL: "/hook", Secret: []byte(testSecret)}, "absolute http(s) URL"},
		{"ftp url", WebhookConfig{URL: "ftp://soar.example.com/x", Secret: []byte(testSecret)}, "absolute http(s) URL"},
		{"short secret", WebhookConfig{URL: "https://soar.example.com/x", Secret: []byte("short")}, "at least 16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewWebhook(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
