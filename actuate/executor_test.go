package actuate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// recorder is an actuator that records what it was asked to do.
type recorder struct {
	name  string
	calls []string
}

func (r *recorder) Plan(_ context.Context, a connectors.Action) ([]connectors.Step, error) {
	r.calls = append(r.calls, "plan "+a.Target)
	return []connectors.Step{{Call: r.name + " would " + string(a.Type)}}, nil
}

func (r *recorder) Execute(_ context.Context, a connectors.Action) (connectors.Step, error) {
	r.calls = append(r.calls, "execute "+a.Target)
	return connectors.Step{Call: r.name + " did " + string(a.Type)}, nil
}

func (r *recorder) Rollback(_ context.Context, a connectors.Action, _ connectors.Step) error {
	r.calls = append(r.calls, "rollback "+a.Target)
	return nil
}

func TestExecutorRoutes(t *testing.T) {
	anyPG, prod, dir := &recorder{name: "any-pg"}, &recorder{name: "prod"}, &recorder{name: "dir"}
	e, err := NewExecutor(
		Route{Source: "postgres", Type: "postgres", Actuator: anyPG},
		Route{Source: "postgres:prod", Type: "postgres", Actuator: prod},
		Route{Source: "ldap:example.com", Type: "ldap", Actuator: dir},
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name   string
		target string
		want   *recorder
	}{
		{"full source wins over type", "postgres:prod:role/etl", prod},
		{"type route takes other scopes", "postgres:staging:role/etl", anyPG},
		{"prefix must end at a colon", "postgres:production:role/etl", anyPG},
		{"ldap dn", "ldap:example.com:cn=svc,dc=example,dc=com", dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.want.calls)
			a := connectors.Action{Type: "deactivate_identity", Target: tt.target}
			if _, err := e.Execute(ctx, a); err != nil {
				t.Fatal(err)
			}
			if len(tt.want.calls) != before+1 || tt.want.calls[before] != "execute "+tt.target {
				t.Fatalf("%s got calls %v", tt.want.name, tt.want.calls)
			}
		})
	}
	t.Run("unknown source", func(t *testing.T) {
		n := len(anyPG.calls) + len(prod.calls) + len(dir.calls)
		for _, op := range []func() error{
			func() error {
				_, err := e.Execute(ctx, connectors.Action{Type: "x", Target: "aws:1:user/a"})
				return err
			},
			func() error { _, err := e.Plan(ctx, connectors.Action{Type: "x", Target: "aws:1:user/a"}); return err },
			func() error {
				return e.Rollback(ctx, connectors.Action{Type: "x", Target: "aws:1:user/a"}, connectors.Step{})
			},
		} {
			err := op()
			if !errors.Is(err, ErrUnknownSource) || !strings.Contains(err.Error(), `"aws:1:user/a"`) {
				t.Fatalf("err = %v, want ErrUnknownSource naming the target", err)
			}
		}
		if got := len(anyPG.calls) + len(prod.calls) + len(dir.calls); got != n {
			t.Fatal("an actuator was called for an unknown source")
		}
	})
	t.Run("check without a checker", func(t *testing.T) {
		if _, _, err := e.Check(ctx, connectors.Action{Type: "x", Target: "postgres:prod:role/etl"}); !errors.Is(err, ErrCannotCheck) {
			t.Fatalf("check = %v, want ErrCannotCheck", err)
		}
	})
}

func TestNewExecutorRejects(t *testing.T) {
	r := &recorder{}
	tests := []struct {
		name   string
		routes []Route
		want   string
	}{
		{"duplicate source", []Route{{Source: "postgres:a", Actuator: r}, {Source: "postgres:a:", Actuator: r}}, `two actuators for source "postgres:a"`},
		{"empty source", []Route{{Actuator: r}}, "source is empty"},
		{"nil actuator", []Route{{Source: "ldap"}}, "actuator is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewExecutor(tt.routes...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBuild(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dsn := write("pg.dsn", "postgres://steward_actuator:fake-password@127.0.0.1:5432/app\n")
	ldapPW := write("ldap.pw", "fake-ldap-password\n")
	hook := write("hook.key", "test-only-webhook-secret-0123456789\n")
	empty := write("empty", "\n")

	good := []config.Actuator{
		{Source: "postgres:prod", Type: "postgres", Options: map[string]string{"dsn-file": dsn}},
		{Source: "ldap:example.com", Type: "ldap", Options: map[string]string{"url": "ldaps://dc1.example.com", "base-dn": "dc=example,dc=com",
			"bind-dn": "cn=steward-actuator,dc=example,dc=com", "password-file": ldapPW}},
		{Source: "aws", Type: "webhook", Options: map[string]string{"url": "https://soar.example.com/steward", "secret-file": hook}},
	}
	e, err := Build(good, Env{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Run("postgres plan is the SQL", func(t *testing.T) {
		steps, err := e.Plan(ctx, connectors.Action{Type: "deactivate_identity", Target: "postgres:prod:role/etl", Params: map[string]string{"can_login": "true"}})
		if err != nil || len(steps) != 1 || steps[0].Call != `ALTER ROLE "etl" NOLOGIN` {
			t.Fatalf("plan = %v, %v", steps, err)
		}
	})
	t.Run("ldap plan is the LDIF", func(t *testing.T) {
		steps, err := e.Plan(ctx, connectors.Action{Type: "deactivate_identity", Target: "ldap:example.com:cn=svc,dc=example,dc=com", Params: map[string]string{"user_account_control": "512"}})
		if err != nil || len(steps) != 1 || !strings.Contains(steps[0].Call, "userAccountControl: 514") {
			t.Fatalf("plan = %v, %v", steps, err)
		}
	})
	t.Run("webhook plan", func(t *testing.T) {
		steps, err := e.Plan(ctx, connectors.Action{Type: "disable_credential", Target: "aws:111111111111:key/AKIA…WXYZ", Params: map[string]string{"status": "active"}})
		if err != nil || len(steps) != 1 || !strings.HasPrefix(steps[0].Call, "POST https://soar.example.com/steward op=execute") {
			t.Fatalf("plan = %v, %v", steps, err)
		}
	})

	bad := []struct {
		name string
		cfg  config.Actuator
		want string
	}{
		{"unknown type", config.Actuator{Source: "okta", Type: "okta"}, `actuators[0] (okta for okta): type: unknown actuator type "okta"`},
		{"aws without account", config.Actuator{Source: "aws", Type: "aws", Options: map[string]string{"profile": "steward-actuator"}}, "is not aws:<account-id>"},
		{"aws without profile", config.Actuator{Source: "aws:111111111111", Type: "aws"}, "options.profile: required"},
		{"k8s source of another type", config.Actuator{Source: "gke:prod", Type: "k8s"}, "is not k8s"},
		{"k8s bad in-cluster", config.Actuator{Source: "k8s:prod", Type: "k8s", Options: map[string]string{"in-cluster": "perhaps"}}, "options.in-cluster"},
		{"github without org", config.Actuator{Source: "github", Type: "github", Options: map[string]string{"token-file": hook}}, "is not github:<org>"},
		{"github without token", config.Actuator{Source: "github:acme", Type: "github"}, "options.token-file: required"},
		{"unknown option", config.Actuator{Source: "aws", Type: "webhook", Options: map[string]string{"url": "https://x.example.com", "secret-file": hook, "secret": "x"}}, "options.secret: unknown option"},
		{"webhook without secret", config.Actuator{Source: "aws", Type: "webhook", Options: map[string]string{"url": "https://x.example.com"}}, "options.secret-file: required"},
		{"postgres dsn and file", config.Actuator{Source: "postgres", Type: "postgres", Options: map[string]string{"dsn": "postgres://a@b/c", "dsn-file": dsn}}, "not both"},
		{"postgres empty dsn file", config.Actuator{Source: "postgres", Type: "postgres", Options: map[string]string{"dsn-file": empty}}, "is empty"},
		{"postgres name contradicts source", config.Actuator{Source: "postgres:prod", Type: "postgres", Options: map[string]string{"dsn-file": dsn, "name": "staging"}}, `contradicts source "postgres:prod"`},
		{"postgres source of another type", config.Actuator{Source: "mysql:prod", Type: "postgres", Options: map[string]string{"dsn-file": dsn}}, "is not postgres"},
		{"ldap base dn of another source", config.Actuator{Source: "ldap:corp.example.com", Type: "ldap", Options: map[string]string{"url": "ldaps://dc1", "base-dn": "dc=example,dc=com", "bind-dn": "cn=a", "password-file": ldapPW}}, `names source "ldap:example.com"`},
		{"ldap bad start-tls", config.Actuator{Source: "ldap", Type: "ldap", Options: map[string]string{"url": "ldap://dc1", "base-dn": "dc=example,dc=com", "bind-dn": "cn=a", "password-file": ldapPW, "start-tls": "maybe"}}, "options.start-tls"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build([]config.Actuator{tt.cfg}, Env{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "fake-password") {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
	t.Run("two actuators for one source", func(t *testing.T) {
		_, err := Build([]config.Actuator{good[0], good[0]}, Env{})
		if err == nil || !strings.Contains(err.Error(), `two actuators for source "postgres:prod"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestExpect(t *testing.T) {
	tests := []struct {
		name string
		node graph.Node
		want map[string]string
	}{
		{"postgres login role", graph.Node{Source: "postgres:prod", Status: "active", Attrs: map[string]string{"can_login": "true", "superuser": "true"}}, map[string]string{"can_login": "true"}},
		{"ldap account", graph.Node{Source: "ldap:example.com", Status: "active", Attrs: map[string]string{"user_account_control": "512"}}, map[string]string{"user_account_control": "512", "status": "active"}},
		{"other source", graph.Node{Source: "aws:1", Status: "active"}, map[string]string{"status": "active"}},
		{"nothing known", graph.Node{Source: "aws:1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Expect(&tt.node)
			if len(got) != len(tt.want) {
				t.Fatalf("expect = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("expect = %v, want %v", got, tt.want)
				}
			}
		})
	}
}
