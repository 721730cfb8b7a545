package slackbot

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/remediation/action"
	"github.com/steward-oss/steward/slackbot/slackfake"
)

const (
	ciDeployer = "aws:111111111111:user/ci-deployer"
	oldETL     = "aws:111111111111:user/old-etl"
)

func TestAskRemediateApproveRollback(t *testing.T) {
	h := newHarness(t, nil)
	p := h.propose("admins idle 30 days")

	posts := h.slack.Calls("chat.postMessage")
	answer := posts[0]
	if answer.Form.Get("thread_ts") != "1700000100.000001" {
		t.Fatalf("answer not in the question's thread: %v", answer.Form)
	}
	for _, want := range []string{"ci-deployer", "old-etl", ActionShowPlan} {
		if !strings.Contains(answer.Form.Get("blocks"), want) {
			t.Fatalf("answer blocks lack %q: %s", want, answer.Form.Get("blocks"))
		}
	}
	if got := p.Targets(); len(got) != 2 || got[0] != oldETL || got[1] != ciDeployer {
		t.Fatalf("proposal targets = %v", got)
	}
	if p.Requester != "alice@example.com" || p.State != approval.StateProposed {
		t.Fatalf("proposal = %s by %s", p.State, p.Requester)
	}
	if p.Actions[0].Type != "deactivate_identity" || p.Actions[0].Params["status"] != "active" {
		t.Fatalf("action = %+v, want deactivate_identity with the approved status", p.Actions[0])
	}
	prop := posts[len(posts)-1].Form.Get("blocks")
	for _, want := range []string{ActionApprove, ActionReject, ActionDetails, `"value":"` + p.ID + `"`} {
		if !strings.Contains(prop, want) {
			t.Fatalf("proposal message lacks %q: %s", want, prop)
		}
	}

	t.Run("details shows the dry run", func(t *testing.T) {
		h.click(carol, ActionDetails, p.ID, "1700000200.000001")
		eph := h.slack.Calls("chat.postEphemeral")
		if len(eph) == 0 || !strings.Contains(eph[len(eph)-1].Form.Get("blocks"), "op=execute deactivate_identity") {
			t.Fatalf("details = %v", h.slack.Texts("chat.postEphemeral"))
		}
		if len(h.soar.Ops()) != 0 {
			t.Fatal("the dry run called the receiver")
		}
	})

	t.Run("show plan", func(t *testing.T) {
		h.click(alice, ActionShowPlan, channel+":1700000100.000001", "1700000200.000002")
		eph := h.slack.Calls("chat.postEphemeral")
		if !strings.Contains(eph[len(eph)-1].Form.Get("blocks"), "idle_days") {
			t.Fatalf("plan = %s", eph[len(eph)-1].Form.Get("blocks"))
		}
	})

	t.Run("approval executes", func(t *testing.T) {
		h.click(carol, ActionApprove, p.ID, "1700000300.000001")
		got, _ := h.svc.Get(context.Background(), p.ID)
		if got.State != approval.StateDone {
			t.Fatalf("state = %s (%s)", got.State, got.Reason)
		}
		if ops := strings.Join(h.soar.Ops(), ","); ops != "execute "+oldETL+",execute "+ciDeployer {
			t.Fatalf("receiver got %s", ops)
		}
		last := h.slack.Calls("chat.postMessage")
		res := last[len(last)-1]
		if res.Form.Get("thread_ts") != "1700000100.000001" || !strings.Contains(res.Form.Get("blocks"), "done") ||
			!strings.Contains(res.Form.Get("blocks"), "disabled "+ciDeployer) {
			t.Fatalf("result post = %v", res.Form)
		}
	})

	t.Run("rollback by a non-approver is refused", func(t *testing.T) {
		h.mention(eve, "rollback", "1700000400.000001", "1700000100.000001")
		if got, _ := h.svc.Get(context.Background(), p.ID); got.State != approval.StateDone {
			t.Fatalf("state = %s", got.State)
		}
		if len(h.soar.Ops()) != 2 {
			t.Fatalf("receiver got %v", h.soar.Ops())
		}
	})

	t.Run("rollback by the approver", func(t *testing.T) {
		h.mention(carol, "rollback", "1700000400.000002", "1700000100.000001")
		got, _ := h.svc.Get(context.Background(), p.ID)
		if got.State != approval.StateRolledBack {
			t.Fatalf("state = %s (%s)", got.State, got.Reason)
		}
		ops := h.soar.Ops()
		if len(ops) != 4 || ops[2] != "rollback "+ciDeployer || ops[3] != "rollback "+oldETL {
			t.Fatalf("receiver got %v", ops)
		}
	})

	t.Run("audit", func(t *testing.T) {
		if _, err := audit.VerifyFile(h.auditLog); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range h.auditRecords() {
			if r.Where == audit.WhereSlack {
				seen[r.Action+" "+r.Outcome] = true
			}
		}
		for _, want := range []string{"question answered (2 rows of 2)", "proposal proposed", "approval approved",
			"execution done", "rollback rolled_back", "rollback refused: " + approval.ErrNotApprover.Error()} {
			if !seen[want] {
				t.Errorf("no slack audit record %q; have %v", want, seen)
			}
		}
	})
}

func TestRefusedClicksChangeNothing(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(h *harness, id string)
		user    string
		want    string // ephemeral text
		outcome string // audit outcome
	}{
		{name: "non-approver", user: eve, want: "not an approver", outcome: "refused: " + approval.ErrNotApprover.Error()},
		{name: "requester", user: alice, want: "You requested this proposal", outcome: "refused: " + approval.ErrSelfApproval.Error()},
		{name: "expired", user: carol, setup: func(h *harness, _ string) { h.clock.Advance(8 * 24 * time.Hour) },
			want: "window has closed", outcome: "refused: " + approval.ErrExpired.Error()},
		{name: "second click by the same approver", user: carol, setup: func(h *harness, id string) {
			h.click(carol, ActionApprove, id, "1700000300.000001")
		}, want: "already approved", outcome: "refused: " + approval.ErrDuplicateApprover.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Required = 2 })
			p := h.propose("admins idle 30 days")
			if tt.setup != nil {
				tt.setup(h, p.ID)
			}
			before, _ := h.svc.Get(context.Background(), p.ID)
			nAudit := len(h.auditRecords())
			h.click(tt.user, ActionApprove, p.ID, "1700000300.000099")
			after, _ := h.svc.Get(context.Background(), p.ID)
			if after.State != before.State || len(after.Decisions) != len(before.Decisions) || !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Fatalf("proposal changed: %s/%d -> %s/%d", before.State, len(before.Decisions), after.State, len(after.Decisions))
			}
			if len(h.soar.Ops()) != 0 {
				t.Fatalf("receiver called: %v", h.soar.Ops())
			}
			eph := h.slack.Calls("chat.postEphemeral")
			if len(eph) == 0 || !strings.Contains(eph[len(eph)-1].Form.Get("text"), tt.want) || eph[len(eph)-1].Form.Get("user") != tt.user {
				t.Fatalf("ephemeral = %v", h.slack.Texts("chat.postEphemeral"))
			}
			recs := h.auditRecords()
			if len(recs) != nAudit+1 || recs[nAudit].Outcome != tt.outcome || recs[nAudit].Where != audit.WhereSlack {
				t.Fatalf("audit after refusal: %+v", recs[nAudit:])
			}
		})
	}
}

func TestRejectThroughModal(t *testing.T) {
	h := newHarness(t, nil)
	p := h.propose("admins idle 30 days")
	h.click(dave, ActionReject, p.ID, "1700000300.000001")
	views := h.slack.Calls("views.open")
	if len(views) != 1 {
		t.Fatalf("views.open calls = %d", len(views))
	}
	view, _ := views[0].JSON["view"].(map[string]any)
	meta, _ := view["private_metadata"].(string)
	submit := func(reason string) {
		code, body := h.send(PathInteractivity, "application/x-www-form-urlencoded",
			slackfake.ViewSubmission(dave, "V1", CallbackReject, meta, map[string]map[string]string{blockReason: {blockReason: reason}}))
		if code != http.StatusOK {
			t.Fatalf("submit: %d %s", code, body)
		}
	}
	submit("   ")
	if got, _ := h.svc.Get(context.Background(), p.ID); got.State != approval.StateProposed {
		t.Fatalf("an empty reason rejected: %s", got.State)
	}
	h.slack.Calls("chat.postEphemeral")
	// A new view hash: a second, corrected submission.
	code, _ := h.send(PathInteractivity, "application/x-www-form-urlencoded",
		slackfake.ViewSubmission(dave, "V2", CallbackReject, meta, map[string]map[string]string{blockReason: {blockReason: "ci-deployer still ships releases"}}))
	if code != http.StatusOK {
		t.Fatal(code)
	}
	got, _ := h.svc.Get(context.Background(), p.ID)
	if got.State != approval.StateRejected || got.Reason != "ci-deployer still ships releases" {
		t.Fatalf("state = %s (%s)", got.State, got.Reason)
	}
	if len(h.soar.Ops()) != 0 {
		t.Fatal("a rejected proposal ran")
	}
}

func TestRequestVerification(t *testing.T) {
	h := newHarness(t, nil)
	body := slackfake.Mention("EvSig1", alice, channel, "<@U0BOT> admins idle 30 days", "1700000100.000001", "")
	questions := func() int {
		n := 0
		for _, r := range h.auditRecords() {
			if r.Action == audit.ActionQuestion {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name string
		req  func() *http.Request
		code int
	}{
		{name: "unsigned", code: http.StatusUnauthorized, req: func() *http.Request {
			r := slackfake.Request(signingSecret, "http://bot"+PathEvents, "application/json", body, time.Time{})
			r.Header.Del("X-Slack-Signature")
			return r
		}},
		{name: "wrong secret", code: http.StatusUnauthorized, req: func() *http.Request {
			return slackfake.Request("another-secret", "http://bot"+PathEvents, "application/json", body, time.Time{})
		}},
		{name: "older than five minutes", code: http.StatusUnauthorized, req: func() *http.Request {
			return slackfake.Request(signingSecret, "http://bot"+PathEvents, "application/json", body, time.Now().Add(-6*time.Minute))
		}},
		{name: "body altered after signing", code: http.StatusUnauthorized, req: func() *http.Request {
			r := slackfake.Request(signingSecret, "http://bot"+PathEvents, "application/json", body, time.Time{})
			other := slackfake.Request(signingSecret, "http://bot"+PathEvents, "application/json", []byte(strings.Replace(string(body), "admins", "owners", 1)), time.Time{})
			other.Header = r.Header
			return other
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _ := h.do(tt.req()); code != tt.code {
				t.Fatalf("code = %d, want %d", code, tt.code)
			}
			if n := questions(); n != 0 {
				t.Fatalf("%d questions handled", n)
			}
		})
	}

	t.Run("replay is refused, handled once", func(t *testing.T) {
		signed := slackfake.Request(signingSecret, "http://bot"+PathEvents, "application/json", body, time.Time{})
		if code, _ := h.do(signed); code != http.StatusOK {
			t.Fatalf("first: %d", code)
		}
		replay := slackfake.Request(signingSecret, "http://bot"+PathEvents, "application/json", body, time.Time{})
		replay.Header = signed.Header.Clone()
		if code, _ := h.do(replay); code != http.StatusUnauthorized {
			t.Fatalf("replay: %d, want 401", code)
		}
		if n := questions(); n != 1 {
			t.Fatalf("%d questions handled, want 1", n)
		}
	})

	t.Run("retry with the same event id is acknowledged, not handled", func(t *testing.T) {
		r := slackfake.Request(signingSecret, "http://bot"+PathEvents, "application/json", body, time.Now().Add(time.Second))
		r.Header.Set("X-Slack-Retry-Num", "1")
		if code, _ := h.do(r); code != http.StatusOK {
			t.Fatalf("retry: %d", code)
		}
		if n := questions(); n != 1 {
			t.Fatalf("%d questions handled, want 1", n)
		}
	})

	t.Run("url verification", func(t *testing.T) {
		code, out := h.send(PathEvents, "application/json", []byte(`{"type":"url_verification","token":"x","challenge":"chal-123"}`))
		var v map[string]string
		if code != http.StatusOK || json.Unmarshal([]byte(out), &v) != nil || v["challenge"] != "chal-123" {
			t.Fatalf("url_verification: %d %s", code, out)
		}
	})
}

func TestLongResultIsUploadedAsCSV(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.TableRows = 2 })
	h.mention(alice, "service accounts with no owner", "1700000500.000001", "")
	done := h.slack.Calls("files.completeUploadExternal")
	if len(done) != 1 || done[0].Form.Get("thread_ts") != "1700000500.000001" || done[0].Form.Get("channel_id") != channel {
		t.Fatalf("completeUploadExternal = %v", done)
	}
	up := h.slack.Calls("upload")
	if len(up) != 1 || !strings.Contains(string(up[0].Body), "id,name,kind,source") || !strings.Contains(string(up[0].Body), "k8s:prod:sa/kube-system/ops-bot") {
		t.Fatalf("uploaded = %q", up)
	}
}

func TestSlashCommandStartsAThread(t *testing.T) {
	h := newHarness(t, nil)
	form := "command=%2Fsteward&text=admins+idle+30+days&user_id=" + alice + "&channel_id=" + channel + "&trigger_id=trig-1"
	code, _ := h.send(PathCommands, "application/x-www-form-urlencoded", []byte(form))
	if code != http.StatusOK {
		t.Fatal(code)
	}
	posts := h.slack.Calls("chat.postMessage")
	if len(posts) != 2 || posts[0].Form.Get("thread_ts") != "" || posts[1].Form.Get("thread_ts") == "" ||
		!strings.Contains(posts[1].Form.Get("blocks"), "ci-deployer") {
		t.Fatalf("posts = %v", h.slack.Texts("chat.postMessage"))
	}
}

func TestRemediateWithoutAQuestion(t *testing.T) {
	h := newHarness(t, nil)
	h.mention(alice, "remediate", "1700000600.000002", "1700000600.000001")
	ps, _ := h.svc.List(context.Background(), approval.Filter{})
	if len(ps) != 0 {
		t.Fatal("a proposal was opened without a result")
	}
	if texts := h.slack.Texts("chat.postMessage"); len(texts) != 1 || !strings.Contains(texts[0], "Ask a question in this thread first") {
		t.Fatalf("posts = %v", texts)
	}
}

func TestRemediateArguments(t *testing.T) {
	tests := []struct {
		name     string
		args     string
		wantType string
		wantWhy  string
		wantPost string
	}{
		{name: "default action and justification", args: "", wantType: "deactivate_identity", wantWhy: `Requested in Slack by alice@example.com for the result of "admins idle 30 days"`},
		{name: "explicit action and justification", args: "notify_owner idle admins, ask before disabling", wantType: "notify_owner", wantWhy: "idle admins, ask before disabling"},
		{name: "delete is refused", args: "delete now", wantPost: "Deletion is not proposed from Slack"},
		{name: "action needing parameters is refused", args: "remove_membership", wantPost: "needs parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.mention(alice, "admins idle 30 days", "1700000100.000001", "")
			h.mention(alice, strings.TrimSpace("remediate "+tt.args), "1700000100.000002", "1700000100.000001")
			ps, _ := h.svc.List(context.Background(), approval.Filter{})
			if tt.wantPost != "" {
				texts := h.slack.Texts("chat.postMessage")
				if len(ps) != 0 || !strings.Contains(texts[len(texts)-1], tt.wantPost) {
					t.Fatalf("proposals %d, last post %q", len(ps), texts[len(texts)-1])
				}
				return
			}
			if len(ps) != 1 || ps[0].Actions[0].Type != action.Kind(tt.wantType) || ps[0].Justification != tt.wantWhy {
				t.Fatalf("proposals = %+v", ps)
			}
		})
	}
}

func TestRollbackBeforeExecutionIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	p := h.propose("admins idle 30 days")
	h.mention(carol, "rollback", "1700000100.000070", "1700000100.000001")
	if got, _ := h.svc.Get(context.Background(), p.ID); got.State != approval.StateProposed {
		t.Fatalf("state = %s", got.State)
	}
	texts := h.slack.Texts("chat.postMessage")
	if !strings.Contains(texts[len(texts)-1], "cannot be rolled back now") {
		t.Fatalf("last post = %q", texts[len(texts)-1])
	}
	recs := h.auditRecords()
	if last := recs[len(recs)-1]; last.Action != audit.ActionRollback || last.Outcome != "refused: "+approval.ErrWrongState.Error() {
		t.Fatalf("last audit record = %+v", last)
	}
	if len(h.soar.Ops()) != 0 {
		t.Fatalf("receiver called: %v", h.soar.Ops())
	}
}

func TestAskerAuditsQuestions(t *testing.T) {
	for _, tt := range []struct {
		name        string
		askerAudits bool
		want        int
	}{{"bot audits", false, 1}, {"asker audits", true, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.AskerAudits = tt.askerAudits })
			h.mention(alice, "admins idle 30 days", "1700000100.000001", "")
			n := 0
			for _, r := range h.auditRecords() {
				if r.Action == audit.ActionQuestion {
					n++
				}
			}
			if n != tt.want {
				t.Fatalf("%d question records, want %d", n, tt.want)
			}
		})
	}
}
