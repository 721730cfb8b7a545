package slackbot

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/slackbot/slackfake"
)

// TestFinding7CaseChangedSignatureReplay: issue 12 finding 7. A signed
// request replayed with its signature's hex digits upper-cased (or mixed)
// is the same request and must be refused (old code: accepted, as the
// replay set was keyed on the header text).
func TestFinding7CaseChangedSignatureReplay(t *testing.T) {
	h := newHarness(t, nil)
	body := slackfake.Mention("EvSig7", alice, channel, "<@U0BOT> admins idle 30 days", "1700000700.000001", "")
	signed := slackfake.Request(signingSecret, "http://bot"+PathEvents, "application/json", body, time.Time{})
	if code, _ := h.do(signed); code != http.StatusOK {
		t.Fatalf("first: %d", code)
	}
	sig := signed.Header.Get("X-Slack-Signature")
	for _, variant := range []string{"v0=" + strings.ToUpper(strings.TrimPrefix(sig, "v0=")), "v0=" + strings.ToUpper(strings.TrimPrefix(sig, "v0="))[:10] + strings.TrimPrefix(sig, "v0=")[10:]} {
		replay := slackfake.Request(signingSecret, "http://bot"+PathEvents, "application/json", body, time.Time{})
		replay.Header = signed.Header.Clone()
		replay.Header.Set("X-Slack-Signature", variant)
		if code, _ := h.do(replay); code != http.StatusUnauthorized {
			t.Fatalf("replay with signature %q…: %d, want 401", variant[:12], code)
		}
	}
}
