package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
	_ "github.com/steward-oss/steward/connectors/hr"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/derive/ownership"
	"github.com/steward-oss/steward/internal/fakeclock"
	"github.com/steward-oss/steward/internal/testgraph"
	"github.com/steward-oss/steward/review"
	"github.com/steward-oss/steward/slackbot"
	"github.com/steward-oss/steward/slackbot/slackfake"
)

// The people of the review test (Slack user ids; e-mails in emails).
const (
	frank = "U0FRANK" // owns the PostgreSQL role and svc-web
	heidi = "U0HEIDI" // frank's manager: reviews his identities
	grace = "U0GRACE" // owns svc-etl
	ivan  = "U0IVAN"  // grace's manager: ignores his item
)

const svcWebTarget = "ldap:example.com:cn=svc-web,ou=service accounts,dc=example,dc=com"

// reviewCampaign is reviewed on a fixed plan: the two admin accounts of
// the remediation test and svc-web. Owners may not review their own
// identities, so their managers do; an ignored item escalates to secops
// after 5 days and is kept by default at the deadline.
const reviewCampaign = `
name: e2e-quarterly
description: quarterly certification of the e2e servers' service accounts
scope:
  plan: {version: 1, ids: ["` + pgTarget + `", "` + ldapTarget + `", "` + svcWebTarget + `"]}
schedule: quarterly
duration: 14d
reviewers: [owner, manager, {group: secops}]
owner_may_review: false
escalate_after: 5d
remind_before: [2d]
default_decision: keep
approvers: {group: secops, required: 1}
`

// botNotifier hands review notices to the stack's bot, which exists
// only once newStack has built it.
type botNotifier struct{ s *stack }

func (n botNotifier) Notify(ctx context.Context, x review.Notice) { n.s.bot.Notify(ctx, x) }

func TestAccessReviewEndToEnd(t *testing.T) {
	src := startSources(t)
	ctx := context.Background()

	// The graph: what the connectors read from the live servers, the HR
	// roster and the owners an analyst set.
	hrr, err := connectors.New("hr", connectors.Options{"from": "testdata/review-roster.csv"}, connectors.Env{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	hr, err := hrr.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(src.sgs), hr...)
	owners, _ := ownership.Infer(all, []ownership.Override{
		{Identity: pgTarget, OwnerEmail: "frank@example.com", SetBy: "alice@example.com", SetAt: time.Now(), Reason: "e2e"},
		{Identity: svcWebTarget, OwnerEmail: "frank@example.com", SetBy: "alice@example.com", SetAt: time.Now(), Reason: "e2e"},
		{Identity: ldapTarget, OwnerEmail: "grace@example.com", SetBy: "alice@example.com", SetAt: time.Now(), Reason: "e2e"},
	})
	ix := graph.Build(append(all, owners))
	for _, id := range []string{pgTarget, ldapTarget, svcWebTarget} {
		if _, ok := ix.Lookup(id); !ok {
			t.Fatalf("%s is not in the graph", id)
		}
	}

	// Campaigns live in PostgreSQL.
	rstore, err := review.OpenPostgres(ctx, src.pg.CreateDB(t, "steward_reviews_e2e"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rstore.Close() })
	clock := fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	var rsvc *review.Service
	st := newStack(t, stackOptions{index: ix, actuators: src.actuators, clock: clock, reviews: func(s *stack) slackbot.Reviews {
		rsvc, err = review.NewService(review.Options{Store: rstore, Audit: s.log, Approvals: s.svc, Graph: testgraph.NewSource(ix),
			Groups: groups, Notifier: botNotifier{s}, Clock: clock, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return rsvc
	}})
	c, err := review.ParseCampaign("e2e-quarterly.yaml", []byte(reviewCampaign))
	if err != nil {
		t.Fatal(err)
	}
	in, err := rsvc.Launch(ctx, c, approval.Actor{ID: "alice@example.com", Where: audit.WhereCLI})
	if err != nil {
		t.Fatal(err)
	}
	item := func(target string) *review.Item {
		for _, it := range in.Items {
			if it.Snapshot.ID == target {
				return it
			}
		}
		t.Fatalf("no item for %s", target)
		return nil
	}
	pgItem, etlItem, webItem := item(pgTarget), item(ldapTarget), item(svcWebTarget)

	// Reviewers receive exactly their items, each in a direct message.
	dms := func(kind string) map[string][]string {
		out := map[string][]string{}
		for _, call := range st.slack.Calls("chat.postMessage") {
			if !strings.Contains(call.Form.Get("text"), kind) && kind != "" {
				continue
			}
			ch := call.Form.Get("channel")
			for _, it := range in.Items {
				if strings.Contains(call.Form.Get("blocks"), `"value":"`+in.ID+"|"+it.ID+`"`) {
					out[ch] = append(out[ch], it.Snapshot.ID)
				}
			}
		}
		for _, v := range out {
			slices.Sort(v)
		}
		return out
	}
	want := map[string][]string{heidi: {svcWebTarget, pgTarget}, ivan: {ldapTarget}} // sorted
	if got := dms("Access review"); len(got) != len(want) || !slices.Equal(got[heidi], want[heidi]) || !slices.Equal(got[ivan], want[ivan]) {
		t.Fatalf("review messages went to %v, want %v", got, want)
	}
	for _, w := range []string{slackbot.ActionReviewKeep, slackbot.ActionReviewRevoke, slackbot.ActionReviewReassign, slackbot.ActionReviewDetails} {
		if !strings.Contains(st.slack.Calls("chat.postMessage")[0].Form.Get("blocks"), w) {
			t.Fatalf("review message lacks %s", w)
		}
	}

	click := func(user, action string, it *review.Item) int {
		body := slackfake.BlockAction(user, "D"+user, "", "1700002000.000001", action, in.ID+"|"+it.ID, "1700002000."+next())
		return st.send(slackfake.Request(signingSecret, st.url+slackbot.PathInteractivity, "application/x-www-form-urlencoded", body, time.Time{}))
	}
	lastAudit := func() audit.Record { r := records(t, st.auditLog); return r[len(r)-1] }

	// Refused: the owner deciding on his own identity, someone who is
	// not the reviewer. Nothing changes; both are audited.
	refusals := []struct {
		name, user, message, audit string
	}{
		{"self-review", frank, "You own this identity", "refused: " + review.ErrSelfReview.Error()},
		{"not the reviewer", eve, "You are not the reviewer", "refused: " + review.ErrNotReviewer.Error()},
	}
	for _, tt := range refusals {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			if code := click(tt.user, slackbot.ActionReviewRevoke, pgItem); code != http.StatusOK {
				t.Fatalf("HTTP %d", code)
			}
			if !strings.Contains(st.lastEphemeral(tt.user), tt.message) {
				t.Fatalf("ephemeral %q", st.lastEphemeral(tt.user))
			}
			r := lastAudit()
			if r.Action != review.ActionDecision || r.Outcome != tt.audit || r.Actor != emails[tt.user] || r.Where != audit.WhereSlack || r.Target != pgTarget {
				t.Fatalf("audit %+v", r)
			}
			if cur, _ := rsvc.Get(ctx, in.ID); cur.Items[0].Decision != nil || len(approvalsOf(t, st)) != 0 {
				t.Fatal("a refused decision changed the campaign or opened a proposal")
			}
			if got := src.live(t); got != liveActive {
				t.Fatalf("servers changed: %s", got)
			}
		})
	}

	// Heidi revokes the PostgreSQL role: a proposal she requested, posted
	// to the approvers' channel; carol approves; the actuator sets the
	// real role NOLOGIN.
	if code := click(heidi, slackbot.ActionReviewRevoke, pgItem); code != http.StatusOK {
		t.Fatal(code)
	}
	ps := approvalsOf(t, st)
	if len(ps) != 1 || ps[0].Requester != "heidi@example.com" || ps[0].Targets()[0] != pgTarget || ps[0].Actions[0].Type != "deactivate_identity" {
		t.Fatalf("proposals %+v", ps)
	}
	pid := ps[0].ID
	var proposalTS string
	for _, call := range st.slack.Calls("chat.postMessage") {
		if call.Form.Get("channel") == channel && strings.Contains(call.Form.Get("blocks"), `"value":"`+pid+`"`) {
			proposalTS = "1700003000.000001"
		}
	}
	if proposalTS == "" {
		t.Fatalf("proposal %s was not posted to %s", pid, channel)
	}
	if src.canLogin(t) != true {
		t.Fatal("the role changed before approval")
	}
	if st.send(st.clickRequest(heidi, slackbot.ActionApprove, pid, proposalTS)); !strings.Contains(st.lastEphemeral(heidi), "You requested this proposal") {
		t.Fatalf("reviewer approving her own revoke: %q", st.lastEphemeral(heidi))
	}
	if code := st.send(st.clickRequest(carol, slackbot.ActionApprove, pid, proposalTS)); code != http.StatusOK {
		t.Fatal(code)
	}
	if p := st.proposal(pid); p.State != approval.StateDone {
		t.Fatalf("proposal %s: %s (%s)", pid, p.State, p.Reason)
	}
	if src.canLogin(t) {
		t.Fatal("the PostgreSQL role can still log in after the approved revoke")
	}

	// Heidi keeps svc-web with a justification, through the Keep dialog.
	if code := click(heidi, slackbot.ActionReviewKeep, webItem); code != http.StatusOK {
		t.Fatal(code)
	}
	views := st.slack.Calls("views.open")
	if len(views) == 0 {
		t.Fatal("Keep opened no dialog")
	}
	var view struct {
		PrivateMetadata string `json:"private_metadata"`
		CallbackID      string `json:"callback_id"`
	}
	raw, _ := json.Marshal(views[len(views)-1].JSON["view"])
	if err := json.Unmarshal(raw, &view); err != nil || view.CallbackID != slackbot.CallbackReviewKeep {
		t.Fatalf("dialog %s: %v", raw, err)
	}
	const why = "bind account of the web frontend; reviewed with the app team"
	body := slackfake.ViewSubmission(heidi, "V1", slackbot.CallbackReviewKeep, view.PrivateMetadata,
		map[string]map[string]string{"justification": {"justification": why}, "until": {"until": "2027-03-01"}})
	if code := st.send(slackfake.Request(signingSecret, st.url+slackbot.PathInteractivity, "application/x-www-form-urlencoded", body, time.Time{})); code != http.StatusOK {
		t.Fatal(code)
	}
	cur, err := rsvc.Get(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if it, _ := cur.Item(webItem.ID); it.Decision == nil || it.Decision.Kind != review.DecisionKeep || it.Decision.Justification != why ||
		it.Decision.By != "heidi@example.com" || it.Decision.Where != audit.WhereSlack || it.Decision.Until.Format(time.DateOnly) != "2027-03-01" {
		t.Fatalf("svc-web decision %+v", it.Decision)
	}

	// Ivan ignores svc-etl: after 5 days it escalates to secops, whose
	// members get it; the revoke's outcome is followed.
	clock.Advance(5*24*time.Hour + time.Hour)
	rep, err := rsvc.Tick(ctx)
	if err != nil || rep.Escalated != 1 || rep.Outcomes != 1 {
		t.Fatalf("tick %+v %v", rep, err)
	}
	esc := dms("Access review")
	if !slices.Equal(esc[carol], []string{ldapTarget}) || !slices.Equal(esc[dave], []string{ldapTarget}) {
		t.Fatalf("escalation messages %v", esc)
	}
	clock.Advance(7 * 24 * time.Hour)
	if rep, err := rsvc.Tick(ctx); err != nil || rep.Reminded != 2 {
		t.Fatalf("reminder tick %+v %v", rep, err)
	}
	// The deadline: the default decision (keep), and the campaign closes.
	clock.Advance(2 * 24 * time.Hour)
	if rep, err := rsvc.Tick(ctx); err != nil || rep.Defaulted != 1 || rep.Closed != 1 {
		t.Fatalf("deadline tick %+v %v", rep, err)
	}
	t.Run("refused: closed campaign", func(t *testing.T) {
		if code := click(carol, slackbot.ActionReviewRevoke, etlItem); code != http.StatusOK {
			t.Fatal(code)
		}
		if !strings.Contains(st.lastEphemeral(carol), "closed") {
			t.Fatalf("ephemeral %q", st.lastEphemeral(carol))
		}
		if r := lastAudit(); r.Outcome != "refused: "+review.ErrClosed.Error() || r.Actor != "carol@example.com" {
			t.Fatalf("audit %+v", r)
		}
		if got := src.uac(t); got != "512" {
			t.Fatalf("svc-etl changed: %s", got)
		}
	})

	// The report lists every item with its outcome.
	final, err := rsvc.Get(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := review.NewReport(final, clock.Now())
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(review.CSVColumns, name) }
	got := map[string]string{}
	for _, row := range rows[1:] {
		got[row[col("identity")]] = row[col("decision")] + "/" + row[col("default")] + "/" + row[col("outcome")] + "/" + row[col("decided_by")]
	}
	wantRows := map[string]string{
		pgTarget:     "revoke/false/executed/heidi@example.com",
		svcWebTarget: "keep/false/kept/heidi@example.com",
		ldapTarget:   "keep/true/kept/steward",
	}
	if len(rows) != 4 || len(got) != 3 {
		t.Fatalf("csv rows %v", rows)
	}
	for id, w := range wantRows {
		if got[id] != w {
			t.Errorf("report row %s = %q, want %q", id, got[id], w)
		}
	}
	s := r.Summary
	if s.State != review.StateClosed || s.Decisions[review.DecisionRevoke] != 1 || s.Decisions[review.DecisionKeep] != 1 || s.Defaults != 1 ||
		s.Escalations != 1 || len(s.Revoked) != 1 || s.Revoked[0].Outcome != review.OutcomeExecuted {
		t.Fatalf("summary %+v", s)
	}
	var h bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{why, pid, "executed", "default decision (keep)", "escalated to group:secops"} {
		if !strings.Contains(h.String(), w) {
			t.Errorf("evidence report lacks %q", w)
		}
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "evidence.html"), h.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("audit log", func(t *testing.T) {
		st.close()
		if _, err := audit.VerifyFile(st.auditLog); err != nil {
			t.Fatalf("verify: %v", err)
		}
		have := map[string]bool{}
		for _, r := range records(t, st.auditLog) {
			have[r.Where+" "+r.Action+" "+r.Outcome] = true
		}
		for _, w := range []string{"cli review_launch launched (3 items, 2 reviewers)", "slack review_decision revoke", "slack review_decision keep",
			"slack review_decision refused: " + review.ErrSelfReview.Error(), "slack review_decision refused: " + review.ErrNotReviewer.Error(),
			"slack review_decision refused: " + review.ErrClosed.Error(), "slack proposal proposed", "slack approval approved", "slack execution done",
			"scheduler review_escalation escalated to group:secops", "scheduler review_reminder reminded of 1 items", "scheduler review_outcome executed",
			"scheduler review_default kept", "scheduler review_close closed (deadline)"} {
			if !have[w] {
				t.Errorf("no audit record %q", w)
			}
		}
	})
}

func approvalsOf(t *testing.T, st *stack) []*approval.Proposal {
	t.Helper()
	ps, err := st.svc.List(context.Background(), approval.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}
