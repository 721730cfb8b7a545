package ldap

import (
	"context"
	"errors"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/actuatortest"
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
	actuatortest.Plans(t, actuatortest.Suite{Actuator: a}, []actuatortest.PlanCase{
		{
			Name:   "disable",
			Action: connectors.Action{Type: ActionDeactivate, Target: svcSQL, Params: map[string]string{"user_account_control": "66048"}},
			Call: "dn: cn=svc-sql,ou=service accounts,dc=example,dc=com\nchangetype: modify\n" +
				"delete: userAccountControl\nuserAccountControl: 66048\n-\nadd: userAccountControl\nuserAccountControl: 66050\n-\n",
			Undo: map[string]string{"dn": "cn=svc-sql,ou=service accounts,dc=example,dc=com",
				"user_account_control_before": "66048", "user_account_control_after": "66050"},
		},
		{
			Name:   "remove membership",
			Action: connectors.Action{Type: ActionRemoveMembership, Target: svcSQL, Params: map[string]string{"group": sqlAdmins}},
			Call: "dn: cn=sql admins,ou=groups,dc=example,dc=com\nchangetype: modify\n" +
				"delete: member\nmember: cn=svc-sql,ou=service accounts,dc=example,dc=com\n-\n",
			Undo: map[string]string{"group_dn": "cn=sql admins,ou=groups,dc=example,dc=com",
				"member_dn": "cn=svc-sql,ou=service accounts,dc=example,dc=com"},
		},
		{Name: "disable without approved state",
			Action: connectors.Action{Type: ActionDeactivate, Target: svcSQL},
			Err:    `param "user_account_control"`},
		{Name: "disable an account approved as already disabled",
			Action: connectors.Action{Type: ActionDeactivate, Target: svcSQL, Params: map[string]string{"user_account_control": "514"}},
			Err:    "already disabled"},
		{
			Name:   "disable with the AD attribute name and a status snapshot",
			Action: connectors.Action{Type: ActionDeactivate, Target: svcSQL, Params: map[string]string{"userAccountControl": "512", "status": "active"}},
			Call: "dn: cn=svc-sql,ou=service accounts,dc=example,dc=com\nchangetype: modify\n" +
				"delete: userAccountControl\nuserAccountControl: 512\n-\nadd: userAccountControl\nuserAccountControl: 514\n-\n",
			Undo: map[string]string{"dn": "cn=svc-sql,ou=service accounts,dc=example,dc=com",
				"user_account_control_before": "512", "user_account_control_after": "514"},
		},
		{Name: "snapshot params that disagree",
			Action: connectors.Action{Type: ActionDeactivate, Target: svcSQL, Params: map[string]string{"userAccountControl": "512", "user_account_control": "66048"}},
			Err:    "disagree"},
		{Name: "snapshot that contradicts itself",
			Action: connectors.Action{Type: ActionRemoveMembership, Target: svcSQL, Params: map[string]string{"group": sqlAdmins, "user_account_control": "514", "status": "active"}},
			Err:    "contradict"},
		{Name: "disable approved as disabled",
			Action: connectors.Action{Type: ActionDeactivate, Target: svcSQL, Params: map[string]string{"user_account_control": "512", "status": "disabled"}},
			Err:    "contradict"},
		{Name: "unknown status",
			Action: connectors.Action{Type: ActionRemoveMembership, Target: svcSQL, Params: map[string]string{"group": sqlAdmins, "status": "gone"}},
			Err:    `param "status"`},
		{Name: "membership without group",
			Action: connectors.Action{Type: ActionRemoveMembership, Target: svcSQL},
			Err:    `param "group"`},
		{Name: "target of another source",
			Action: connectors.Action{Type: ActionDeactivate, Target: "ldap:other.org:cn=x,dc=other,dc=org", Params: map[string]string{"user_account_control": "512"}},
			Err:    `not in source "ldap:example.com"`},
		{Name: "unsupported action",
			Action: connectors.Action{Type: "rotate_credential", Target: svcSQL},
			Is:     connectors.ErrUnsupported,
			Err:    "rotate_credential"},
	})
}

func TestActuatorLive(t *testing.T) {
	d := startDirectory(t)
	a := actuatorFor(t, d)
	ctx := context.Background()

	suite := actuatortest.Suite{Actuator: a, Secrets: []string{"actuator-test-password", "reader-test-password"}}
	t.Run("disable, then roll back", func(t *testing.T) {
		act := connectors.Action{Type: ActionDeactivate, Target: svcWeb,
			Params: map[string]string{ParamUserAccountControl: liveNode(t, d, svcWeb).Attrs[AttrUserAccountControl]}}
		res := actuatortest.Lifecycle(t, suite, actuatortest.Case{Action: act,
			Applied: func(testing.TB) bool { return liveNode(t, d, svcWeb).Status == graph.StatusDisabled },
			Executed: func(_ testing.TB, _ connectors.Step, _ []string) {
				if n := liveNode(t, d, svcWeb); n.Attrs[AttrUserAccountControl] != "514" {
					t.Fatalf("after execute: status %s uac %s, want disabled 514", n.Status, n.Attrs[AttrUserAccountControl])
				}
			},
			RolledBack: func(testing.TB, connectors.Step, []string) {
				if n := liveNode(t, d, svcWeb); n.Status != graph.StatusActive || n.Attrs[AttrUserAccountControl] != "512" {
					t.Fatalf("after rollback: status %s uac %s, want active 512", n.Status, n.Attrs[AttrUserAccountControl])
				}
			}})
		if res.Step.Call != res.Plan[0].Call {
			t.Errorf("executed %q, planned %q", res.Step.Call, res.Plan[0].Call)
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
		// svc-sql starts as a transitive admin; removing the membership
		// ends that and the rollback restores it.
		actuatortest.Lifecycle(t, suite, actuatortest.Case{Action: act,
			Applied: func(testing.TB) bool { return !adminClosure(readLive(t, d))[svcSQL] }})
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
