package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors/ldap"
	"github.com/steward-oss/steward/connectors/postgres"
	"github.com/steward-oss/steward/remediation"
	"github.com/steward-oss/steward/tools"
)

const (
	backupAgent = "aws:111111111111:user/backup-agent"
	ciDeployer  = "aws:111111111111:user/ci-deployer"
	ciKey       = "aws:111111111111:access-key/ci-deployer/AKIA…WXYZ"
	pgETL       = "postgres:orders:role/etl"
	svcWeb      = "ldap:corp.example.com:cn=svc-web,ou=services,dc=corp,dc=example,dc=com"
	webAdmins   = "ldap:corp.example.com:cn=web-admins,ou=groups,dc=corp,dc=example,dc=com"
)

// TestProposerThroughTool drives the agent's real propose_remediation
// tool with the Proposer behind it, as `steward serve` wires them, and
// checks the stored proposal: targets, expected state, approval rule.
func TestProposerThroughTool(t *testing.T) {
	tests := []struct {
		name     string
		group    string
		actor    string
		args     string
		state    approval.State
		required int
		owners   []string
		eligible []string
		params   map[string]string // of the first action
		why      []string          // lines of the first target's Why
		plan     string            // substring of the stored plan
		err      string
	}{
		{
			name: "owned read-only identity: owner or group, one approval", group: "secops", actor: "api:analyst",
			args:  `{"ids":["` + backupAgent + `"],"action":"deactivate_identity","justification":"replaced by the new backup job"}`,
			state: approval.StateProposed, required: 1, owners: []string{"alice@example.com"},
			eligible: []string{"alice@example.com", "sam@example.com", "sue@example.com"},
			params:   map[string]string{"status": "active"},
			why: []string{"read privilege via S3Read attached to backup-agent, S3Read grants s3:Get* on arn:aws:s3:::backups/* (read)",
				"owned by alice@example.com", "last used 2026-10-30, 2 days before 2026-11-01"},
			plan: `"ids":["` + backupAgent + `"]`,
		},
		{
			name: "admin through a group needs two; the departed owner is not asked", group: "secops", actor: "api:analyst",
			args:  `{"ids":["` + ciDeployer + `"],"action":"deactivate_identity","justification":"admin key owner left the company"}`,
			state: approval.StateProposed, required: 2, owners: []string{"alice@example.com"},
			eligible: []string{"alice@example.com", "sam@example.com", "sue@example.com"},
			why: []string{"admin privilege via member of admins, AdministratorAccess attached to admins, AdministratorAccess grants * on * (admin)",
				"owned by alice@example.com (departed: bob@example.com)"},
		},
		{
			name: "a credential is admin through its holder; selected by a plan", group: "secops", actor: "api:analyst",
			args:  `{"plan":{"version":1,"kinds":["credential"],"filters":[{"field":"privilege","op":"eq","value":"admin"}]},"action":"disable_credential","justification":"admin access key unused for 90 days"}`,
			state: approval.StateProposed, required: 2, owners: []string{"alice@example.com"},
			eligible: []string{"alice@example.com", "sam@example.com", "sue@example.com"},
			// The AWS actuator re-checks the key's status and fingerprint.
			params: map[string]string{"status": "active", "fingerprint": "f00dfeed"},
			why: []string{"admin privilege via credential of ci-deployer, member of admins, AdministratorAccess attached to admins, AdministratorAccess grants * on * (admin)",
				"owned by alice@example.com (departed: bob@example.com)", "last used 2026-08-01, 92 days before 2026-11-01"},
			plan: `"kinds":["credential"]`,
		},
		{
			name: "postgres superuser login role carries the approved can_login", group: "secops", actor: "api:analyst",
			args:  `{"ids":["` + pgETL + `"],"action":"deactivate_identity","justification":"superuser login nobody uses"}`,
			state: approval.StateProposed, required: 2, owners: []string{"alice@example.com"},
			eligible: []string{"alice@example.com", "sam@example.com", "sue@example.com"},
			params:   map[string]string{postgres.ParamCanLogin: "true"},
			why:      []string{"admin privilege via etl grants * on * (admin)", "no recorded use"},
		},
		{
			name: "ldap account of a departed owner: the group decides", group: "secops", actor: "api:analyst",
			args:  `{"ids":["` + svcWeb + `"],"action":"remove_membership","params":{"group":"` + webAdmins + `"},"justification":"service no longer administers the web farm"}`,
			state: approval.StateProposed, required: 1, eligible: []string{"sam@example.com", "sue@example.com"},
			params: map[string]string{ldap.ParamGroup: webAdmins, ldap.ParamUserAccountControl: "66048", ldap.ParamStatus: "active"},
			why:    []string{"every owner has departed: bob@example.com", "no recorded use since it was created on 2022-03-01"},
		},
		{
			name: "the requester is never among the approvers", group: "secops", actor: "alice@example.com",
			args:  `{"ids":["` + backupAgent + `"],"action":"deactivate_identity","justification":"replaced by the new backup job"}`,
			state: approval.StateProposed, required: 1, owners: []string{"alice@example.com"},
			eligible: []string{"sam@example.com", "sue@example.com"},
		},
		{
			name: "notify_owner is recorded approved, without approvers", group: "secops", actor: "api:analyst",
			args:  `{"ids":["` + backupAgent + `"],"action":"notify_owner","justification":"please confirm this is still needed"}`,
			state: approval.StateApproved, required: 0,
		},
		{
			name: "no group and no active owner: nobody may approve", actor: "api:analyst",
			args: `{"ids":["` + svcWeb + `"],"action":"deactivate_identity","justification":"orphaned service account"}`,
			err:  "no active owner and no approver group is configured",
		},
		{
			name: "no group, an admin target and one owner: two approvals cannot be had", actor: "api:analyst",
			args: `{"ids":["` + ciDeployer + `"],"action":"deactivate_identity","justification":"admin key owner left the company"}`,
			err:  "rule needs 2 approvers but only 1 eligible",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			tenv := &tools.Env{Index: e.graph.Index(), Now: t0, Proposer: e.proposer(t, tt.group), Actor: tt.actor}
			out, err := tools.Default().Call(ctx, tenv, "propose_remediation", json.RawMessage(tt.args))
			if tt.err != "" {
				var te *tools.Error
				if !errors.As(err, &te) || te.Code != tools.CodeInvalidArgs || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want invalid_args containing %q", err, tt.err)
				}
				if ps, _ := e.svc.List(ctx, approval.Filter{}); len(ps) != 0 {
					t.Fatalf("a refused request stored %d proposals", len(ps))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec := out.Proposal.(tools.Proposal)
			p, err := e.svc.Get(ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.State != tt.state || rec.State != string(tt.state) {
				t.Errorf("state %s (receipt %s), want %s", p.State, rec.State, tt.state)
			}
			if p.Requester != tt.actor {
				t.Errorf("requester %q, want %q", p.Requester, tt.actor)
			}
			if p.Rule.Required != tt.required || !slices.Equal(p.Rule.Owners, tt.owners) {
				t.Errorf("rule %+v, want required %d owners %v", p.Rule, tt.required, tt.owners)
			}
			if tt.required > 0 {
				if p.Rule.Group != tt.group || !p.ExpiresAt.Equal(t0.Add(3*day)) || p.OnExpiry != approval.ExpiryCancel {
					t.Errorf("group %q expires %s on_expiry %s", p.Rule.Group, p.ExpiresAt, p.OnExpiry)
				}
				if !slices.Equal(rec.Approvers, tt.eligible) {
					t.Errorf("approvers %v, want %v", rec.Approvers, tt.eligible)
				}
			}
			if tt.params != nil && !maps.Equal(p.Actions[0].Params, tt.params) {
				t.Errorf("params %v, want %v", p.Actions[0].Params, tt.params)
			}
			doc, err := remediation.FromApproval(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.why {
				if !slices.Contains(doc.Targets[0].Why, w) {
					t.Errorf("why %q lacks the line %q", doc.Targets[0].Why, w)
				}
			}
			if !strings.Contains(string(doc.Plan), tt.plan) {
				t.Errorf("plan %s lacks %s", doc.Plan, tt.plan)
			}
			var proposed bool
			for _, r := range e.records(t) {
				proposed = proposed || (r.Action == audit.ActionProposal && r.Actor == tt.actor && strings.Contains(r.Details["proposal"]+r.Target, p.Targets()[0]))
			}
			if !proposed {
				t.Errorf("no proposal audit record by %s", tt.actor)
			}
		})
	}
}

// TestProposerDirect covers requests the tool never sends but the
// Proposer must still judge.
func TestProposerDirect(t *testing.T) {
	tests := []struct {
		name     string
		req      tools.ProposalRequest
		required int
		field    string
	}{
		// No evidence: the target was named by id, not found by a query.
		{"delete needs two approvals", tools.ProposalRequest{Requester: "api:analyst", Action: remediation.ActionDelete,
			Justification: "decommissioned", Targets: []tools.Target{{ID: backupAgent}}, At: t0}, 2, ""},
		{"a target gone from the graph", tools.ProposalRequest{Requester: "api:analyst", Action: remediation.ActionDeactivateIdentity,
			Justification: "decommissioned", Targets: []tools.Target{{ID: "aws:111111111111:user/deleted"}}, At: t0}, 0, "targets[0]"},
		{"an unknown action", tools.ProposalRequest{Requester: "api:analyst", Action: "wipe",
			Justification: "decommissioned", Targets: []tools.Target{{ID: backupAgent}}, At: t0}, 0, "action"},
		{"no requester", tools.ProposalRequest{Action: remediation.ActionDeactivateIdentity,
			Justification: "decommissioned", Targets: []tools.Target{{ID: backupAgent}}, At: t0}, 0, "requester"},
		{"params contradicting the approved state", tools.ProposalRequest{Requester: "api:analyst", Action: remediation.ActionDeactivateIdentity,
			Params: map[string]string{"status": "disabled"}, Justification: "decommissioned", Targets: []tools.Target{{ID: backupAgent}}, At: t0}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rec, err := e.proposer(t, "secops").Propose(context.Background(), tt.req)
			if tt.required == 0 {
				var te *tools.Error
				if !errors.As(err, &te) || te.Code != tools.CodeInvalidArgs || te.Field != tt.field {
					t.Fatalf("err = %#v, want invalid_args on field %q", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p, _ := e.svc.Get(context.Background(), rec.ID)
			if p.Rule.Required != tt.required {
				t.Errorf("required %d, want %d", p.Rule.Required, tt.required)
			}
			doc, err := remediation.FromApproval(p)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"read privilege via S3Read attached to backup-agent, S3Read grants s3:Get* on arn:aws:s3:::backups/* (read)",
				"owned by alice@example.com", "last used 2026-10-30, 2 days before 2026-11-01"}
			if !slices.Equal(doc.Targets[0].Why, want) {
				t.Errorf("why %q, want the index's evidence %q", doc.Targets[0].Why, want)
			}
		})
	}
}
