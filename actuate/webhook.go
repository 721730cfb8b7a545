package actuate

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors"
)

// Webhook wire format. Every request is a POST with a JSON WebhookRequest
// body and these headers:
//
//	X-Steward-Timestamp: <unix seconds>
//	X-Steward-Signature: v1=<hex HMAC-SHA256(secret, "v1:" + timestamp + ":" + body)>
//	X-Steward-Idempotency-Key: <the request's idempotency_key>
//
// The receiver verifies the signature (VerifyWebhook), rejects timestamps
// more than five minutes off, and treats a repeated idempotency key of the
// same op as already done. A 2xx answer means done; 409 Conflict means the
// target is no longer in the approved state (connectors.ErrTargetChanged);
// anything else is a failure. An answer body, optional, is a
// WebhookResponse.
const (
	HeaderTimestamp      = "X-Steward-Timestamp"
	HeaderSignature      = "X-Steward-Signature"
	HeaderIdempotencyKey = "X-Steward-Idempotency-Key"
)

// Webhook operations.
const (
	OpExecute  = "execute"
	OpRollback = "rollback"
	OpCheck    = "check"
)

// WebhookRequest is the signed body.
type WebhookRequest struct {
	Op     string            `json:"op"`
	Source string            `json:"source"`
	Action connectors.Action `json:"action"`
	// Step is the step Execute returned, on rollback.
	Step *connectors.Step `json:"step,omitempty"`
	// IdempotencyKey is the SHA-256 of the action (type, target, params):
	// the same action always has the same key, so a receiver can tell a
	// retry after a crash from a new request.
	IdempotencyKey string    `json:"idempotency_key"`
	SentAt         time.Time `json:"sent_at"`
}

// WebhookResponse is the optional answer body.
type WebhookResponse struct {
	// Call describes what the receiver did ("disabled key AKIA…WXYZ").
	Call string `json:"call,omitempty"`
	// Undo is what the receiver needs back to undo it; it is returned on
	// rollback as step.undo.
	Undo map[string]string `json:"undo,omitempty"`
	// Applied answers op check.
	Applied bool `json:"applied,omitempty"`
}

// WebhookConfig configures a webhook actuator.
type WebhookConfig struct {
	URL    string
	Secret []byte
	Source string
	Client *http.Client
	// Check says the receiver answers op check, so a crash during a call
	// can be resolved by asking it instead of by a person.
	Check bool
	Now   func() time.Time
}

// Webhook posts actions to a SOAR tool. Its Check asks the receiver
// (op check) only when configured to; otherwise it returns ErrCannotCheck
// and an interrupted call is left for a person to resolve.
type Webhook struct {
	cfg     WebhookConfig
	display string // the URL without credentials or query, safe to show
}

var _ connectors.Actuator = (*Webhook)(nil)

// MinSecretLen is the shortest HMAC key accepted.
const MinSecretLen = 16

// NewWebhook checks cfg and returns the actuator.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("webhook: options.url: want an absolute http(s) URL")
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("webhook: secret: at least %d bytes required", MinSecretLen)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The URL may carry a token in its query or user info; only scheme,
	// host and path are ever shown.
	display := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	return &Webhook{cfg: cfg, display: display}, nil
}

// IdempotencyKey is the key of a: the hex SHA-256 of its JSON (params
// sorted by encoding/json).
func IdempotencyKey(a connectors.Action) string {
	b, _ := json.Marshal(a) // a map[string]string and strings always encode
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (w *Webhook) describe(op string, a connectors.Action) string {
	return fmt.Sprintf("POST %s op=%s %s %s", w.display, op, a.Type, a.Target)
}

// Plan returns the request Execute would send. It does not connect.
func (w *Webhook) Plan(ctx context.Context, a connectors.Action) ([]connectors.Step, error) {
	if err := w.check(a); err != nil {
		return nil, err
	}
	return []connectors.Step{{Call: w.describe(OpExecute, a)}}, nil
}

func (w *Webhook) check(a connectors.Action) error {
	if a.Type == "" || a.Target == "" {
		return errors.New("webhook: action type and target are required")
	}
	if w.cfg.Source != "" && !strings.HasPrefix(a.Target, w.cfg.Source+":") {
		return fmt.Errorf("webhook: target %q is not in source %q", a.Target, w.cfg.Source)
	}
	return nil
}

// Execute posts the action. The step's undo holds what the receiver
// returned plus the idempotency key, so Rollback can name what it undoes.
func (w *Webhook) Execute(ctx context.Context, a connectors.Action) (connectors.Step, error) {
	if err := w.check(a); err != nil {
		return connectors.Step{}, err
	}
	resp, err := w.post(ctx, WebhookRequest{Op: OpExecute, Action: a})
	if err != nil {
		return connectors.Step{}, err
	}
	step := connectors.Step{Call: w.describe(OpExecute, a), Undo: map[string]string{"idempotency_key": IdempotencyKey(a)}}
	if resp.Call != "" {
		step.Call += ": " + resp.Call
	}
	for k, v := range resp.Undo {
		if k != "idempotency_key" {
			step.Undo[k] = v
		}
	}
	return step, nil
}

// Rollback posts the undo of a step Execute returned.
func (w *Webhook) Rollback(ctx context.Context, a connectors.Action, done connectors.Step) error {
	if err := w.check(a); err != nil {
		return err
	}
	if k := done.Undo["idempotency_key"]; k != "" && k != IdempotencyKey(a) {
		return fmt.Errorf("webhook: rollback %s %q: the step belongs to another action", a.Type, a.Target)
	}
	_, err := w.post(ctx, WebhookRequest{Op: OpRollback, Action: a, Step: &done})
	return err
}

// Check asks the receiver whether a was applied, when configured to;
// otherwise it returns ErrCannotCheck.
func (w *Webhook) Check(ctx context.Context, a connectors.Action) (bool, connectors.Step, error) {
	if !w.cfg.Check {
		return false, connectors.Step{}, fmt.Errorf("webhook: %w (option check is off)", ErrCannotCheck)
	}
	if err := w.check(a); err != nil {
		return false, connectors.Step{}, err
	}
	resp, err := w.post(ctx, WebhookRequest{Op: OpCheck, Action: a})
	if err != nil {
		return false, connectors.Step{}, err
	}
	step := connectors.Step{Call: w.describe(OpExecute, a) + " (confirmed by check)", Undo: map[string]string{"idempotency_key": IdempotencyKey(a)}}
	for k, v := range resp.Undo {
		if k != "idempotency_key" {
			step.Undo[k] = v
		}
	}
	return resp.Applied, step, nil
}

// maxResponse bounds how much of an answer is read.
const maxResponse = 1 << 20

func (w *Webhook) post(ctx context.Context, r WebhookRequest) (*WebhookResponse, error) {
	r.Source = w.cfg.Source
	r.IdempotencyKey = IdempotencyKey(r.Action)
	now := w.cfg.Now().UTC()
	r.SentAt = now
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("webhook: encode %s: %w", r.Op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("webhook: %s %s: build request: %w", r.Op, w.display, err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(w.cfg.Secret, ts, body))
	req.Header.Set(HeaderIdempotencyKey, r.IdempotencyKey)
	res, err := w.cfg.Client.Do(req)
	if err != nil {
		// url.Error quotes the full URL, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("webhook: %s %s %s: %w", r.Op, r.Action.Type, w.display, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("webhook: %s %s: read answer: %w", r.Op, w.display, err)
	}
	switch {
	case res.StatusCode == http.StatusConflict:
		return nil, fmt.Errorf("webhook: %s %s %q: receiver answered 409 (%s): %w", r.Op, r.Action.Type, r.Action.Target, snippet(data), connectors.ErrTargetChanged)
	case res.StatusCode < 200 || res.StatusCode > 299:
		return nil, fmt.Errorf("webhook: %s %s %q: receiver answered %d (%s)", r.Op, r.Action.Type, r.Action.Target, res.StatusCode, snippet(data))
	}
	var out WebhookResponse
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, fmt.Errorf("webhook: %s %s: answer is not a JSON response object: %w", r.Op, w.display, err)
		}
	}
	return &out, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Sign returns the X-Steward-Signature value of body sent at timestamp.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "v1:%s:", timestamp)
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of VerifyWebhook.
var (
	ErrBadSignature   = errors.New("webhook: bad or missing signature")
	ErrStaleTimestamp = errors.New("webhook: timestamp missing or too far from now")
)

// MaxSkew is how far a request's timestamp may be from the receiver's
// clock.
const MaxSkew = 5 * time.Minute

// VerifyWebhook checks a received request's signature and timestamp, for
// receivers written in Go (and Steward's tests).
func VerifyWebhook(secret []byte, h http.Header, body []byte, now time.Time) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrStaleTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStaleTimestamp
	}
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}
