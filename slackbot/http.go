package slackbot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/steward-oss/steward/server"
)

// maxBody bounds a Slack request body; Slack's payloads are far smaller.
const maxBody = 1 << 20

// HTTP endpoint paths (the Slack app's Request URLs).
const (
	PathEvents        = "/slack/events"
	PathInteractivity = "/slack/interactivity"
	PathCommands      = "/slack/commands"
)

// Handlers are the HTTP-mode endpoints for server/routes.go, which
// mounts them at PathEvents, PathInteractivity and PathCommands outside
// the API-key group: Slack authenticates by signature. Each verifies the
// request, answers at once, and does the work in the background.
func (b *Bot) Handlers() *server.SlackHandlers {
	return &server.SlackHandlers{Events: b.events, Interactivity: b.interactivity, Commands: b.commands}
}

// canonicalSig is the only signature form accepted.
var canonicalSig = regexp.MustCompile(`^v0=[0-9a-f]{64}$`)

// errUnsigned is the one answer to a request that fails verification; the
// reason is logged, not told.
var errUnsigned = echo.NewHTTPError(http.StatusUnauthorized, "request signature missing, invalid, stale or replayed")

// verify reads the body and checks the signature, the timestamp (at most
// five minutes off, slack.NewSecretsVerifier) and that this signature was
// not seen before. ok is false when the request must be ignored without
// an error (a redelivery Slack marked as a retry).
func (b *Bot) verify(c echo.Context) (body []byte, ok bool, err error) {
	r := c.Request()
	if b.cfg.SigningSecret.IsZero() {
		b.log.Error("slack request refused: no signing secret configured (HTTP mode needs one)")
		return nil, false, errUnsigned
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, false, echo.NewHTTPError(http.StatusBadRequest, "unreadable body")
	}
	// Only the canonical form is accepted: "v0=" and 64 lower-case hex
	// digits (what Slack sends). The comparison itself is constant time
	// (hmac.Equal in Ensure).
	if sig := r.Header.Get("X-Slack-Signature"); !canonicalSig.MatchString(sig) {
		b.log.Warn("slack request refused", "path", r.URL.Path, "reason", "signature not in canonical form")
		return nil, false, errUnsigned
	}
	sv, err := slack.NewSecretsVerifier(r.Header, b.cfg.SigningSecret.Reveal())
	if err != nil {
		b.log.Warn("slack request refused", "path", r.URL.Path, "reason", err.Error())
		return nil, false, errUnsigned
	}
	if _, err := sv.Write(body); err != nil {
		return nil, false, errUnsigned
	}
	if err := sv.Ensure(); err != nil {
		b.log.Warn("slack request refused", "path", r.URL.Path, "reason", "bad signature")
		return nil, false, errUnsigned
	}
	// The replay key is the request itself (timestamp and body), not the
	// header text: hex is case-insensitive, so an upper-cased copy of a
	// signature is the same signature, and must count as a replay.
	sum := sha256.Sum256(append([]byte(r.Header.Get("X-Slack-Request-Timestamp")+":"), body...))
	if !b.seenSigs.add(hex.EncodeToString(sum[:]), time.Now()) {
		if r.Header.Get("X-Slack-Retry-Num") != "" {
			return nil, false, nil // a retry of a request already taken
		}
		b.log.Warn("slack request refused", "path", r.URL.Path, "reason", "replayed signature")
		return nil, false, errUnsigned
	}
	return body, true, nil
}

func (b *Bot) events(c echo.Context) error {
	body, ok, err := b.verify(c)
	if err != nil || !ok {
		return err
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "not an Events API payload")
	}
	switch ev.Type {
	case slackevents.URLVerification:
		var v slackevents.ChallengeResponse
		if err := json.Unmarshal(body, &v); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "bad url_verification")
		}
		return c.JSON(http.StatusOK, map[string]string{"challenge": v.Challenge})
	case slackevents.CallbackEvent:
		eventID := ""
		if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok {
			eventID = cb.EventID
		}
		b.dispatchEvent(eventID, ev.InnerEvent)
	}
	return c.NoContent(http.StatusOK)
}

// verifiedForm reads a signed form body; when ok is false, err is what the
// handler returns.
func (b *Bot) verifiedForm(c echo.Context) (form url.Values, ok bool, err error) {
	body, ok, err := b.verify(c)
	if err != nil || !ok {
		return nil, false, err
	}
	form, err = url.ParseQuery(string(body))
	if err != nil {
		return nil, false, echo.NewHTTPError(http.StatusBadRequest, "not a form body")
	}
	return form, true, nil
}

func (b *Bot) interactivity(c echo.Context) error {
	form, ok, err := b.verifiedForm(c)
	if !ok {
		return err
	}
	var ic slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "payload is not an interaction")
	}
	b.dispatchInteraction(ic)
	return c.NoContent(http.StatusOK)
}

func (b *Bot) commands(c echo.Context) error {
	form, ok, err := b.verifiedForm(c)
	if !ok {
		return err
	}
	b.dispatchCommand(slack.SlashCommand{
		Command: form.Get("command"), Text: form.Get("text"), UserID: form.Get("user_id"),
		ChannelID: form.Get("channel_id"), TriggerID: form.Get("trigger_id"),
	})
	return c.JSON(http.StatusOK, map[string]string{"response_type": "ephemeral", "text": "Working on it…"})
}
