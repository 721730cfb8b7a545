package slackbot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/slack-go/slack"
)

// Alert posts text to channel: the change alerts after a sync
// (findings/changes). Slack's control sequences in the text (identity
// names are data) are escaped.
func (b *Bot) Alert(ctx context.Context, channel, text string) error {
	return postAlert(ctx, b.api, channel, text)
}

func postAlert(ctx context.Context, api *slack.Client, channel, text string) error {
	if _, _, err := api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, true)); err != nil {
		return fmt.Errorf("slackbot: alert %s: %w", channel, err)
	}
	return nil
}

// Alerter posts change alerts without the rest of the Slack app: what a
// one-off `steward sync` needs, which answers no questions and runs no
// approvals.
type Alerter struct {
	api *slack.Client
}

// NewAlerter returns an alerter posting with botToken; apiURL, when set,
// overrides https://slack.com/api/ (tests), client the HTTP client.
func NewAlerter(botToken, apiURL string, client *http.Client) (*Alerter, error) {
	if strings.TrimSpace(botToken) == "" {
		return nil, errors.New("slackbot: bot token is empty")
	}
	var opts []slack.Option
	if apiURL != "" {
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	if client != nil {
		opts = append(opts, slack.OptionHTTPClient(client))
	}
	return &Alerter{api: slack.New(botToken, opts...)}, nil
}

// Alert posts text to channel, as Bot.Alert does.
func (a *Alerter) Alert(ctx context.Context, channel, text string) error {
	return postAlert(ctx, a.api, channel, text)
}
