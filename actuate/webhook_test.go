package actuate_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/actuatortest"
	"github.com/steward-oss/steward/internal/webhooktest"
)

const testSecret = "test-only-webhook-secret-0123456789"

// soar is a SOAR tool as the wire format describes it: the receiver
// verifies each request; soar applies an execute once per idempotency
// key, answers check from what it applied, or refuses every request
// with status when it is non-zero.
type soar struct {
	*webhooktest.Receiver
	status  int
	applied map[string]bool
}

func newSoar(status int) *soar {
	s := &soar{Receiver: &webhooktest.Receiver{Secret: []byte(testSecret)}, status: status, applied: map[string]bool{}}
	s.Answer = s.answer
	return s
}

func (s *soar) answer(in actuate.WebhookRequest) (int, actuate.WebhookResponse) {
	if s.status != 0 {
		return s.status, actuate.WebhookResponse{}
	}
	var out actuate.WebhookResponse
	switch in.Op {
	case actuate.OpExecute:
		s.applied[in.IdempotencyKey] = true
		out = actuate.WebhookResponse{Call: "disabled " + in.Action.Target, Undo: map[string]string{"ticket": "SOAR-1"}}
	case actuate.OpRollback:
		if in.Step == nil || in.Step.Undo["ticket"] != "SOAR-1" {
			return http.StatusBadRequest, out // rollback without the undo data
		}
		delete(s.applied, in.IdempotencyKey)
	case actuate.OpCheck:
		out.Applied = s.applied[in.IdempotencyKey]
		out.Undo = map[string]string{"ticket": "SOAR-1"}
	}
	return http.StatusOK, out
}

// ops are the operations received, in order.
func (s *soar) ops() []string {
	var out []string
	for _, c := range s.Calls() {
		out = append(out, c.Op)
	}
	return out
}

func newWebhook(t *testing.T, rcv http.Handler, mutate func(*actuate.WebhookConfig)) *actuate.Webhook {
	t.Helper()
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	cfg := actuate.WebhookConfig{URL: srv.URL + "/hooks/steward?token=not-shown", Secret: []byte(testSecret), Source: "aws:111111111111", Check: true}
	if mutate != nil {
		mutate(&cfg)
	}
	w, err := actuate.NewWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var awsKey = connectors.Action{Type: "disable_credential", Target: "aws:111111111111:key/AKIA…WXYZ", Params: map[string]string{"status": "active"}}

func TestWebhookExecuteRollbackCheck(t *testing.T) {
	rcv := newSoar(0)
	w := newWebhook(t, rcv, nil)
	ctx := context.Background()
	seen := 0
	suite := actuatortest.Suite{Actuator: w, Secrets: []string{testSecret, "not-shown"}, IdempotentRepeat: true,
		Requests: func() []string { ops := rcv.ops(); n := seen; seen = len(ops); return ops[n:] },
		IsWrite:  func(op string) bool { return op != actuate.OpCheck }}
	// the runner reads it between requests, never during one
	applied := func(testing.TB) bool { return rcv.applied[actuate.IdempotencyKey(awsKey)] }
	var plan []connectors.Step
	res := actuatortest.Lifecycle(t, suite, actuatortest.Case{Action: awsKey, Applied: applied,
		ExecuteWrites: []string{actuate.OpExecute}, RollbackWrites: []string{actuate.OpRollback},
		Planned: func(_ testing.TB, p []connectors.Step) { plan = p },
		Executed: func(t testing.TB, step connectors.Step, _ []string) {
			if !strings.HasPrefix(step.Call, plan[0].Call) || step.Undo["ticket"] != "SOAR-1" || step.Undo["idempotency_key"] != actuate.IdempotencyKey(awsKey) {
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
		mutate  func(*actuate.WebhookConfig)
		action  connectors.Action
		wantIs  error
		wantErr string
	}{
		{name: "conflict is a changed target", status: http.StatusConflict, action: awsKey, wantIs: connectors.ErrTargetChanged},
		{name: "server error", status: http.StatusInternalServerError, action: awsKey, wantErr: "answered 500"},
		{name: "wrong secret is refused by the receiver", mutate: func(c *actuate.WebhookConfig) { c.Secret = []byte("another-secret-of-enough-length") }, action: awsKey, wantErr: "answered 401"},
		{name: "stale clock is refused by the receiver", mutate: func(c *actuate.WebhookConfig) { c.Now = func() time.Time { return time.Now().Add(-time.Hour) } }, action: awsKey, wantErr: "answered 401"},
		{name: "target of another source", action: connectors.Action{Type: "disable_credential", Target: "gcp:p:key/1"}, wantErr: `not in source "aws:111111111111"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newSoar(tt.status)
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
	w := newWebhook(t, newSoar(0), func(c *actuate.WebhookConfig) { c.Check = false })
	if _, _, err := w.Check(context.Background(), awsKey); !errors.Is(err, actuate.ErrCannotCheck) {
		t.Fatalf("check = %v, want actuate.ErrCannotCheck", err)
	}
}

func TestVerifyWebhook(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"op":"execute"}`)
	good := func() http.Header {
		h := http.Header{}
		h.Set(actuate.HeaderTimestamp, "1800000000")
		h.Set(actuate.HeaderSignature, actuate.Sign([]byte(testSecret), "1800000000", body))
		return h
	}
	tests := []struct {
		name string
		edit func(http.Header) []byte
		want error
	}{
		{name: "good", edit: func(http.Header) []byte { return body }},
		{name: "unsigned", edit: func(h http.Header) []byte { h.Del(actuate.HeaderSignature); return body }, want: actuate.ErrBadSignature},
		{name: "body changed", edit: func(http.Header) []byte { return []byte(`{"op":"rollback"}`) }, want: actuate.ErrBadSignature},
		{name: "old", edit: func(h http.Header) []byte {
			h.Set(actuate.HeaderTimestamp, "1799999000")
			h.Set(actuate.HeaderSignature, actuate.Sign([]byte(testSecret), "1799999000", body))
			return body
		}, want: actuate.ErrStaleTimestamp},
		{name: "no timestamp", edit: func(h http.Header) []byte { h.Del(actuate.HeaderTimestamp); return body }, want: actuate.ErrStaleTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := good()
			b := tt.edit(h)
			if err := actuate.VerifyWebhook([]byte(testSecret), h, b, now); !errors.Is(err, tt.want) {
				t.Fatalf("verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewWebhookRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  actuate.WebhookConfig
		want string
	}{
		{"relative url", actuate.WebhookConfig{URL: "/hook", Secret: []byte(testSecret)}, "absolute http(s) URL"},
		{"ftp url", actuate.WebhookConfig{URL: "ftp://soar.example.com/x", Secret: []byte(testSecret)}, "absolute http(s) URL"},
		{"short secret", actuate.WebhookConfig{URL: "https://soar.example.com/x", Secret: []byte("short")}, "at least 16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := actuate.NewWebhook(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestExecutorCheckDelegates(t *testing.T) {
	rcv := newSoar(0)
	w := newWebhook(t, rcv, nil)
	e, err := actuate.NewExecutor(actuate.Route{Source: "aws:111111111111", Type: "webhook", Actuator: w})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if applied, _, err := e.Check(ctx, awsKey); err != nil || applied {
		t.Fatalf("check before = %v, %v", applied, err)
	}
	if _, err := e.Execute(ctx, awsKey); err != nil {
		t.Fatal(err)
	}
	applied, step, err := e.Check(ctx, awsKey)
	if err != nil || !applied || step.Undo["ticket"] != "SOAR-1" {
		t.Fatalf("check after = %v, %+v, %v", applied, step, err)
	}
	if err := e.Rollback(ctx, awsKey, step); err != nil {
		t.Fatalf("rollback with the checked step: %v", err)
	}
}
