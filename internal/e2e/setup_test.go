package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/fakeclock"
	"github.com/steward-oss/steward/internal/offlineasker"
	"github.com/steward-oss/steward/internal/pgtest"
	"github.com/steward-oss/steward/internal/secret"
	"github.com/steward-oss/steward/internal/testgraph"
	"github.com/steward-oss/steward/server"
	"github.com/steward-oss/steward/slackbot"
	"github.com/steward-oss/steward/slackbot/slackfake"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	signingSecret = "e2e-signing-secret-not-real"
	channel       = "C0SECOPS"
	alice         = "U0ALICE" // analyst: asks and requests
	carol         = "U0CAROL" // approver (secops)
	dave          = "U0DAVE"  // approver (secops)
	eve           = "U0EVE"   // in the workspace, approves nothing
)

var emails = map[string]string{alice: "alice@example.com", carol: "carol@example.com", dave: "dave@example.com", eve: "eve@example.com",
	frank: "frank@example.com", heidi: "heidi@example.com", grace: "grace@example.com", ivan: "ivan@example.com"}

var groups = approval.StaticGroups{"secops": {"carol@example.com", "dave@example.com"}}

// stack is Steward as `serve` wires it for Slack: approval service over a
// bbolt store, the audit log, the actuate executor built from actuator
// configuration, the bot's routes on the HTTP API server, and a local
// Slack Web API.
type stack struct {
	t        *testing.T
	dir      string
	clock    *fakeclock.Clock
	slack    *slackfake.Server
	log      *audit.Log
	store    approval.Store
	svc      *approval.Service
	bot      *slackbot.Bot
	url      string // the Steward HTTP server
	auditLog string
}

type stackOptions struct {
	dir       string // holds approvals.db and audit.log; default a temp dir
	index     *graph.Index
	actuators []config.Actuator
	clock     *fakeclock.Clock
	// wrap lets a test stand between the bot and the approval service.
	wrap func(slackbot.Approvals) slackbot.Approvals
	// reviews, when set, builds the access-review service over the
	// stack's approval service and audit log (review_test.go).
	reviews func(s *stack) slackbot.Reviews
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	if o.clock == nil {
		o.clock = fakeclock.New(time.Now().UTC())
	}
	if o.index == nil {
		o.index = graph.Build(nil)
	}
	s := &stack{t: t, dir: o.dir, clock: o.clock, auditLog: filepath.Join(o.dir, "audit.log")}
	s.slack = slackfake.New(emails)
	t.Cleanup(s.slack.Stop)
	var err error
	if s.log, err = audit.Open(s.auditLog, audit.WithClock(o.clock.Now)); err != nil {
		t.Fatal(err)
	}
	if s.store, err = approval.OpenBolt(filepath.Join(o.dir, "approvals.db")); err != nil {
		t.Fatal(err)
	}
	if s.svc, err = approval.NewService(approval.Options{Store: s.store, Audit: s.log, Groups: groups, Clock: o.clock, Logger: quietLogger()}); err != nil {
		t.Fatal(err)
	}
	exec, err := actuate.Build(o.actuators, actuate.Env{})
	if err != nil {
		t.Fatal(err)
	}
	var reviews slackbot.Reviews
	if o.reviews != nil {
		reviews = o.reviews(s)
	}
	var approvals slackbot.Approvals = s.svc
	if o.wrap != nil {
		approvals = o.wrap(approvals)
	}
	s.bot, err = slackbot.New(slackbot.Config{BotToken: secret.New("xoxb-e2e-not-real"), SigningSecret: secret.New(signingSecret), APIURL: s.slack.APIURL(),
		ApproverGroup: "secops", Required: 1, Expiry: 72 * time.Hour, Channel: channel},
		slackbot.Deps{Asker: offlineasker.New(o.index, o.clock.Now), Approvals: approvals, Executor: exec, Audit: s.log,
			Index: testgraph.NewSource(o.index), Clock: o.clock, Logger: quietLogger(), Reviews: reviews})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Logger: quietLogger(), Graph: testgraph.NewSource(o.index),
		Slack: s.bot.Handlers()})
	hs := httptest.NewServer(srv.Handler())
	s.url = hs.URL
	t.Cleanup(func() {
		hs.Close()
		s.close()
	})
	return s
}

// close stops the bot and releases the store and the log (idempotent).
func (s *stack) close() {
	if s.bot == nil {
		return
	}
	s.bot.Close()
	s.store.Close()
	s.log.Close()
	s.bot = nil
}

// post sends a signed request to the bot over HTTP and waits for the
// work it started.
func (s *stack) post(path, contentType string, body []byte) int {
	s.t.Helper()
	return s.send(slackfake.Request(signingSecret, s.url+path, contentType, body, time.Time{}))
}

func (s *stack) send(r *http.Request) int {
	s.t.Helper()
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	s.bot.Wait()
	return res.StatusCode
}

var seq int

func next() string { seq++; return strconv.Itoa(seq) }

func (s *stack) mention(user, text, ts, threadTS string) {
	s.t.Helper()
	if code := s.post(slackbot.PathEvents, "application/json", slackfake.Mention("Ev"+next(), user, channel, "<@U0STEWARD> "+text, ts, threadTS)); code != http.StatusOK {
		s.t.Fatalf("mention %q: HTTP %d", text, code)
	}
}

// clickRequest is an approver's signed click on a proposal button in
// thread threadTS.
func (s *stack) clickRequest(user, actionID, id, threadTS string) *http.Request {
	body := slackfake.BlockAction(user, channel, threadTS, threadTS+"9", actionID, id, "1700001000."+next())
	return slackfake.Request(signingSecret, s.url+slackbot.PathInteractivity, "application/x-www-form-urlencoded", body, time.Time{})
}

func (s *stack) proposal(id string) *approval.Proposal {
	s.t.Helper()
	p, err := s.svc.Get(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// lastPost is the last chat.postMessage in thread ts: its text and
// blocks.
func (s *stack) lastPost(ts string) string {
	var out string
	for _, c := range s.slack.Calls("chat.postMessage") {
		if c.Form.Get("thread_ts") == ts {
			out = c.Form.Get("text") + "\n" + c.Form.Get("blocks")
		}
	}
	return out
}

func (s *stack) lastEphemeral(user string) string {
	var out string
	for _, c := range s.slack.Calls("chat.postEphemeral") {
		if c.Form.Get("user") == user {
			out = c.Form.Get("text")
		}
	}
	return out
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// dbName is the database of a DSN URL.
func dbName(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}
