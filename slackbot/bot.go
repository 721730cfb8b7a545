// Package slackbot is Steward's Slack app. Analysts mention the bot or DM
// it (or use /steward) and get the answer in the thread: a table, or a CSV
// file when it is long, with the query plan behind a "Show plan" button.
// "remediate" in the thread turns the previous result into a remediation
// proposal, posted with Approve / Reject / Details buttons; approvers'
// clicks go through the approval state machine, and when enough approved
// the actions run through the actuate executor and the outcome is posted
// in the thread. "rollback" in the thread, by an approver, undoes them.
//
// The same handler serves Socket Mode (RunSocketMode, the default: no
// public endpoint) and HTTP mode (Routes: signed Events API,
// interactivity and slash-command endpoints). Every HTTP request must
// carry a valid Slack signature less than five minutes old, and a
// signature is accepted once. Every interaction is acknowledged at once
// and worked on in a goroutine bound to the bot's lifetime; Slack's
// retries are recognised by event id / action timestamp and ignored.
//
// With Deps.Reviews set the bot is also the access reviews' notifier:
// each reviewer gets a direct message listing their items (paged) with
// Keep / Revoke / Modify / Reassign / Details buttons (review.go); Keep
// and Reassign open a dialog for the justification or note, and a Revoke
// or Modify's proposal is posted to Config.Channel for the approvers.
//
// Who clicked is mapped to an e-mail (the slack.users map of the
// configuration, else the Slack profile), which is what approval rules
// name. A click by anyone the approval service refuses (not an approver,
// the requester, too late, twice) changes nothing: the clicker gets an
// ephemeral refusal and the audit log records it. Tokens and the signing
// secret are values the caller read from the environment; they are never
// logged.
package slackbot

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/secret"
)

// Asker answers a message in a conversation (the agent). Conversation is
// the Slack thread ("channel:thread_ts"), so follow-ups in a thread narrow
// the previous result.
type Asker interface {
	Chat(ctx context.Context, conversation, actor, message string, onStep func(chat.Step)) (*chat.Answer, error)
}

// Approvals is the approval state machine; *approval.Service is one.
type Approvals interface {
	Propose(ctx context.Context, p *approval.Proposal, by approval.Actor) (*approval.Proposal, error)
	Get(ctx context.Context, id string) (*approval.Proposal, error)
	List(ctx context.Context, f approval.Filter) ([]*approval.Proposal, error)
	Eligible(p *approval.Proposal) []string
	MayDecide(p *approval.Proposal, by approval.Actor) error
	MayRollback(p *approval.Proposal, by approval.Actor) error
	Approve(ctx context.Context, id string, by approval.Actor, reason string) (*approval.Proposal, error)
	Reject(ctx context.Context, id string, by approval.Actor, reason string) (*approval.Proposal, error)
	RequestChanges(ctx context.Context, id string, by approval.Actor, reason string) (*approval.Proposal, error)
	Execute(ctx context.Context, id string, exec approval.Executor, by approval.Actor) (*approval.Proposal, error)
	Rollback(ctx context.Context, id string, u approval.Undoer, by approval.Actor) (*approval.Proposal, error)
	Resume(ctx context.Context, exec approval.Executor, by approval.Actor) ([]*approval.Proposal, error)
}

var _ Approvals = (*approval.Service)(nil)

// Executor carries out and previews actions; *actuate.Executor is one.
type Executor interface {
	approval.Executor
	approval.Undoer
	Plan(ctx context.Context, a connectors.Action) ([]connectors.Step, error)
}

// Auditor appends audit records; *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, r audit.Record) (audit.Record, error)
}

// IndexSource gives the current graph index (for proposal targets).
type IndexSource interface {
	Index() *graph.Index
}

// Clock tells the time; tests pass a fake one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Config is the bot's configuration. The tokens and the signing secret
// are values (the caller reads them from the environment variables the
// configuration names), held as secrets so a logged Config shows only
// their masks.
type Config struct {
	BotToken      secret.Secret
	AppToken      secret.Secret // xapp-…, Socket Mode only
	SigningSecret secret.Secret // HTTP mode only
	// APIURL overrides https://slack.com/api/ (tests).
	APIURL string
	// Users maps Slack user ids to e-mails; it wins over the profile.
	Users map[string]string
	// ApproverGroup is the approval group of proposals made in Slack.
	ApproverGroup string
	// Required is how many approvals a proposal needs (default 1).
	Required int
	// Expiry is how long a proposal waits for a decision (default 7d).
	Expiry time.Duration
	// TableRows is the longest result posted as a table; longer ones are
	// uploaded as CSV (default 15).
	TableRows int
	// AskerAudits says the Asker already writes the audit record of each
	// question (chat.Service does, with where=slack), so the bot does not
	// write a second one.
	AskerAudits bool
	// Channel, when set, receives results of proposals whose thread is
	// not known (executed by Resume after a restart).
	Channel string
}

// Deps are the services the bot drives.
type Deps struct {
	Asker     Asker
	Approvals Approvals
	Executor  Executor
	Audit     Auditor
	Index     IndexSource
	// Reviews, when set, receives the decisions of review messages.
	Reviews Reviews
	Logger  *slog.Logger
	Clock   Clock
	// HTTPClient is used for Slack API calls (default http.DefaultClient).
	HTTPClient *http.Client
}

// Bot is the Slack app.
type Bot struct {
	cfg  Config
	deps Deps
	api  *slack.Client
	log  *slog.Logger

	// life is the bot's lifetime: work started by an interaction runs
	// under it, not under the HTTP request that was acknowledged at once.
	// Close cancels it. (A stored context is deliberate here: the work
	// outlives every request.)
	life   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	seenEvents *seen // event ids and action timestamps: Slack retries
	seenSigs   *seen // request signatures: replays

	mu      sync.Mutex
	convs   *lru[*conversation]
	threads map[string]thread // proposal id -> where it was posted
	// threadOrder is threads' keys, oldest first, to bound it.
	threadOrder []string
	emails      map[string]string // Slack user id -> e-mail (profile cache)
}

// thread is a Slack thread.
type thread struct {
	Channel string
	TS      string
}

func (t thread) key() string { return t.Channel + ":" + t.TS }

// conversation is what the bot remembers of a thread.
type conversation struct {
	thread   thread
	question string
	answer   *chat.Answer
}

// Defaults.
const (
	DefaultTableRows = 15
	DefaultExpiry    = 7 * 24 * time.Hour
	memory           = 4096 // remembered events, signatures, conversations
)

// New checks cfg and deps and returns a bot. Call Close when done.
func New(cfg Config, deps Deps) (*Bot, error) {
	switch {
	case strings.TrimSpace(cfg.BotToken.Reveal()) == "":
		return nil, errors.New("slackbot: bot token is empty")
	case deps.Asker == nil:
		return nil, errors.New("slackbot: asker is nil")
	case deps.Approvals == nil:
		return nil, errors.New("slackbot: approvals is nil")
	case deps.Executor == nil:
		return nil, errors.New("slackbot: executor is nil")
	case deps.Audit == nil:
		return nil, errors.New("slackbot: audit is nil (every question and decision must be audited)")
	case deps.Index == nil:
		return nil, errors.New("slackbot: index source is nil")
	}
	if cfg.Required <= 0 {
		cfg.Required = 1
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = DefaultExpiry
	}
	if cfg.TableRows <= 0 {
		cfg.TableRows = DefaultTableRows
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Clock == nil {
		deps.Clock = systemClock{}
	}
	opts := []slack.Option{}
	if cfg.APIURL != "" {
		u := cfg.APIURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, slack.OptionAPIURL(u))
	}
	if !cfg.AppToken.IsZero() {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken.Reveal()))
	}
	if deps.HTTPClient != nil {
		opts = append(opts, slack.OptionHTTPClient(deps.HTTPClient))
	}
	life, cancel := context.WithCancel(context.Background())
	b := &Bot{
		cfg: cfg, deps: deps, api: slack.New(cfg.BotToken.Reveal(), opts...),
		log:  deps.Logger.With("component", "slackbot"),
		life: life, cancel: cancel,
		seenEvents: newSeen(memory, 0), seenSigs: newReplayCache(),
		convs: newLRU[*conversation](memory), threads: map[string]thread{}, emails: map[string]string{},
	}
	return b, nil
}

// Close stops the work in flight (it sees its context cancelled) and
// waits for it.
func (b *Bot) Close() {
	b.cancel()
	b.wg.Wait()
}

// Wait blocks until the work started by every interaction so far is
// finished (tests call it after a request has been acknowledged).
func (b *Bot) Wait() { b.wg.Wait() }

// async runs fn in a goroutine bound to the bot's lifetime.
func (b *Bot) async(name string, fn func(ctx context.Context)) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				b.log.Error("panic in slack handler", "work", name, "panic", r)
			}
		}()
		fn(b.life)
	}()
}

// Attribute keys.
const (
	attrUser     = "slack_user"
	attrChannel  = "channel"
	attrProposal = "proposal"
	attrErr      = "err"
)
