package review

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

var (
	alice = Actor{ID: "alice@example.com", Where: audit.WhereCLI}
	mia   = Actor{ID: "mia@example.com", Where: audit.WhereCLI}
	sam   = Actor{ID: "sam@example.com", Where: audit.WhereSlack}
	tess  = Actor{ID: "tess@example.com", Where: audit.WhereHTTP}
	carl  = Actor{ID: "carl@example.com", Where: audit.WhereCLI}
)

func TestCampaignLifecycle(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	in, err := fx.svc.Launch(ctx, campaign(t), carl)
	if err != nil {
		t.Fatal(err)
	}

	// The chain: owner alice; departed owner bob -> his manager mia;
	// nobody owns svc_orphan -> the security group. svc_reader is not
	// admin and is out of scope.
	wantAssigned := map[string][]string{
		"alice@example.com": {"svc_etl"},
		"mia@example.com":   {"svc_report"},
		"sam@example.com":   {"svc_orphan"},
		"tess@example.com":  {"svc_orphan"},
	}
	got := fx.notices.items("assigned")
	if len(in.Items) != 3 || len(got) != len(wantAssigned) {
		t.Fatalf("%d items, notices %v", len(in.Items), got)
	}
	for r, want := range wantAssigned {
		if !slices.Equal(got[r], want) {
			t.Errorf("%s was told of %v, want %v", r, got[r], want)
		}
	}
	if it := itemByName(t, in, "svc_report"); !slices.Contains(it.Skipped, "owner: every owner has left") || it.Chain[0].Rule != RuleManager {
		t.Fatalf("svc_report chain %+v skipped %v", it.Chain, it.Skipped)
	}
	etl, orphan, report := itemByName(t, in, "svc_etl"), itemByName(t, in, "svc_orphan"), itemByName(t, in, "svc_report")
	if etl.Snapshot.Privilege != "admin" || len(etl.Snapshot.Grants) != 1 || etl.Snapshot.Expect["can_login"] != "true" || etl.Snapshot.Fingerprint == "" {
		t.Fatalf("snapshot %+v", etl.Snapshot)
	}

	// Refusals change nothing and are audited.
	refusals := []struct {
		name  string
		item  string
		by    Actor
		in    Input
		want  error
		audit string
	}{
		{"not the reviewer", etl.ID, tess, Input{Kind: DecisionKeep, Justification: "x"}, ErrNotReviewer, "refused: " + ErrNotReviewer.Error()},
		{"keep of admin access without justification", orphan.ID, sam, Input{Kind: DecisionKeep}, ErrJustificationRequired, "refused: " + ErrJustificationRequired.Error()},
		{"unknown decision", orphan.ID, sam, Input{Kind: "approve"}, ErrBadDecision, "refused: " + ErrBadDecision.Error()},
		{"reassign without a note", orphan.ID, sam, Input{Kind: DecisionReassign, To: "carl@example.com"}, ErrBadDecision, "refused: " + ErrBadDecision.Error()},
		{"modify without usage data", orphan.ID, sam, Input{Kind: DecisionModify}, ErrBadDecision, "refused: " + ErrBadDecision.Error()},
	}
	for _, tt := range refusals {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			n := len(records(t, fx.auditLog))
			_, _, err := fx.svc.Decide(ctx, in.ID, tt.item, tt.in, tt.by)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			cur, _ := fx.svc.Get(ctx, in.ID)
			it, _ := cur.Item(tt.item)
			if it.Decision != nil || it.Outcome != OutcomePending {
				t.Fatalf("item changed: %+v", it)
			}
			recs := records(t, fx.auditLog)
			if len(recs) != n+1 || recs[n].Outcome != tt.audit || recs[n].Actor != tt.by.ID || recs[n].Where != tt.by.Where {
				t.Fatalf("audit %+v", recs[n:])
			}
		})
	}

	// Keep with a justification is recorded.
	fx.clock.Advance(2 * time.Hour)
	_, kept, err := fx.svc.Decide(ctx, in.ID, orphan.ID, Input{Kind: DecisionKeep, Justification: "break-glass role for the on-call DBA", Until: t0.Add(60 * 24 * time.Hour)}, sam)
	if err != nil {
		t.Fatal(err)
	}
	if kept.Outcome != OutcomeKept || kept.Decision.Justification != "break-glass role for the on-call DBA" || !kept.Decision.Until.Equal(t0.Add(60*24*time.Hour)) || kept.Decision.By != "sam@example.com" {
		t.Fatalf("kept %+v", kept.Decision)
	}
	if _, _, err := fx.svc.Decide(ctx, in.ID, orphan.ID, Input{Kind: DecisionRevoke}, tess); !errors.Is(err, ErrAlreadyDecided) {
		t.Fatalf("second decision: %v", err)
	}

	// Revoke opens a proposal requested by the reviewer, who cannot
	// approve it; a security member can.
	_, revoked, err := fx.svc.Decide(ctx, in.ID, report.ID, Input{Kind: DecisionRevoke, Justification: "owner left; nobody uses it"}, mia)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fx.approval.Get(ctx, revoked.ProposalID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Requester != "mia@example.com" || p.State != approval.StateProposed || len(p.Actions) != 1 || p.Actions[0].Type != "deactivate_identity" ||
		p.Actions[0].Params["can_login"] != "true" {
		t.Fatalf("proposal %+v", p)
	}
	if _, err := fx.approval.Approve(ctx, p.ID, approval.Actor{ID: "mia@example.com", Where: audit.WhereSlack}, "ok"); !errors.Is(err, approval.ErrSelfApproval) {
		t.Fatalf("reviewer approving their own revoke: %v", err)
	}
	if _, err := fx.approval.Approve(ctx, p.ID, approval.Actor{ID: "tess@example.com", Where: audit.WhereSlack}, "confirmed"); err != nil {
		t.Fatal(err)
	}

	// svc_etl is ignored: after escalate_after it goes to alice's manager.
	fx.clock.Advance(5 * 24 * time.Hour)
	rep, err := fx.svc.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Escalated != 1 || rep.Outcomes != 1 {
		t.Fatalf("tick %+v", rep)
	}
	if got := fx.notices.items("escalated"); !slices.Equal(got["mia@example.com"], []string{"svc_etl"}) || len(got) != 1 {
		t.Fatalf("escalation notices %v", got)
	}
	if _, _, err := fx.svc.Decide(ctx, in.ID, etl.ID, Input{Kind: DecisionKeep, Justification: "x"}, alice); !errors.Is(err, ErrNotReviewer) {
		t.Fatalf("alice after escalation: %v", err)
	}
	// A second tick changes nothing.
	if rep, err := fx.svc.Tick(ctx); err != nil || *rep != (TickReport{}) {
		t.Fatalf("idempotent tick %+v %v", rep, err)
	}

	// 3 days before the deadline: one reminder to the one pending
	// reviewer; mia did not act either, so the same tick hands the item
	// to the last rule, the security group.
	fx.clock.Advance(6*24*time.Hour + time.Hour)
	if rep, err := fx.svc.Tick(ctx); err != nil || rep.Reminded != 1 {
		t.Fatalf("reminder tick %+v %v", rep, err)
	}
	if got := fx.notices.items("reminder"); !slices.Equal(got["mia@example.com"], []string{"svc_etl"}) || len(got) != 1 {
		t.Fatalf("reminders %v", got)
	}

	// The deadline: the default (keep) and the campaign closes.
	fx.clock.Advance(3 * 24 * time.Hour)
	if rep, err := fx.svc.Tick(ctx); err != nil || rep.Defaulted != 1 || rep.Closed != 1 {
		t.Fatalf("deadline tick %+v %v", rep, err)
	}
	n := len(records(t, fx.auditLog))
	if _, _, err := fx.svc.Decide(ctx, in.ID, etl.ID, Input{Kind: DecisionRevoke}, mia); !errors.Is(err, ErrClosed) {
		t.Fatalf("decision on a closed campaign: %v", err)
	}
	if recs := records(t, fx.auditLog); len(recs) != n+1 || recs[n].Outcome != "refused: "+ErrClosed.Error() {
		t.Fatalf("closed refusal audit %+v", recs[n:])
	}
	final, err := fx.svc.Get(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e := itemByName(t, final, "svc_etl"); e.Decision == nil || !e.Decision.Default || e.Outcome != OutcomeKept || e.Reviewer != "group:security" {
		t.Fatalf("svc_etl %+v", e)
	}

	sum := Summarize(final, fx.clock.Now())
	if sum.Items != 3 || sum.Decided != 3 || sum.ByReviewers != 2 || sum.Defaults != 1 || sum.Decisions[DecisionKeep] != 1 ||
		sum.Decisions[DecisionRevoke] != 1 || sum.Escalations != 2 || sum.Reminders != 1 || !slices.Equal(sum.Overdue, []string{etl.ID}) ||
		len(sum.Revoked) != 1 || sum.Revoked[0].ProposalID != p.ID {
		t.Fatalf("summary %+v", sum)
	}

	t.Run("csv", func(t *testing.T) {
		var b bytes.Buffer
		if err := NewReport(final, fx.clock.Now()).WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || !slices.Equal(rows[0], CSVColumns) {
			t.Fatalf("csv %v", rows)
		}
		col := slices.Index(CSVColumns, "outcome")
		var outcomes []string
		for _, r := range rows[1:] {
			outcomes = append(outcomes, r[col])
		}
		slices.Sort(outcomes)
		if !slices.Equal(outcomes, []string{"kept", "kept", "proposed"}) {
			t.Fatalf("outcomes %v", outcomes)
		}
	})

	t.Run("html evidence report", func(t *testing.T) {
		var b bytes.Buffer
		if err := NewReport(final, fx.clock.Now()).WriteHTML(&b); err != nil {
			t.Fatal(err)
		}
		doc := parseHTML(t, b.Bytes())
		for _, id := range []string{"definition", "summary", "reviewers", "items", "evidence", "reminders", "item-table", "outcomes"} {
			if doc.ids[id] == 0 {
				t.Errorf("no element with id %q", id)
			}
		}
		if len(doc.rows) != 3 {
			t.Fatalf("item rows %v", doc.rows)
		}
		for _, want := range []string{"break-glass role for the on-call DBA", "owner left; nobody uses it", p.ID, "default decision (keep)",
			"owner → manager → group security", "escalated to mia@example.com"} {
			if !strings.Contains(doc.text, want) {
				t.Errorf("report text lacks %q", want)
			}
		}
		if doc.scripts != 0 || doc.external != 0 {
			t.Errorf("report has %d scripts and %d external resources", doc.scripts, doc.external)
		}
	})

	t.Run("audit", func(t *testing.T) {
		if _, err := audit.VerifyFile(fx.auditLog); err != nil {
			t.Fatal(err)
		}
		have := map[string]int{}
		for _, r := range records(t, fx.auditLog) {
			have[r.Action]++
		}
		for _, a := range []string{ActionLaunch, ActionAssign, ActionDecision, ActionEscalation, ActionReminder, ActionDefault, ActionOutcome, ActionClose, audit.ActionProposal} {
			if have[a] == 0 {
				t.Errorf("no %s record", a)
			}
		}
	})
}

func TestSelfReviewRefused(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	c := campaign(t)
	c.OwnerMayReview = false
	in, err := fx.svc.Launch(ctx, c, carl)
	if err != nil {
		t.Fatal(err)
	}
	etl := itemByName(t, in, "svc_etl")
	if etl.Reviewer != "mia@example.com" || !slices.Contains(etl.Skipped, "owner: owners may not review their own identities in this campaign") {
		t.Fatalf("svc_etl reviewer %s skipped %v", etl.Reviewer, etl.Skipped)
	}
	tests := []struct {
		name string
		by   Actor
		in   Input
		want error
	}{
		{"owner decides", alice, Input{Kind: DecisionKeep, Justification: "mine, I need it"}, ErrSelfReview},
		{"reassigned to the owner", mia, Input{Kind: DecisionReassign, To: "alice@example.com", Justification: "she knows it"}, ErrSelfReview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(records(t, fx.auditLog))
			if _, _, err := fx.svc.Decide(ctx, in.ID, etl.ID, tt.in, tt.by); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v", err)
			}
			recs := records(t, fx.auditLog)
			if len(recs) != n+1 || recs[n].Outcome != "refused: "+ErrSelfReview.Error() || recs[n].Target != etl.Snapshot.ID {
				t.Fatalf("audit %+v", recs[n:])
			}
		})
	}
	// A reassignment to someone else is recorded and notified.
	if _, it, err := fx.svc.Decide(ctx, in.ID, etl.ID, Input{Kind: DecisionReassign, To: "carl@example.com", Justification: "Carl runs ETL now"}, mia); err != nil || it.Reviewer != "carl@example.com" {
		t.Fatalf("reassign: %v %+v", err, it)
	}
	if got := fx.notices.items("reassigned"); !slices.Equal(got["carl@example.com"], []string{"svc_etl"}) {
		t.Fatalf("reassign notices %v", got)
	}
}

func TestChangedSinceLaunch(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	in, err := fx.svc.Launch(ctx, campaign(t), carl)
	if err != nil {
		t.Fatal(err)
	}
	// The role loses its superuser grant in a later sync.
	etl := itemByName(t, in, "svc_etl")
	sgs := testgraph.Read(t, "testdata/org.jsonl")
	for _, sg := range sgs {
		for k := range sg.Edges {
			if sg.Edges[k].From == etl.Snapshot.ID {
				sg.Edges[k].Effect = "deny"
			}
		}
	}
	fx.svc.o.Graph = testgraph.NewSource(graph.Build(sgs))
	if rep, err := fx.svc.Tick(ctx); err != nil || rep.Changed != 1 {
		t.Fatalf("tick %+v %v", rep, err)
	}
	got, _ := fx.svc.Get(ctx, in.ID)
	if it := itemByName(t, got, "svc_etl"); !it.Changed || it.ChangedHow == "" || it.Snapshot.Grants[0].Action != "*" {
		t.Fatalf("item %+v", it)
	}
}

// htmlDoc is what parseHTML found.
type htmlDoc struct {
	ids      map[string]int
	rows     []string // data-item of item table rows
	text     string
	scripts  int
	external int
}

// parseHTML reads the report with encoding/xml in HTML mode: every
// element must nest properly for it to get through.
func parseHTML(t *testing.T, b []byte) htmlDoc {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	doc := htmlDoc{ids: map[string]int{}}
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch x := tok.(type) {
		case xml.StartElement:
			for _, a := range x.Attr {
				switch {
				case a.Name.Local == "id":
					doc.ids[a.Value]++
				case a.Name.Local == "data-item":
					doc.rows = append(doc.rows, a.Value)
				case (a.Name.Local == "src" || a.Name.Local == "href") && strings.Contains(a.Value, "//"):
					doc.external++
				}
			}
			if x.Name.Local == "script" {
				doc.scripts++
			}
		case xml.CharData:
			text.Write(x)
			text.WriteByte(' ')
		}
	}
	doc.text = text.String()
	return doc
}
