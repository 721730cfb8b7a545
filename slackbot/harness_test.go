package slackbot

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/internal/audittest"
	"github.com/steward-oss/steward/internal/fakeclock"
	"github.com/steward-oss/steward/internal/offlineasker"
	"github.com/steward-oss/steward/internal/secret"
	"github.com/steward-oss/steward/internal/testgraph"
	"github.com/steward-oss/steward/internal/webhooktest"
	"github.com/steward-oss/steward/server"
	"github.com/steward-oss/steward/slackbot/slackfake"
)

const (
	signingSecret = "test-signing-secret-not-real"
	hookSecret    = "test-webhook-secret-not-real-0123"
	channel       = "C0SECOPS"
	alice         = "U0ALICE" // analyst, requester
	carol         = "U0CAROL" // approver
	dave          = "U0DAVE"  // approver
	eve           = "U0EVE"   // neither
)

var emails = map[string]string{alice: "alice@example.com", carol: "carol@example.com", dave: "Dave@Example.com", eve: "eve@example.com"}

type harness struct {
	t        *testing.T
	slack    *slackfake.Server
	bot      *Bot
	e        http.Handler
	svc      *approval.Service
	soar     *webhooktest.Receiver // the SOAR tool behind the webhook actuator
	clock    *fakeclock.Clock
	auditLog string
	log      *audit.Log
	hookURL  string // the SOAR receiver
}

func newHarness(t *testing.T, mutate func(*Config)) *harness {
	t.Helper()
	ix := testgraph.Load(t, "testdata/small.jsonl")
	clock := fakeclock.New(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	h := &harness{t: t, clock: clock, soar: &webhooktest.Receiver{Secret: []byte(hookSecret)}, auditLog: filepath.Join(dir, "audit.log")}
	h.slack = slackfake.New(emails)
	t.Cleanup(h.slack.Stop)
	var err error
	h.log, err = audit.Open(h.auditLog, audit.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	store, err := approval.OpenBolt(filepath.Join(dir, "approvals.db"))
	if err != nil {
		t.Fatal(err)
	}
	h.svc, err = approval.NewService(approval.Options{Store: store, Audit: h.log, Clock: clock,
		Groups: approval.StaticGroups{"secops": {"carol@example.com", "dave@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	rcv := httptest.NewServer(h.soar)
	t.Cleanup(rcv.Close)
	h.hookURL = rcv.URL
	hook, err := actuate.NewWebhook(actuate.WebhookConfig{URL: rcv.URL, Secret: []byte(hookSecret), Source: "aws:111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	exec, err := actuate.NewExecutor(actuate.Route{Source: "aws:111111111111", Type: "webhook", Actuator: hook})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{BotToken: secret.New("xoxb-test-not-real"), SigningSecret: secret.New(signingSecret), APIURL: h.slack.APIURL(), ApproverGroup: "secops"}
	if mutate != nil {
		mutate(&cfg)
	}
	h.bot, err = New(cfg, Deps{Asker: offlineasker.New(ix, clock.Now), Approvals: h.svc, Executor: exec, Audit: h.log,
		Index: testgraph.NewSource(ix), Clock: clock, Logger: slog.New(slog.NewTextHandler(testLogOut(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	// Through the server, as serve mounts them (server/routes.go).
	h.e = server.New(server.Config{Slack: h.bot.Handlers(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	t.Cleanup(func() {
		h.bot.Close()
		store.Close()
		h.log.Close()
	})
	return h
}

// send POSTs a signed request and waits until the work it started is
// done; it returns the status code and body.
func (h *harness) send(path, contentType string, body []byte) (int, string) {
	h.t.Helper()
	return h.do(slackfake.Request(signingSecret, "http://bot"+path, contentType, body, time.Time{}))
}

func (h *harness) do(r *http.Request) (int, string) {
	h.t.Helper()
	w := httptest.NewRecorder()
	h.e.ServeHTTP(w, r)
	h.bot.Wait()
	return w.Code, w.Body.String()
}

var eventSeq int

func itoa(i int) string { return strconv.Itoa(i) }

// mention says text to the bot in the thread threadTS ("" starts one at
// ts) and returns the thread.
func (h *harness) mention(user, text, ts, threadTS string) {
	h.t.Helper()
	eventSeq++
	code, body := h.send(PathEvents, "application/json", slackfake.Mention("Ev"+itoa(eventSeq), user, channel, "<@U0BOT> "+text, ts, threadTS))
	if code != http.StatusOK {
		h.t.Fatalf("mention: %d %s", code, body)
	}
}

func (h *harness) click(user, actionID, value, actionTS string) {
	h.t.Helper()
	code, body := h.send(PathInteractivity, "application/x-www-form-urlencoded",
		slackfake.BlockAction(user, channel, "1700000100.000001", "1700000100.000009", actionID, value, actionTS))
	if code != http.StatusOK {
		h.t.Fatalf("click: %d %s", code, body)
	}
}

// propose asks a question in thread 1700000100.000001 and remediates it,
// returning the proposal.
func (h *harness) propose(question string) *approval.Proposal {
	h.t.Helper()
	h.mention(alice, question, "1700000100.000001", "")
	h.mention(alice, "remediate", "1700000100.000002", "1700000100.000001")
	ps, err := h.svc.List(context.Background(), approval.Filter{})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(ps) != 1 {
		h.t.Fatalf("%d proposals after remediate; posts: %v", len(ps), h.slack.Texts("chat.postMessage"))
	}
	return ps[0]
}

func (h *harness) auditRecords() []audit.Record { return audittest.Records(h.t, h.auditLog) }

// testLogOut is where the bot logs in tests: nowhere, unless
// STEWARD_TEST_LOG is set.
func testLogOut() io.Writer {
	if os.Getenv("STEWARD_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}
