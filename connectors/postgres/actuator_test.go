package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
)

func TestPlan(t *testing.T) {
	a, err := NewActuator(ActuatorConfig{DSN: "postgres://steward_actuator@db.example.com/app", Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	orders := tableID(src, "app", "app", "orders")
	tests := []struct {
		name     string
		action   connectors.Action
		wantCall string
		wantUndo string
		wantErr  string
		wantIs   error
	}{
		{name: "deactivate",
			action:   connectors.Action{Type: ActionDeactivate, Target: rid("etl"), Params: map[string]string{"can_login": "true"}},
			wantCall: `ALTER ROLE "etl" NOLOGIN`, wantUndo: `ALTER ROLE "etl" LOGIN`},
		{name: "quoting of a hostile name",
			action:   connectors.Action{Type: ActionDeactivate, Target: src + `:role/x"; DROP ROLE postgres; --`, Params: map[string]string{"can_login": "true"}},
			wantCall: `ALTER ROLE "x""; DROP ROLE postgres; --" NOLOGIN`, wantUndo: `ALTER ROLE "x""; DROP ROLE postgres; --" LOGIN`},
		{name: "revoke table privilege",
			action:   connectors.Action{Type: ActionRevokeGrant, Target: rid("app_ro"), Params: map[string]string{"privilege": "select", "resource": orders}},
			wantCall: `REVOKE SELECT ON TABLE "app"."orders" FROM "app_ro"`, wantUndo: `GRANT SELECT ON TABLE "app"."orders" TO "app_ro"`},
		{name: "revoke schema privilege from PUBLIC",
			action:   connectors.Action{Type: ActionRevokeGrant, Target: rid(PublicRole), Params: map[string]string{"privilege": "CREATE", "resource": schemaID(src, "app", "public")}},
			wantCall: `REVOKE CREATE ON SCHEMA "public" FROM PUBLIC`, wantUndo: `GRANT CREATE ON SCHEMA "public" TO PUBLIC`},
		{name: "revoke database privilege",
			action:   connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{"privilege": "CONNECT", "resource": dbID(src, "my/db")}},
			wantCall: `REVOKE CONNECT ON DATABASE "my/db" FROM "etl"`, wantUndo: `GRANT CONNECT ON DATABASE "my/db" TO "etl"`},
		{name: "revoke role membership",
			action:   connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{"role": rid("app_rw")}},
			wantCall: `REVOKE "app_rw" FROM "etl"`, wantUndo: `GRANT "app_rw" TO "etl"`},
		{name: "remove membership",
			action:   connectors.Action{Type: ActionRemoveMembership, Target: rid("etl"), Params: map[string]string{"group": rid("app_rw")}},
			wantCall: `REVOKE "app_rw" FROM "etl"`, wantUndo: `GRANT "app_rw" TO "etl"`},
		{name: "privilege that is not a keyword",
			action:  connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{"privilege": "SELECT ON ALL TABLES; --", "resource": orders}},
			wantErr: "does not apply to a table"},
		{name: "privilege of another object type",
			action:  connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{"privilege": "CONNECT", "resource": orders}},
			wantErr: "does not apply to a table"},
		{name: "deactivate without approved state",
			action:  connectors.Action{Type: ActionDeactivate, Target: rid("etl")},
			wantErr: `param "can_login"`},
		{name: "deactivate approved as NOLOGIN",
			action:  connectors.Action{Type: ActionDeactivate, Target: rid("etl"), Params: map[string]string{"can_login": "false"}},
			wantErr: "nothing to deactivate"},
		{name: "resource of another source",
			action:  connectors.Action{Type: ActionRevokeGrant, Target: rid("etl"), Params: map[string]string{"privilege": "SELECT", "resource": "postgres:other:table/a/b/c"}},
			wantErr: `not in source "postgres:test"`},
		{name: "target is not a role",
			action:  connectors.Action{Type: ActionDeactivate, Target: orders, Params: map[string]string{"can_login": "true"}},
			wantErr: "is not a role"},
		{name: "bad can_login snapshot",
			action:  connectors.Action{Type: ActionRemoveMembership, Target: rid("etl"), Params: map[string]string{"group": rid("app_rw"), "can_login": "yes"}},
			wantErr: `param "can_login"`},
		{name: "PUBLIC membership",
			action:  connectors.Action{Type: ActionRemoveMembership, Target: rid("etl"), Params: map[string]string{"group": rid(PublicRole)}},
			wantErr: "implicit"},
		{name: "unsupported",
			action:  connectors.Action{Type: "rotate_credential", Target: rid("etl")},
			wantErr: "rotate_credential", wantIs: connectors.ErrUnsupported},
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
			if len(steps) != 1 || steps[0].Call != tt.wantCall || steps[0].Undo[UndoSQL] != tt.wantUndo {
				t.Fatalf("plan = %+v\nwant call %q undo %q", steps, tt.wantCall, tt.wantUndo)
			}
		})
	}
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

	// run executes act, checks changed() flips, a repeat is refused, and
	// the rollback (twice) restores it.
	run := func(t *testing.T, act connectors.Action, present func(t *testing.T) bool) connectors.Step {
		t.Helper()
		if !present(t) {
			t.Fatal("fixture: the state to remove is not there")
		}
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
		if present(t) {
			t.Fatal("execute did not change the server")
		}
		if _, err := a.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("repeated execute = %v, want ErrTargetChanged", err)
		}
		if err := a.Rollback(ctx, act, step); err != nil {
			t.Fatalf("rollback: %v", err)
		}
		if !present(t) {
			t.Fatal("rollback did not restore the state")
		}
		if err := a.Rollback(ctx, act, step); err != nil {
			t.Fatalf("second rollback should be a no-op: %v", err)
		}
		return step
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
