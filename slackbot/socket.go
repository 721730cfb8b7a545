package slackbot

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode connects to Slack with the app-level token and serves
// events, clicks and slash commands until ctx ends. Each is acknowledged
// on receipt and handled like its HTTP twin.
func (b *Bot) RunSocketMode(ctx context.Context) error {
	if b.cfg.AppToken.IsZero() {
		return errors.New("slackbot: socket mode needs an app-level token (xapp-…)")
	}
	client := socketmode.New(b.api)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(ctx) }()
	for {
		select {
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slackbot: socket mode: %w", err)
		case evt, ok := <-client.Events:
			if !ok {
				return nil
			}
			b.onSocketEvent(ctx, client, evt)
		}
	}
}

func (b *Bot) onSocketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	ack := func() {
		if evt.Request == nil {
			return
		}
		if err := client.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
			b.log.Warn("socket mode ack failed", attrErr, err)
		}
	}
	// dispatch only starts the work, so acknowledging after it is still
	// immediate; the work is then already counted by Wait.
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		if ev, ok := evt.Data.(slackevents.EventsAPIEvent); ok && ev.Type == slackevents.CallbackEvent {
			eventID := ""
			if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok {
				eventID = cb.EventID
			}
			b.dispatchEvent(eventID, ev.InnerEvent)
		}
		ack()
	case socketmode.EventTypeInteractive:
		if ic, ok := evt.Data.(slack.InteractionCallback); ok {
			b.dispatchInteraction(ic)
		}
		ack()
	case socketmode.EventTypeSlashCommand:
		if cmd, ok := evt.Data.(slack.SlashCommand); ok {
			b.dispatchCommand(cmd)
		}
		ack()
	case socketmode.EventTypeConnectionError:
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			b.log.Warn("socket mode connection failed; retrying", "attempt", ce.Attempt, "backoff", ce.Backoff, attrErr, ce.ErrorObj)
		}
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("socket mode: the app-level token was refused")
	}
}
