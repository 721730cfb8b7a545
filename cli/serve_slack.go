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

// buildSlack starts the Slack app when a bot token is configured: Socket
// Mode (a goroutine under ctx) or HTTP handlers the server mounts. It
// returns the handlers (nil in socket mode) and a stop function.
// Without a configured bot token Slack is simply off.
func buildSlack(ctx context.Context, cfg *config.Config, ag *agent.Agent, inv *inventory.Inventory, alog *audit.Log,
	rem *remediationParts, now func() time.Time, log *slog.Logger, run func(func())) (*server.SlackHandlers, func(), error) {
	if cfg.Slack.BotTokenEnv == "" {
		return nil, func() {}, nil
	}
	bot := os.Getenv(cfg.Slack.BotTokenEnv)
	if bot == "" {
		return nil, nil, fmt.Errorf("slack: %s is empty", cfg.Slack.BotTokenEnv)
	}
	if rem.executor == nil {
		return nil, nil, fmt.Errorf("slack: approvals in Slack need actuators: configure actuators[] (with their own credentials)")
	}
	sc := slackbot.Config{BotToken: secret.New(bot), AskerAudits: true, APIURL: cfg.Slack.APIURL, Users: cfg.Slack.Users, ApproverGroup: cfg.Slack.ApproverGroup,
		Expiry: time.Duration(cfg.Remediation.Expiry), Channel: cfg.Reviews.Channel}
	switch cfg.Slack.Mode {
	case "http":
		if sc.SigningSecret = secret.New(os.Getenv(cfg.Slack.SigningSecretEnv)); sc.SigningSecret.IsZero() {
			return nil, nil, fmt.Errorf("slack: http mode needs the signing secret in %q", cfg.Slack.SigningSecretEnv)
		}
	default:
		if sc.AppToken = secret.New(os.Getenv(cfg.Slack.AppTokenEnv)); sc.AppToken.IsZero() {
			return nil, nil, fmt.Errorf("slack: socket mode needs the app-level token in %q", cfg.Slack.AppTokenEnv)
		}
	}
	asker := chat.New(chat.Options{Agent: ag, Graph: inv, Now: now, Audit: alog, Changes: rem.history, Where: "slack", Logger: log.With("component", "chat")})
	b, err := slackbot.New(sc, slackbot.Deps{Asker: asker, Approvals: rem.approvals, Executor: rem.executor, Audit: alog,
		Index: inv, Logger: log.With("component", "slack"), Reviews: rem.reviews.slackReviews()})
	if err != nil {
		return nil, nil, err
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
		return b.Handlers(), b.Close, nil
	}
	run(func() {
		if err := b.RunSocketMode(ctx); err != nil && ctx.Err() == nil {
			log.Error("slack socket mode stopped", "err", err)
		}
	})
	return nil, b.Close, nil
}
