package remediation

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
)

const day = 24 * time.Hour

var (
	sam   = approval.Actor{ID: "sam@example.com", Where: audit.WhereSlack}
	sue   = approval.Actor{ID: "sue@example.com", Where: audit.WhereSlack}
	owner = approval.Actor{ID: "owner@example.com", Where: audit.WhereSlack}
)

func loadTestPolicies(t *testing.T) (idle, departed *Policy) {
	t.Helper()
	pols, err := LoadPolicies("testdata/policies", validatePlan)
	if err != nil {
		t.Fatal(err)
	}
	return pols[1], pols[0]
}

// step is one moment of a scenario: optionally act on the proposals,
// advance the clock, then run the policies with the given matches and check
// what was opened ("stage:target-name" each).
type step struct {
	advance time.Duration
	act     func(t *testing.T, e *env, opened map[string]string)
	matches []Target
	opened  []string
	skip    string // a substring one Skipped reason must contain
}

// execute runs the approved proposal opened for label (the notifier or
// an actuator stand-in) to done.
func execute(label string) func(t *testing.T, e *env, opened map[string]string) {
	return func(t *testing.T, e *env, opened map[string]string) {
		t.Helper()
		p, err := e.svc.Execute(context.Background(), opened[label], &notifier{}, sam)
		if err != nil || p.State != approval.StateDone {
			t.Fatalf("execute %s: %v", label, err)
		}
	}
}

func approveAndExecute(label string) func(t *testing.T, e *env, opened map[string]string) {
	return func(t *testing.T, e *env, opened map[string]string) {
		t.Helper()
		ctx := context.Background()
		for _, a := range []approval.Actor{sam, sue} {
			if _, err := e.svc.Approve(ctx, opened[label], a, "confirmed idle"); err != nil {
				t.Fatalf("approve %s: %v", label, err)
			}
		}
		execute(label)(t, e, opened)
	}
}

func TestRunPolicies(t *testing.T) {
	k1, k2, nobody := key1(), key2(), orphan()
	tests := []struct {
		name   string
		policy string // "idle" or "departed"
		steps  []step
	}{
		{"new matches open stage 0 once", "idle", []step{
			{matches: []Target{k1, k2}, opened: []string{"0:AKIA…ABCD", "0:AKIA…WXYZ"}},
			{advance: day, matches: []Target{k1, k2}, skip: "is approved"},
			{act: execute("0:AKIA…WXYZ"), matches: []Target{k1, k2}, skip: "due at"},
		}},
		{"no answer in 7 days: disable is proposed", "idle", []step{
			{matches: []Target{k1}, opened: []string{"0:AKIA…WXYZ"}},
			{act: execute("0:AKIA…WXYZ"), advance: 6 * day, matches: []Target{k1}, skip: "stage 1 (disable_credential) due at"},
			{advance: day, matches: []Target{k1}, opened: []string{"1:AKIA…WXYZ"}},
			{advance: day, matches: []Target{k1}, skip: "is proposed"},
		}},
		{"target fixed: no advance", "idle", []step{
			{matches: []Target{k1}, opened: []string{"0:AKIA…WXYZ"}},
			{act: execute("0:AKIA…WXYZ"), advance: 8 * day, matches: nil},
		}},
		{"owner rejects: chain stops", "idle", []step{
			{matches: []Target{k1}, opened: []string{"0:AKIA…WXYZ"}},
			{act: execute("0:AKIA…WXYZ"), advance: 7 * day, matches: []Target{k1}, opened: []string{"1:AKIA…WXYZ"}},
			{act: func(t *testing.T, e *env, opened map[string]string) {
				if _, err := e.svc.Reject(context.Background(), opened["1:AKIA…WXYZ"], owner, "billing job still needs it"); err != nil {
					t.Fatal(err)
				}
			}, advance: 40 * day, matches: []Target{k1}, skip: "ended rejected: billing job still needs it"},
		}},
		{"full chain to delete with inherited approvers", "idle", []step{
			{matches: []Target{k1}, opened: []string{"0:AKIA…WXYZ"}},
			{act: execute("0:AKIA…WXYZ"), advance: 7 * day, matches: []Target{k1}, opened: []string{"1:AKIA…WXYZ"}},
			{act: approveAndExecute("1:AKIA…WXYZ"), advance: 29 * day, matches: []Target{k1}, skip: "stage 2 (delete) due at"},
			{advance: day, matches: []Target{k1}, opened: []string{"2:AKIA…WXYZ"}},
			{act: approveAndExecute("2:AKIA…WXYZ"), advance: 365 * day, matches: []Target{k1}, skip: "every stage done"},
		}},
		{"unanswered disable escalates, then expires and stops", "idle", []step{
			{matches: []Target{k1}, opened: []string{"0:AKIA…WXYZ"}},
			{act: execute("0:AKIA…WXYZ"), advance: 7 * day, matches: []Target{k1}, opened: []string{"1:AKIA…WXYZ"}},
			{advance: 3 * day, matches: []Target{k1}, skip: "is proposed"},
			{act: expire(approval.StateEscalated), advance: 3 * day, matches: []Target{k1}, skip: "is escalated"},
			{act: expire(approval.StateExpired), matches: []Target{k1}, skip: "ended expired"},
		}},
		{"targets without owner", "idle", []step{
			{matches: []Target{nobody}, skip: "no known owner"},
		}},
		{"owner-only stage without owner", "departed", []step{
			{matches: []Target{nobody}, skip: "no owner and the stage names no approver group"},
		}},
		{"restart_after reopens a stopped chain", "departed", []step{
			{matches: []Target{k1}, opened: []string{"0:AKIA…WXYZ"}},
			{act: func(t *testing.T, e *env, opened map[string]string) {
				if _, err := e.svc.Reject(context.Background(), opened["0:AKIA…WXYZ"], owner, "handing over to new team"); err != nil {
					t.Fatal(err)
				}
			}, advance: 89 * day, matches: []Target{k1}, skip: "ended rejected"},
			{advance: day, matches: []Target{k1}, opened: []string{"0:AKIA…WXYZ"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			idle, departed := loadTestPolicies(t)
			pol := idle
			if tt.policy == "departed" {
				pol = departed
			}
			f := &finder{matches: map[string][]Target{}}
			opened := map[string]string{} // label -> latest proposal id
			for i, st := range tt.steps {
				if st.act != nil {
					st.act(t, e, opened)
				}
				e.clock.Advance(st.advance)
				f.matches[string(pol.Plan)] = st.matches
				rep, err := RunPolicies(context.Background(), []*Policy{pol}, f, e.svc, e.clock.Now())
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				var got []string
				for _, o := range rep.Opened {
					label := strconv.Itoa(o.Stage) + ":" + nameOf(o.Target)
					got = append(got, label)
					opened[label] = o.ProposalID
					p, _ := e.svc.Get(context.Background(), o.ProposalID)
					if p.Actions[0].Type != pol.Stages[o.Stage].Action || p.Requester != "policy:"+pol.Name {
						t.Errorf("step %d: opened %+v", i, p)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, st.opened) {
					t.Errorf("step %d: opened %v, want %v (skipped %+v)", i, got, st.opened, rep.Skipped)
				}
				if st.skip != "" && !slices.ContainsFunc(rep.Skipped, func(s Skipped) bool { return strings.Contains(s.Reason, st.skip) }) {
					t.Errorf("step %d: no skip reason containing %q in %+v", i, st.skip, rep.Skipped)
				}
			}
			// A run that opened nothing wrote nothing: an empty log is what
			// it must leave (and Verify rightly refuses an empty log).
			if len(opened) == 0 {
				if fi, err := os.Stat(e.log.Path()); err != nil || fi.Size() != 0 {
					t.Errorf("audit log after runs that opened nothing: %v, %v", fi, err)
				}
			} else if _, err := audit.VerifyFile(e.log.Path()); err != nil {
				t.Errorf("audit log: %v", err)
			}
		})
	}
}

func expire(want approval.State) func(t *testing.T, e *env, opened map[string]string) {
	return func(t *testing.T, e *env, opened map[string]string) {
		t.Helper()
		ids, err := e.svc.Expire(context.Background())
		if err != nil || len(ids) != 1 {
			t.Fatalf("Expire = %v, %v", ids, err)
		}
		p, _ := e.svc.Get(context.Background(), ids[0])
		if p.State != want {
			t.Fatalf("after expiry: %s, want %s", p.State, want)
		}
	}
}

func nameOf(id string) string { return id[strings.LastIndex(id, "/")+1:] }

func TestStageProposalContent(t *testing.T) {
	e := newEnv(t)
	idle, _ := loadTestPolicies(t)
	f := &finder{matches: map[string][]Target{string(idle.Plan): {key1()}}}
	ctx := context.Background()
	rep, err := RunPolicies(ctx, []*Policy{idle}, f, e.svc, e.clock.Now())
	if err != nil || len(rep.Opened) != 1 {
		t.Fatalf("RunPolicies = %+v, %v", rep, err)
	}
	notify, _ := e.svc.Get(ctx, rep.Opened[0].ProposalID)
	if notify.State != approval.StateApproved || notify.Rule.Required != 0 {
		t.Errorf("notify stage: state %s rule %+v; want approved without approvers", notify.State, notify.Rule)
	}
	if _, err := e.svc.Execute(ctx, notify.ID, &notifier{}, sam); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(7 * day)
	rep, err = RunPolicies(ctx, []*Policy{idle}, f, e.svc, e.clock.Now())
	if err != nil || len(rep.Opened) != 1 {
		t.Fatalf("RunPolicies = %+v, %v", rep, err)
	}
	p, _ := e.svc.Get(ctx, rep.Opened[0].ProposalID)
	want := approval.Rule{Required: 2, Owners: []string{"owner@example.com"}, Group: "secops", EscalateTo: "security-leads", EscalationTTL: 3 * day}
	if !slices.Equal(p.Rule.Owners, want.Owners) || p.Rule.Required != 2 || p.Rule.Group != want.Group || p.Rule.EscalateTo != want.EscalateTo || p.Rule.EscalationTTL != want.EscalationTTL {
		t.Errorf("rule = %+v, want %+v", p.Rule, want)
	}
	if !p.ExpiresAt.Equal(e.clock.Now().Add(3*day)) || p.OnExpiry != approval.ExpiryEscalate {
		t.Errorf("expiry %s %s", p.ExpiresAt, p.OnExpiry)
	}
	if p.Actions[0].Params["status"] != "active" {
		t.Errorf("expected state not passed to the action: %v", p.Actions[0].Params)
	}
	if !strings.Contains(p.Justification, "stage 2 of 3: disable_credential") || !strings.Contains(p.Justification, "115 days idle") {
		t.Errorf("justification %q", p.Justification)
	}
	doc, err := FromApproval(p)
	if err != nil || len(doc.Targets) != 1 || string(doc.Plan) != string(idle.Plan) {
		t.Errorf("document = %+v, %v", doc, err)
	}
}

// staleLister hides existing proposals, as a replica with an old view
// would; the store's key then stops the duplicate.
type staleLister struct{ *approval.Service }

func (staleLister) List(context.Context, approval.Filter) ([]*approval.Proposal, error) {
	return nil, nil
}

func TestRunPoliciesRaceAndErrors(t *testing.T) {
	idle, departed := loadTestPolicies(t)
	t.Run("another replica opened it", func(t *testing.T) {
		e := newEnv(t)
		f := &finder{matches: map[string][]Target{string(departed.Plan): {key1()}}}
		if _, err := RunPolicies(context.Background(), []*Policy{departed}, f, e.svc, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		rep, err := RunPolicies(context.Background(), []*Policy{departed}, f, staleLister{e.svc}, e.clock.Now())
		if err != nil || len(rep.Opened) != 0 || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "another run") {
			t.Fatalf("stale run = %+v, %v", rep, err)
		}
	})
	t.Run("a failing finder does not stop other policies", func(t *testing.T) {
		e := newEnv(t)
		f := &finder{
			matches: map[string][]Target{string(departed.Plan): {key1()}},
			err:     map[string]error{string(idle.Plan): errors.New("graph not loaded")},
		}
		rep, err := RunPolicies(context.Background(), []*Policy{idle, departed}, f, e.svc, e.clock.Now())
		if err == nil || !strings.Contains(err.Error(), "policy idle-admin-keys") || !strings.Contains(err.Error(), "graph not loaded") {
			t.Fatalf("error = %v", err)
		}
		if len(rep.Opened) != 1 || rep.Opened[0].Policy != "departed-owner" {
			t.Fatalf("opened = %+v", rep.Opened)
		}
	})
}
