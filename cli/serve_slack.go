package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/graph/inventory"
	"github.com/steward-oss/steward/internal/secret"
	"github.com/steward-oss/steward/server"
	"github.com/steward-oss/steward/slackbot"
)

// slackParts is the Slack app as serve runs it: HTTP handlers the server
// mounts (HTTP mode) or the Socket Mode connection, one of serve's parts
// (socket mode), and stop.
type slackParts struct {
	routes *server.SlackHandlers
	socket func(ctx context.Context) error
	stop   func()
}

// buildSlack builds the Slack app when a bot token is configured.
// Without a configured bot token Slack is simply off.
func buildSlack(ctx context.Context, cfg *config.Config, ag *agent.Agent, inv *inventory.Inventory, alog *audit.Log,
	rem *remediationParts, now func() time.Time, log *slog.Logger) (slackParts, error) {
	off := slackParts{stop: func() {}}
	if cfg.Slack.BotTokenEnv == "" {
		return off, nil
	}
	bot := os.Getenv(cfg.Slack.BotTokenEnv)
	if bot == "" {
		return off, fmt.Errorf("slack: %s is empty", cfg.Slack.BotTokenEnv)
	}
	if rem.executor == nil {
		return off, fmt.Errorf("slack: approvals in Slack need actuators: configure actuators[] (with their own credentials)")
	}
	sc := slackbot.Config{BotToken: secret.New(bot), AskerAudits: true, APIURL: cfg.Slack.APIURL, Users: cfg.Slack.Users, ApproverGroup: cfg.Slack.ApproverGroup,
		Expiry: time.Duration(cfg.Remediation.Expiry), Channel: cfg.Reviews.Channel}
	switch cfg.Slack.Mode {
	case "http":
		if sc.SigningSecret = secret.New(os.Getenv(cfg.Slack.SigningSecretEnv)); sc.SigningSecret.IsZero() {
			return off, fmt.Errorf("slack: http mode needs the signing secret in %q", cfg.Slack.SigningSecretEnv)
		}
	default:
		if sc.AppToken = secret.New(os.Getenv(cfg.Slack.AppTokenEnv)); sc.AppToken.IsZero() {
			return off, fmt.Errorf("slack: socket mode needs the app-level token in %q", cfg.Slack.AppTokenEnv)
		}
	}
	asker := chat.New(chat.Options{Agent: ag, Graph: inv, Now: now, Audit: alog, Changes: rem.history, Where: "slack", Logger: log.With("component", "chat")})
	b, err := slackbot.New(sc, slackbot.Deps{Asker: asker, Approvals: rem.approvals, Executor: rem.executor, Audit: alog,
		Index: inv, Logger: log.With("component", "slack"), Reviews: rem.reviews.slackReviews()})
	if err != nil {
		return off, err
	}
	if rem.reviews != nil {
		rem.reviews.notifier.set(b)
	}
	if rem.changes != nil {
		rem.changes.Notifier = b // change alerts after scheduled syncs
	}
	if err := b.Resume(ctx); err != nil {
		log.Warn("slack: resuming interrupted executions failed", "err", err)
	}
	if cfg.Slack.Mode == "http" {
		return slackParts{routes: b.Handlers(), stop: b.Close}, nil
	}
	return slackParts{socket: b.RunSocketMode, stop: b.Close}, nil
}
