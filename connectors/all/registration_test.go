package all_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/all/testdata/acme"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/derive/ownership"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
)

// Adding a connector with an actuator is its own directory plus one
// line: the import of testdata/acme above, as all.go imports the real
// ones. Nothing else in the repository names acme, yet the planner,
// query, actuate and ownership know it through its registrations.

func readAcme(t *testing.T, name, path string) *graph.Subgraph {
	t.Helper()
	r, err := connectors.New(name, connectors.Options{"from": path}, connectors.Env{})
	if err != nil {
		t.Fatal(err)
	}
	sgs, err := r.Read(context.Background())
	if err != nil || len(sgs) != 1 {
		t.Fatalf("read %s = %v, %v", name, sgs, err)
	}
	return sgs[0]
}

func TestNewConnectorNeedsOnlyItsRegistration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.json")
	b, err := json.Marshal(acme.State{Tenant: "prod",
		Keys:   []acme.Key{{ID: "k1", Name: "ci", Status: graph.StatusActive, Tier: "gold", Owner: "ana@example.com"}},
		People: []acme.Person{{Email: "ana@example.com", Name: "Ana"}},
		Leaks:  []acme.Leak{{ID: "l1", File: "deploy.env"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	keys := readAcme(t, "acme", path)
	key := &keys.Nodes[0]

	t.Run("planner words", func(t *testing.T) {
		for _, q := range []string{"list acme service accounts", "list acmeco service accounts"} {
			p, err := planner.Plan(q, nil)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			if !slices.Equal(p.Sources, []string{"acme"}) {
				t.Errorf("%q: sources = %v, want [acme]", q, p.Sources)
			}
		}
	})
	t.Run("query scanner flag", func(t *testing.T) {
		leak := &readAcme(t, "acmeleaks", path).Nodes[0]
		if !query.IsFinding(leak) || query.IsFinding(key) {
			t.Errorf("IsFinding(leak) = %v, IsFinding(key) = %v; want true, false", query.IsFinding(leak), query.IsFinding(key))
		}
	})
	t.Run("ownership people feed", func(t *testing.T) {
		out, unresolved := ownership.Infer([]*graph.Subgraph{readAcme(t, "acmepeople", path), keys}, nil)
		var owns []string
		for _, e := range out.Edges {
			if e.Kind == graph.EdgeOwns {
				owns = append(owns, e.From+" -> "+e.To)
			}
		}
		if want := []string{"acmepeople:ana@example.com -> acme:prod:key/k1"}; !slices.Equal(owns, want) {
			t.Errorf("owns = %v (unresolved %v), want %v", owns, unresolved, want)
		}
	})
	t.Run("actuate", func(t *testing.T) {
		if !slices.Contains(actuate.Types(), "acme") {
			t.Fatalf("actuate.Types() = %v, want acme listed", actuate.Types())
		}
		for _, bad := range []struct {
			c    config.Actuator
			want string
		}{
			{config.Actuator{Type: "acme", Source: "acme:prod", Options: map[string]string{"region": "x"}}, "options.region: unknown option for acme"},
			{config.Actuator{Type: "acme", Source: "acme:prod"}, "options.state-file: required"},
			{config.Actuator{Type: "acme", Source: "other:prod", Options: map[string]string{"state-file": path}}, `source: "other:prod" is not acme:<tenant>`},
		} {
			if _, err := actuate.Build([]config.Actuator{bad.c}, actuate.Env{}); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("Build(%v) = %v, want an error containing %q", bad.c, err, bad.want)
			}
		}
		ex, err := actuate.Build([]config.Actuator{{Type: "acme", Source: "acme:prod", Options: map[string]string{"state-file": path}}}, actuate.Env{})
		if err != nil {
			t.Fatal(err)
		}
		params := actuate.Expect(key)
		if want := map[string]string{acme.ParamStatus: graph.StatusActive, acme.ParamTier: "gold"}; !maps.Equal(params, want) {
			t.Fatalf("Expect = %v, want %v", params, want)
		}
		status := func() string {
			s, err := acme.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			return s.Keys[0].Status
		}
		ctx := context.Background()
		act := connectors.Action{Type: "disable_credential", Target: key.ID, Params: params}
		step, err := ex.Execute(ctx, act)
		if err != nil || status() != graph.StatusDisabled {
			t.Fatalf("Execute = %v, %v; status %s", step, err, status())
		}
		if _, err := ex.Execute(ctx, act); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Errorf("Execute on a key no longer as approved = %v, want ErrTargetChanged", err)
		}
		if err := ex.Rollback(ctx, act, step); err != nil || status() != graph.StatusActive {
			t.Fatalf("Rollback = %v; status %s", err, status())
		}
	})
}
