package ldap

import (
	"context"
	"errors"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

var (
	svcWeb    = id("cn=svc-web,ou=service accounts,dc=example,dc=com")
	svcSQL    = id("cn=svc-sql,ou=service accounts,dc=example,dc=com")
	webOps    = id("cn=web operators,ou=groups,dc=example,dc=com")
	sqlAdmins = id("cn=sql admins,ou=groups,dc=example,dc=com")
)

// actuatorFor builds the actuator through the registry, the way the
// service does: a reader configuration plus the actuator's own account.
func actuatorFor(t *testing.T, d *directory) connectors.Actuator {
	t.Helper()
	r := newReader(t, d.readerOpts(connectors.Options{
		"actuator-bind-dn": actuatorDN, "actuator-password-file": d.actuatorPW}))
	a, ok := r.(connectors.Actuator)
	if !ok {
		t.Fatal("reader with actuator credentials does not implement connectors.Actuator")
	}
	return a
}

func TestPlan(t *testing.T) {
	a, err := NewActuator(ActuatorConfig{URL: "ldaps://dc1.example.com", BaseDN: "dc=example,dc=com",
		BindDN: actuatorDN, PasswordFile: "/unused"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		action   connectors.Action
		wantCall string
		wantUndo map[string]string
		wantErr  string
		wantIs   error
	}{
		{
			name:   "disable",
			action: connectors.Action{Type: ActionDeactivate, Target: svcSQL, Params: map[string]string{"user_account_control": "66048"}},
			wantCall: "dn: cn=svc-sql,ou=service accounts,dc=example,dc=com\nchangetype: modify\n" +
				"delete: userAccountControl\nuserAccountControl: 66048\n-\nadd: userAccountControl\nuserAccountControl: 66050\n-\n",
			wantUndo: map[string]string{"dn": "cn=svc-sql,ou=service accounts,dc=example,dc=com",
				"user_account_control_before": "66048", "user_account_control_after": "66050"},
		},
		{
			name:   "remove membership",
			action: connectors.Action{Type: ActionRemoveMembership, Target: svcSQL, Params: map[string]string{"group": sqlAdmins}},
			wantCall: "dn: cn=sql admins,ou=groups,dc=example,dc=com\nchangetype: modify\n" +
				"delete: member\nmember: cn=svc-sql,ou=service accounts,dc=example,dc=com\n-\n",
			wantUndo: map[string]string{"group_dn": "cn=sql admins,ou=groups,dc=example,dc=com",
				"member_dn": "cn=svc-sql,ou=service accounts,dc=example,dc=com"},
		},
		{name: "disable without approved state",
			action:  connectors.Action{Type: ActionDeactivate, Target: svcSQL},
			wantErr: `param "user_account_control"`},
		{name: "disable an account approved as already disabled",
			action:  connectors.Action{Type: ActionDeactivate, Target: svcSQL, Params: map[string]string{"user_account_control": "514"}},
			wantErr: "already disabled"},
		{
			name:   "disable with the AD attribute name and a status snapshot",
			action: connectors.Action{Type: ActionDeactivate, Target: svcSQL, Params: map[string]string{"userAccountControl": "512", "status": "active"}},
			wantCall: "dn: cn=svc-sql,ou=service accounts,dc=example,dc=com\nchangetype: modify\n" +
				"delete: userAccountControl\nuserAccountControl: 512\n-\nadd: userAccountControl\nuserAccountControl: 514\n-\n",
			wantUndo: map[string]string{"dn": "cn=svc-sql,ou=service accounts,dc=example,dc=com",
				"user_account_control_before": "512", "user_account_control_after": "514"},
		},
		{name: "snapshot params that disagree",
			action:  connectors.Action{Type: ActionDeactivate, Target: svcSQL, Params: map[string]string{"userAccountControl": "512", "user_account_control": "66048"}},
			wantErr: "disagree"},
		{name: "snapshot that contradicts itself",
			action:  connectors.Action{Type: ActionRemoveMembership, Target: svcSQL, Params: map[string]string{"group": sqlAdmins, "user_account_control": "514", "status": "active"}},
			wantErr: "contradict"},
		{name: "disable approved as disabled",
			action:  connectors.Action{Type: ActionDeactivate, Target: svcSQL, Params: map[string]string{"user_account_control": "512", "status": "disabled"}},
			wantErr: "contradict"},
		{name: "unknown status",
			action:  connectors.Action{Type: ActionRemoveMembership, Target: svcSQL, Params: map[string]string{"group": sqlAdmins, "status": "gone"}},
			wantErr: `param "status"`},
		{name: "membership without group",
			action:  connectors.Action{Type: ActionRemoveMembership, Target: svcSQL},
			wantErr: `param "group"`},
		{name: "target of another source",
			action:  connectors.Action{Type: ActionDeactivate, Target: "ldap:other.org:cn=x,dc=other,dc=org", Params: map[string]string{"user_account_control": "512"}},
			wantErr: `not in source "ldap:example.com"`},
		{name: "unsupported action",
			action:  connectors.Action{Type: "rotate_credential", Target: svcSQL},
			wantIs:  connectors.ErrUnsupported,
			wantErr: "rotate_credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps, err := a.Plan(context.Background(), tt.action)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Fatalf("err = %v, want errors.Is %v", err, tt.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) != 1 || steps[0].Call != tt.wantCall {
				t.Fatalf("plan = %q\nwant %q", steps, tt.wantCall)
			}
			if !sameUndo(steps[0].Undo, tt.wantUndo) {
				t.Fatalf("undo = %v, want %v", steps[0].Undo, tt.wantUndo)
			}
		})
	}
}

func TestActuatorLive(t *testing.T) {
	d := startDirectory(t)
	a := actuatorFor(t, d)
	ctx := context.Background()

	t.Run("disable, then roll back", func(t *testing.T) {
		act := connectors.Action{Type: ActionDeactivate, Target: svcWeb,
			Params: map[string]string{ParamUserAccountControl: liveNode(t, d, svcWeb).Attrs[AttrUserAccountControl]}}
		plan, err := a.Plan(ctx, act)
		if err != nil {
			t.Fatal(err)
		}
		step, err := a.Execute(ctx, act)
		if err != nil {
			t.Fatalf("execute: %v", err)
		}
		if step.Call != plan[0].Call {
			t.Errorf("executed %q, planned %q", step.Call, plan[0].Call)
		}
		n := liveNode(t, d, svcWeb)
		if n.Status != graph.StatusDisabled || n.Attrs[AttrUserAccountControl] != "514" {
			t.Fatalf("after execute: status %s uac %s, want disabled 514", n.Status, n.Attrs[AttrUserAccountControl])
		}
		if _, err := a.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("second execute = %v, want ErrTargetChanged (a retried action must not act twice)", err)
		}
		if err := a.Rollback(ctx, act, step); err != nil {
			t.Fatalf("rollback: %v", err)
		}
		n = liveNode(t, d, svcWeb)
		if n.Status != graph.StatusActive || n.Attrs[AttrUserAccountControl] != "512" {
			t.Fatalf("after rollback: status %s uac %s, want active 512", n.Status, n.Attrs[AttrUserAccountControl])
		}
		if err := a.Rollback(ctx, act, step); err != nil {
			t.Fatalf("second rollback should be a no-op: %v", err)
		}
	})

	t.Run("refuses when userAccountControl changed since approval", func(t *testing.T) {
		act := connectors.Action{Type: ActionDeactivate, Target: svcWeb, Params: map[string]string{ParamUserAccountControl: "512"}}
		d.Seed(t, "dn: cn=svc-web,ou=service accounts,dc=example,dc=com\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 66048\n-\n")
		_, err := a.Execute(ctx, act)
		if !errors.Is(err, connectors.ErrTargetChanged) || !strings.Contains(err.Error(), "66048") {
			t.Fatalf("execute = %v, want ErrTargetChanged naming 66048", err)
		}
		if n := liveNode(t, d, svcWeb); n.Attrs[AttrUserAccountControl] != "66048" || n.Status != graph.StatusActive {
			t.Fatalf("refused action changed the entry: %v %s", n.Attrs[AttrUserAccountControl], n.Status)
		}
	})

	t.Run("rollback refuses when the account changed after the action", func(t *testing.T) {
		act := connectors.Action{Type: ActionDeactivate, Target: svcWeb, Params: map[string]string{ParamUserAccountControl: "66048"}}
		step, err := a.Execute(ctx, act)
		if err != nil {
			t.Fatal(err)
		}
		d.Seed(t, "dn: cn=svc-web,ou=service accounts,dc=example,dc=com\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 66082\n-\n")
		if err := a.Rollback(ctx, act, step); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("rollback = %v, want ErrTargetChanged", err)
		}
		if got := liveNode(t, d, svcWeb).Attrs[AttrUserAccountControl]; got != "66082" {
			t.Fatalf("refused rollback changed the entry to %s", got)
		}
	})

	t.Run("remove membership, then roll back", func(t *testing.T) {
		act := connectors.Action{Type: ActionRemoveMembership, Target: svcSQL, Params: map[string]string{ParamGroup: sqlAdmins}}
		if !adminClosure(readLive(t, d))[svcSQL] {
			t.Fatal("fixture: svc-sql should start as a transitive admin")
		}
		step, err := a.Execute(ctx, act)
		if err != nil {
			t.Fatalf("execute: %v", err)
		}
		sg := readLive(t, d)
		if adminClosure(sg)[svcSQL] {
			t.Fatal("svc-sql is still an admin after its membership was removed")
		}
		if _, err := a.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("second execute = %v, want ErrTargetChanged", err)
		}
		if err := a.Rollback(ctx, act, step); err != nil {
			t.Fatalf("rollback: %v", err)
		}
		if !adminClosure(readLive(t, d))[svcSQL] {
			t.Fatal("rollback did not restore the membership")
		}
		if err := a.Rollback(ctx, act, step); err != nil {
			t.Fatalf("second rollback should be a no-op: %v", err)
		}
	})

	t.Run("refuses to remove a membership that is not there", func(t *testing.T) {
		act := connectors.Action{Type: ActionRemoveMembership, Target: svcWeb, Params: map[string]string{ParamGroup: sqlAdmins}}
		if _, err := a.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("execute = %v, want ErrTargetChanged", err)
		}
	})

	t.Run("membership removal refuses when the member's approved state changed", func(t *testing.T) {
		// svc-web was left at 66082 (disabled) by the previous subtest
		act := connectors.Action{Type: ActionRemoveMembership, Target: svcWeb,
			Params: map[string]string{ParamGroup: webOps, ParamStatus: graph.StatusActive}}
		if _, err := a.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) || !strings.Contains(err.Error(), "disabled") {
			t.Fatalf("execute = %v, want ErrTargetChanged naming the disabled status", err)
		}
		if len(connectortest.Edges([]*graph.Subgraph{readLive(t, d)}, graph.EdgeMemberOf, svcWeb, webOps)) != 1 {
			t.Fatal("the refused removal removed the membership")
		}
	})

	t.Run("refuses a deleted account", func(t *testing.T) {
		d.Seed(t, "dn: cn=msa-print,ou=service accounts,dc=example,dc=com\nchangetype: delete\n")
		act := connectors.Action{Type: ActionDeactivate, Target: id("cn=msa-print,ou=service accounts,dc=example,dc=com"),
			Params: map[string]string{ParamUserAccountControl: "4096"}}
		if _, err := a.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("execute = %v, want ErrTargetChanged", err)
		}
	})

	t.Run("rollback rejects undo data of another step", func(t *testing.T) {
		act := connectors.Action{Type: ActionRemoveMembership, Target: svcWeb, Params: map[string]string{ParamGroup: webOps}}
		forged := connectors.Step{Undo: map[string]string{UndoGroupDN: "cn=domain admins,ou=groups,dc=example,dc=com",
			UndoMemberDN: "cn=svc-web,ou=service accounts,dc=example,dc=com"}}
		if err := a.Rollback(ctx, act, forged); err == nil || !strings.Contains(err.Error(), "does not belong") {
			t.Fatalf("rollback = %v, want refusal", err)
		}
	})

	t.Run("the reader's account cannot write", func(t *testing.T) {
		// the separation the actuator options exist for, checked on the server
		ro, err := NewActuator(ActuatorConfig{URL: d.URL, BaseDN: "dc=example,dc=com", BindDN: readerDN, PasswordFile: d.readerPW})
		if err != nil {
			t.Fatal(err)
		}
		act := connectors.Action{Type: ActionRemoveMembership, Target: id("cn=gmsa-app,ou=service accounts,dc=example,dc=com"),
			Params: map[string]string{ParamGroup: webOps}}
		_, err = ro.Execute(ctx, act)
		var le *goldap.Error
		if !errors.As(err, &le) || le.ResultCode != goldap.LDAPResultInsufficientAccessRights {
			t.Fatalf("execute as reader = %v, want insufficient access", err)
		}
	})
}

func readLive(t *testing.T, d *directory) *graph.Subgraph {
	t.Helper()
	sgs, err := newReader(t, d.readerOpts(nil)).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sgs[0]
}
