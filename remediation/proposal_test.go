package remediation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
)

func sampleProposal() *Proposal {
	return &Proposal{
		Plan:    json.RawMessage(`{"version":1,"kinds":["credential"],"filters":[{"field":"idle_days","op":"gte","value":90}]}`),
		Targets: []Target{key1(), key2()},
		Actions: []connectors.Action{
			{Type: ActionDisableCredential, Target: key1().ID},
			{Type: ActionDisableCredential, Target: key2().ID, Params: map[string]string{"note": "ticket SEC-12"}},
		},
		Justification: "idle admin keys",
		Approvers:     Approvers{Required: 2, Group: "secops"},
		ExpiresAt:     t0.Add(72 * time.Hour),
		OnExpiry:      approval.ExpiryCancel,
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *Proposal)
		field  string
	}{
		{"plan not JSON", func(p *Proposal) { p.Plan = json.RawMessage(`{version`) }, "plan"},
		{"no plan", func(p *Proposal) { p.Plan = nil }, "plan"},
		{"no justification", func(p *Proposal) { p.Justification = "" }, "justification"},
		{"no targets", func(p *Proposal) { p.Targets = nil }, "targets"},
		{"target without id", func(p *Proposal) { p.Targets[1].ID = "" }, "targets[1].id"},
		{"target bad kind", func(p *Proposal) { p.Targets[0].Kind = "key" }, "targets[0].kind"},
		{"duplicate target", func(p *Proposal) { p.Targets[1] = key1() }, "targets[1].id"},
		{"no actions", func(p *Proposal) { p.Actions = nil }, "actions"},
		{"unknown action", func(p *Proposal) { p.Actions[1].Type = "nuke" }, "actions[1].type"},
		{"action on unselected node", func(p *Proposal) { p.Actions[0].Target = "aws:1:user/x" }, "actions[0].target"},
		{"params contradict expect", func(p *Proposal) { p.Actions[0].Params = map[string]string{"status": "disabled"} }, "actions[0].params.status"},
		{"negative approvers", func(p *Proposal) { p.Approvers.Required = -1 }, "approvers.required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sampleProposal()
			tt.mutate(p)
			err := p.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.field+":") {
				t.Fatalf("Validate = %v; want ErrInvalid naming %s", err, tt.field)
			}
		})
	}
	if err := sampleProposal().Validate(); err != nil {
		t.Fatalf("valid proposal: %v", err)
	}
}

func TestToApproval(t *testing.T) {
	p := sampleProposal()
	ap, err := p.ToApproval()
	if err != nil {
		t.Fatal(err)
	}
	if got := ap.Actions[1].Params; got["status"] != "active" || got["note"] != "ticket SEC-12" {
		t.Errorf("params = %v; want expect merged with stage params", got)
	}
	if p.Actions[0].Params != nil {
		t.Errorf("ToApproval mutated the proposal's actions")
	}
	if strings.Join(ap.Rule.Owners, ",") != "owner@example.com,dev@example.com" || ap.Rule.Group != "secops" || ap.Rule.Required != 2 {
		t.Errorf("rule = %+v", ap.Rule)
	}
	if ap.Key != "" {
		t.Errorf("ad-hoc proposal got key %q", ap.Key)
	}
	no := false
	p.Approvers.Owner = &no
	ap, _ = p.ToApproval()
	if len(ap.Rule.Owners) != 0 {
		t.Errorf("owner: false still lists owners %v", ap.Rule.Owners)
	}
}

func TestSubmitAndDecode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	by := approval.Actor{ID: "analyst@example.com", Where: audit.WhereSlack}
	ap, err := Submit(ctx, e.svc, sampleProposal(), by)
	if err != nil {
		t.Fatal(err)
	}
	if ap.State != approval.StateProposed || ap.Requester != by.ID {
		t.Fatalf("submitted = %s by %s", ap.State, ap.Requester)
	}
	got, err := FromApproval(ap)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Targets) != 2 || got.Targets[0].Why[0] != "admin via group Admins (AdministratorAccess)" || got.Requester != by.ID {
		t.Errorf("decoded document = %+v", got)
	}
	if string(got.Plan) != string(sampleProposal().Plan) {
		t.Errorf("plan %s changed in the document", got.Plan)
	}
	// The owner of a target may approve alongside secops.
	if _, err := e.svc.Approve(ctx, ap.ID, approval.Actor{ID: "owner@example.com", Where: audit.WhereSlack}, "retire it"); err != nil {
		t.Fatalf("owner approval: %v", err)
	}
	bad := sampleProposal()
	bad.Actions[0].Type = "nuke"
	if _, err := Submit(ctx, e.svc, bad, by); !errors.Is(err, ErrInvalid) {
		t.Errorf("Submit of invalid proposal = %v", err)
	}
}

// fakePlanner describes calls like an actuator's Plan, failing for one
// target.
type fakePlanner struct{ fail string }

func (f fakePlanner) Plan(_ context.Context, a connectors.Action) ([]connectors.Step, error) {
	if a.Target == f.fail {
		return nil, connectors.ErrTargetChanged
	}
	return []connectors.Step{
		{Call: fmt.Sprintf("iam:GetAccessKeyLastUsed %s (expect status=%s)", a.Target, a.Params["status"])},
		{Call: "iam:UpdateAccessKey " + a.Target + " Status=Inactive", Undo: map[string]string{"status": "Active"}},
	}, nil
}

func TestPreview(t *testing.T) {
	tests := []struct {
		name    string
		fail    string
		wantErr bool
	}{
		{"all plannable", "", false},
		{"one target changed", key2().ID, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := Preview(context.Background(), sampleProposal(), fakePlanner{fail: tt.fail})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Preview error = %v", err)
			}
			if len(items) != 2 {
				t.Fatalf("%d items, want one per action", len(items))
			}
			if items[0].Steps[0].Call != "iam:GetAccessKeyLastUsed "+key1().ID+" (expect status=active)" {
				t.Errorf("first call %q: expected state not passed to the planner", items[0].Steps[0].Call)
			}
			if tt.wantErr {
				if items[1].Error == "" || !errors.Is(err, connectors.ErrTargetChanged) || !strings.Contains(err.Error(), "actions[1]") {
					t.Errorf("failure not reported per action: %v / %+v", err, items[1])
				}
			}
		})
	}
}
