package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/actuatortest"
	"github.com/steward-oss/steward/connectors/connectortest"
)

func TestPlan(t *testing.T) {
	a, err := NewActuator(ActuatorConfig{DSN: "postgres://steward_actuator@db.example.com/app", Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	orders := tableID(src, "app", "app", "orders")
	actuatortest.Plans(t, actuatortest.Suite{Actuator: a}, []actuatortest.PlanCase{
		{Name: "deactivate",
			Action: connectors.Action{Type: ActionDeactivate, Target: rid("etl"), Params: map[string]string{"can_login": "true"}},
			Call:   `ALTER ROLE "etl" NOLOGIN`, Undo: map[string]string{UndoSQL: `ALTER ROLE "etl" LOGIN`}},
		{Name: "quoting of a hostile name",
			Action: connectors.Action{Type: ActionDeactivate, Target: src + `:role/x"; DROP ROLE postgres; --`, Params: map[string]string{"can_login": "true"}},
			Call:   `ALTER ROLE "x""; DROP ROLE postgres; --" NOLOGIN`, Undo: map[string]string{UndoSQL: `ALTER ROLE "x""; DROP ROLE postgres; --" LOGIN`}},
		{Name: "revoke table privilege",
			Action: connectors.Action{Type: ActionRevokeGrant, Target: rid("app_ro"), Params: map[string]string{"privilege": "select", "resource": orders}},
			Call:   `REVOKE SELECT ON TABLE "app"."orders" FROM "app_ro"`, Undo: map[string]string{UndoSQL: `GRANT SELECT ON TABLE "app"."orders" TO "app_ro"`, UndoGrantable: "false"}},
		{Name: "revoke schema privilege from PUBLIC",
			Action: connectors.Action{Type: ActionRevokeGrant, Target: rid(PublicRole), Params: map[string]string{"privilege": "CREATE", "resource": schemaID(src, "app", "public")}},
			Call:   `REVOKE CREATE ON SCHEMA "public" FROM PUBLIC`, Undo: map[string]string{UndoSQL: `GRANT CREATE ON SCHEMA "public" TO PUBLIC`, UndoGrantable: "false"}},
		{Name: "revoke database privilege",
			Action: connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{"privilege": "CONNECT", "resource": dbID(src, "my/db")}},
			Call:   `REVOKE CONNECT ON DATABASE "my/db" FROM "etl"`, Undo: map[string]string{UndoSQL: `GRANT CONNECT ON DATABASE "my/db" TO "etl"`, UndoGrantable: "false"}},
		{Name: "revoke role membership",
			Action: connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{"role": rid("app_rw")}},
			Call:   `REVOKE "app_rw" FROM "etl"`, Undo: map[string]string{UndoSQL: `GRANT "app_rw" TO "etl"`, UndoAdminOption: "false"}},
		{Name: "remove membership",
			Action: connectors.Action{Type: ActionRemoveMembership, Target: rid("etl"), Params: map[string]string{"group": rid("app_rw")}},
			Call:   `REVOKE "app_rw" FROM "etl"`, Undo: map[string]string{UndoSQL: `GRANT "app_rw" TO "etl"`, UndoAdminOption: "false"}},
		{Name: "privilege that is not a keyword",
			Action: connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{"privilege": "SELECT ON ALL TABLES; --", "resource": orders}},
			Err:    "does not apply to a table"},
		{Name: "privilege of another object type",
			Action: connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{"privilege": "CONNECT", "resource": orders}},
			Err:    "does not apply to a table"},
		{Name: "deactivate without approved state",
			Action: connectors.Action{Type: ActionDeactivate, Target: rid("etl")},
			Err:    `param "can_login"`},
		{Name: "deactivate approved as NOLOGIN",
			Action: connectors.Action{Type: ActionDeactivate, Target: rid("etl"), Params: map[string]string{"can_login": "false"}},
			Err:    "nothing to deactivate"},
		{Name: "resource of another source",
			Action: connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{"privilege": "SELECT", "resource": "postgres:other:table/a/b/c"}},
			Err:    `not in source "postgres:test"`},
		{Name: "target is not a role",
			Action: connectors.Action{Type: ActionDeactivate, Target: orders, Params: map[string]string{"can_login": "true"}},
			Err:    "is not a role"},
		{Name: "bad can_login snapshot",
			Action: connectors.Action{Type: ActionRemoveMembership, Target: rid("etl"), Params: map[string]string{"group": rid("app_rw"), "can_login": "yes"}},
			Err:    `param "can_login"`},
		{Name: "PUBLIC membership",
			Action: connectors.Action{Type: ActionRemoveMembership, Target: rid("etl"), Params: map[string]string{"group": rid(PublicRole)}},
			Err:    "implicit"},
		{Name: "unsupported",
			Action: connectors.Action{Type: "rotate_credential", Target: rid("etl")},
			Err:    "rotate_credential", Is: connectors.ErrUnsupported},
	})
}

// testActuator runs against the fixture of TestPostgres, after its reads.
func testActuator(t *testing.T, f *fixture) {
	ctx := context.Background()
	r := newReader(t, f.opts(connectors.Options{"actuator-dsn": f.dsnFor("steward_actuator", "fake-actuator-password-9")}))
	a, ok := r.(connectors.Actuator)
	if !ok {
		t.Fatal("reader with actuator-dsn does not implement connectors.Actuator")
	}
	orders := tableID(src, f.db, "app", "orders")
	attr := func(t *testing.T, id, key string) string {
		return connectortest.Find(t, connectortest.Read(t, r), id).Attrs[key]
	}
	hasPriv := func(t *testing.T, q string, args ...any) bool {
		var ok bool
		if err := f.super.QueryRow(ctx, q, args...).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	grantable := func(t *testing.T, role, priv string) bool {
		return hasPriv(t, `SELECT has_table_privilege($1, 'app.orders', $2 || ' WITH GRANT OPTION')`, role, priv)
	}
	direct := func(t *testing.T, role, priv string) bool {
		return hasPriv(t, `SELECT count(*) > 0 FROM pg_class c, aclexplode(c.relacl) a
			WHERE c.oid = 'app.orders'::regclass AND a.grantee = $1::regrole AND a.privilege_type = $2`, role, priv)
	}
	member := func(t *testing.T, role, group string) bool {
		return hasPriv(t, `SELECT count(*) > 0 FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole`, group, role)
	}

	suite := actuatortest.Suite{Actuator: a, Secrets: []string{"fake-actuator-password-9"}}
	// run carries act through its life: present() is the state it
	// removes, there before Execute and after each Rollback.
	run := func(t *testing.T, act connectors.Action, present func(t *testing.T) bool) connectors.Step {
		t.Helper()
		res := actuatortest.Lifecycle(t, suite, actuatortest.Case{Action: act,
			Applied: func(testing.TB) bool { return !present(t) }})
		if res.Step.Call != res.Plan[0].Call {
			t.Errorf("executed %q, planned %q", res.Step.Call, res.Plan[0].Call)
		}
		return res.Step
	}

	t.Run("actuator deactivate and roll back", func(t *testing.T) {
		act := connectors.Action{Type: ActionDeactivate, Target: rid("etl"),
			Params: map[string]string{ParamCanLogin: attr(t, rid("etl"), AttrCanLogin)}}
		run(t, act, func(t *testing.T) bool { return attr(t, rid("etl"), AttrCanLogin) == "true" })
	})
	t.Run("actuator deactivate a role with a hostile name", func(t *testing.T) {
		id := src + `:role/we"ird%2Frole`
		act := connectors.Action{Type: ActionDeactivate, Target: id, Params: map[string]string{ParamCanLogin: "true"}}
		run(t, act, func(t *testing.T) bool { return attr(t, id, AttrCanLogin) == "true" })
	})
	t.Run("actuator refuses a role that can no longer log in", func(t *testing.T) {
		if _, err := f.super.Exec(ctx, `ALTER ROLE repl NOLOGIN`); err != nil {
			t.Fatal(err)
		}
		act := connectors.Action{Type: ActionDeactivate, Target: rid("repl"), Params: map[string]string{ParamCanLogin: "true"}}
		if _, err := a.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("execute = %v, want ErrTargetChanged", err)
		}
	})
	t.Run("actuator refuses a dropped role", func(t *testing.T) {
		act := connectors.Action{Type: ActionDeactivate, Target: rid("gone"), Params: map[string]string{ParamCanLogin: "true"}}
		if _, err := a.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("execute = %v, want ErrTargetChanged", err)
		}
	})
	t.Run("actuator revoke table privilege and roll back", func(t *testing.T) {
		act := connectors.Action{Type: ActionRevokeGrant, Target: rid("app_ro"),
			Params: map[string]string{ParamPrivilege: "SELECT", ParamResource: orders}}
		step := run(t, act, func(t *testing.T) bool { return direct(t, "app_ro", "SELECT") })
		if step.Undo[UndoGrantable] != "false" {
			t.Errorf("undo %v: want grantable false", step.Undo)
		}
	})
	t.Run("actuator rollback restores the grant option", func(t *testing.T) {
		act := connectors.Action{Type: ActionRevokeGrant, Target: rid("reporting"),
			Params: map[string]string{ParamPrivilege: "SELECT", ParamResource: orders}}
		step := run(t, act, func(t *testing.T) bool { return direct(t, "reporting", "SELECT") })
		if step.Undo[UndoSQL] != `GRANT SELECT ON TABLE "app"."orders" TO "reporting" WITH GRANT OPTION` {
			t.Errorf("undo %v", step.Undo)
		}
		if !grantable(t, "reporting", "SELECT") {
			t.Error("rollback lost WITH GRANT OPTION")
		}
	})
	t.Run("actuator revoke database CONNECT and roll back", func(t *testing.T) {
		act := connectors.Action{Type: ActionRevokeGrant, Target: rid("alice"),
			Params: map[string]string{ParamPrivilege: "CONNECT", ParamResource: dbID(src, f.db)}}
		run(t, act, func(t *testing.T) bool {
			return hasPriv(t, `SELECT has_database_privilege('alice', $1, 'CONNECT')`, f.db)
		})
	})
	t.Run("actuator revoke role membership and roll back", func(t *testing.T) {
		act := connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{ParamRole: rid("app_rw")}}
		run(t, act, func(t *testing.T) bool { return member(t, "etl", "app_rw") })
		sgs := connectortest.Read(t, r)
		if !reachableActions(sgs[0], rid("etl"), orders)["INSERT"] {
			t.Error("after rollback etl no longer reaches INSERT on orders")
		}
	})
	t.Run("actuator refuses a revoke when the role's approved login state changed", func(t *testing.T) {
		act := connectors.Action{Type: ActionRevokeGrant, Target: rid("app_ro"),
			Params: map[string]string{ParamPrivilege: "SELECT", ParamResource: orders, ParamCanLogin: "true"}}
		if _, err := a.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) || !strings.Contains(err.Error(), "can_login is false") {
			t.Fatalf("execute = %v, want ErrTargetChanged on can_login", err)
		}
		if !direct(t, "app_ro", "SELECT") {
			t.Fatal("the refused revoke changed the grant")
		}
	})
	t.Run("actuator refuses a privilege that is not granted", func(t *testing.T) {
		act := connectors.Action{Type: ActionRevokeGrant, Target: rid("reporting"),
			Params: map[string]string{ParamPrivilege: "INSERT", ParamResource: orders}}
		if _, err := a.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("execute = %v, want ErrTargetChanged", err)
		}
	})
	t.Run("actuator reports a REVOKE that revoked nothing", func(t *testing.T) {
		act := connectors.Action{Type: ActionRevokeGrant, Target: rid("reporting"),
			Params: map[string]string{ParamPrivilege: "SELECT", ParamResource: tableID(src, f.db, "app", "audit")}}
		_, err := a.Execute(ctx, act)
		if err == nil || !strings.Contains(err.Error(), "had no effect") {
			t.Fatalf("execute = %v, want 'had no effect'", err)
		}
		if !hasPriv(t, `SELECT has_table_privilege('reporting', 'app.audit', 'SELECT')`) {
			t.Fatal("the privilege is gone")
		}
	})
	t.Run("actuator refuses a table in another database", func(t *testing.T) {
		act := connectors.Action{Type: ActionRevokeGrant, Target: rid("app_ro"),
			Params: map[string]string{ParamPrivilege: "SELECT", ParamResource: tableID(src, "otherdb", "app", "orders")}}
		if _, err := a.Execute(ctx, act); err == nil || !strings.Contains(err.Error(), `in database "otherdb"`) {
			t.Fatalf("execute = %v, want a database mismatch", err)
		}
	})
	t.Run("actuator rollback rejects undo data of another step", func(t *testing.T) {
		act := connectors.Action{Type: ActionRevokeGrant, Target: rid("app_ro"),
			Params: map[string]string{ParamPrivilege: "SELECT", ParamResource: orders}}
		forged := connectors.Step{Undo: map[string]string{UndoSQL: "ALTER ROLE app_ro SUPERUSER", UndoGrantable: "false"}}
		if err := a.Rollback(ctx, act, forged); err == nil || !strings.Contains(err.Error(), "does not belong") {
			t.Fatalf("rollback = %v, want refusal", err)
		}
	})
}
