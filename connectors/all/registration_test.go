package all_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/derive/ownership"
	"github.com/steward-oss/steward/planner"
)

// A connector added the way a real one is: its registration alone makes
// the planner, actuate and ownership know it; no other package changes.
// "acme" is a source with an actuator, "acmepeople" a people feed.

type acmeActuator struct{ disabled map[string]bool }

func (a *acmeActuator) Plan(_ context.Context, act connectors.Action) ([]connectors.Step, error) {
	return []connectors.Step{{Call: "acme disable " + act.Target}}, nil
}

func (a *acmeActuator) Execute(_ context.Context, act connectors.Action) (connectors.Step, error) {
	if act.Params["status"] != graph.StatusActive {
		return connectors.Step{}, fmt.Errorf("acme: %s: %w", act.Target, connectors.ErrTargetChanged)
	}
	a.disabled[act.Target] = true
	return connectors.Step{Call: "acme disable " + act.Target, Undo: map[string]string{"enable": act.Target}}, nil
}

func (a *acmeActuator) Rollback(_ context.Context, _ connectors.Action, done connectors.Step) error {
	delete(a.disabled, done.Undo["enable"])
	return nil
}

var built = &acmeActuator{disabled: map[string]bool{}}

func init() {
	connectors.Register(connectors.Registration{
		Name:  "acme",
		Words: []string{"acme", "acmeco"},
		New: func(connectors.Options, connectors.Env) (connectors.Reader, error) {
			return nil, errors.New("acme: not read in this test")
		},
		Actuator: &connectors.ActuatorRegistration{
			Options: []string{"token-file"},
			New: func(source string, o connectors.Options, _ connectors.ActuatorEnv) (connectors.Actuator, error) {
				if o["token-file"] == "" {
					return nil, errors.New("options.token-file: required")
				}
				return built, nil
			},
		},
		Expect: func(n *graph.Node) map[string]string {
			return map[string]string{"status": n.Status, "acme_tier": n.Attrs["tier"]}
		},
	})
	connectors.Register(connectors.Registration{
		Name:   "acmepeople",
		Owners: true,
		New: func(connectors.Options, connectors.Env) (connectors.Reader, error) {
			return nil, errors.New("acmepeople: not read in this test")
		},
	})
}

func TestNewConnectorNeedsOnlyItsRegistration(t *testing.T) {
	t.Run("planner words", func(t *testing.T) {
		p, err := planner.Plan("list acmeco service accounts", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Sources, []string{"acme"}) {
			t.Errorf("sources = %v, want [acme]", p.Sources)
		}
	})
	t.Run("actuate", func(t *testing.T) {
		if !slices.Contains(actuate.Types(), "acme") {
			t.Fatalf("actuate.Types() = %v, want acme listed", actuate.Types())
		}
		if _, err := actuate.Build([]config.Actuator{{Type: "acme", Source: "acme:prod", Options: map[string]string{"region": "x"}}}, actuate.Env{}); err == nil {
			t.Error("an option acme does not register was accepted")
		}
		ex, err := actuate.Build([]config.Actuator{{Type: "acme", Source: "acme:prod", Options: map[string]string{"token-file": "t"}}}, actuate.Env{})
		if err != nil {
			t.Fatal(err)
		}
		n := &graph.Node{ID: "acme:prod:key/1", Source: "acme:prod", Status: graph.StatusActive, Attrs: map[string]string{"tier": "gold"}}
		want := map[string]string{"status": graph.StatusActive, "acme_tier": "gold"}
		params := actuate.Expect(n)
		if fmt.Sprint(params) != fmt.Sprint(want) {
			t.Fatalf("Expect = %v, want %v", params, want)
		}
		act := connectors.Action{Type: "disable_credential", Target: n.ID, Params: params}
		step, err := ex.Execute(context.Background(), act)
		if err != nil || !built.disabled[n.ID] {
			t.Fatalf("Execute = %v, %v; disabled = %v", step, err, built.disabled)
		}
		if err := ex.Rollback(context.Background(), act, step); err != nil || built.disabled[n.ID] {
			t.Fatalf("Rollback = %v; disabled = %v", err, built.disabled)
		}
		act.Params = map[string]string{"status": graph.StatusDisabled}
		if _, err := ex.Execute(context.Background(), act); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Errorf("Execute on drift = %v, want ErrTargetChanged", err)
		}
	})
	t.Run("ownership people feed", func(t *testing.T) {
		people := &graph.Subgraph{Source: "acmepeople", Nodes: []graph.Node{{ID: "acmepeople:ana", Kind: graph.KindHuman, Source: "acmepeople",
			Status: graph.StatusActive, Attrs: map[string]string{graph.AttrEmail: "ana@example.com"}}}}
		ids := &graph.Subgraph{Source: "acme:prod", Nodes: []graph.Node{{ID: "acme:prod:sa/ci", Kind: graph.KindServiceAccount, Source: "acme:prod",
			Tags: map[string]string{"owner": "ana@example.com"}}}}
		out, unresolved := ownership.Infer([]*graph.Subgraph{people, ids}, nil)
		var owns []string
		for _, e := range out.Edges {
			if e.Kind == graph.EdgeOwns {
				owns = append(owns, e.From+" -> "+e.To)
			}
		}
		if !slices.Equal(owns, []string{"acmepeople:ana -> acme:prod:sa/ci"}) {
			t.Errorf("owns = %v (unresolved %v), want the people feed's human to own the identity", owns, unresolved)
		}
	})
}
