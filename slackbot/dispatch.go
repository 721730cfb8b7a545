package slackbot

import (
	"context"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// message is one thing said to the bot, whichever way it came.
type message struct {
	User, Channel, Text string
	TS, ThreadTS        string
	// Command is true for /steward: the question gets a thread of its
	// own, started by the bot.
	Command bool
}

// dispatchEvent takes an Events API inner event (HTTP or Socket Mode).
// An event id seen before is a retry and is dropped.
func (b *Bot) dispatchEvent(eventID string, inner slackevents.EventsAPIInnerEvent) {
	if eventID != "" && !b.seenEvents.add("event:"+eventID, time.Now()) {
		return
	}
	var m message
	switch ev := inner.Data.(type) {
	case *slackevents.AppMentionEvent:
		if ev.BotID != "" {
			return
		}
		m = message{User: ev.User, Channel: ev.Channel, Text: ev.Text, TS: ev.TimeStamp, ThreadTS: ev.ThreadTimeStamp}
	case *slackevents.MessageEvent:
		// Only direct messages: channel messages reach the bot as
		// app_mention. Bot messages (its own included) and edits are
		// not questions.
		if ev.ChannelType != "im" || ev.BotID != "" || ev.SubType != "" || ev.User == "" {
			return
		}
		m = message{User: ev.User, Channel: ev.Channel, Text: ev.Text, TS: ev.TimeStamp, ThreadTS: ev.ThreadTimeStamp}
	default:
		return
	}
	b.async("message", func(ctx context.Context) { b.onMessage(ctx, m) })
}

// dispatchCommand takes /steward <question>.
func (b *Bot) dispatchCommand(cmd slack.SlashCommand) {
	if cmd.TriggerID != "" && !b.seenEvents.add("command:"+cmd.TriggerID, time.Now()) {
		return
	}
	m := message{User: cmd.UserID, Channel: cmd.ChannelID, Text: cmd.Text, Command: true}
	b.async("command", func(ctx context.Context) { b.onMessage(ctx, m) })
}

// dispatchInteraction takes a button click or a modal submission. A click
// is identified by its user, action timestamp and action, so Slack's
// redelivery of one click is handled once.
func (b *Bot) dispatchInteraction(ic slack.InteractionCallback) {
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		for _, a := range ic.ActionCallback.BlockActions {
			ts := a.ActionTs
			if ts == "" {
				ts = ic.ActionTs
			}
			key := strings.Join([]string{"click", ic.User.ID, ts, a.ActionID, a.Value}, "|")
			if !b.seenEvents.add(key, time.Now()) {
				continue
			}
			a := *a
			b.async("click", func(ctx context.Context) { b.onClick(ctx, ic, a) })
		}
	case slack.InteractionTypeViewSubmission:
		key := strings.Join([]string{"view", ic.User.ID, ic.View.ID, ic.View.Hash}, "|")
		if !b.seenEvents.add(key, time.Now()) {
			return
		}
		b.async("view", func(ctx context.Context) { b.onViewSubmission(ctx, ic) })
	}
}
