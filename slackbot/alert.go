package slackbot

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"
)

// Alert posts text to channel: the change alerts after a sync
// (findings/changes). Slack's control sequences in the text (identity
// names are data) are escaped.
func (b *Bot) Alert(ctx context.Context, channel, text string) error {
	if _, _, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, true)); err != nil {
		return fmt.Errorf("slackbot: alert %s: %w", channel, err)
	}
	return nil
}
