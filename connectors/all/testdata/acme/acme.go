// Package acme is a connector that exists to show what adding one takes:
// this directory and one line importing it (connectors/all's test does,
// as all.go does for the real connectors). Nothing else in Steward names
// it, yet the planner, query, actuate and ownership know it through its
// registrations alone.
//
// Acme is a made-up SaaS whose live system is a JSON state file:
//
//	{"tenant": "prod",
//	 "keys":   [{"id": "k1", "name": "ci", "status": "active", "tier": "gold", "owner": "ana@example.com"}],
//	 "people": [{"email": "ana@example.com", "name": "Ana"}],
//	 "leaks":  [{"id": "l1", "file": "deploy.env"}]}
//
// It registers three sources from the one file: "acme" (the keys, with an
// actuator that disables them), "acmepeople" (the roster of accountable
// people) and "acmeleaks" (a secret scanner's findings).
package acme

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/remediation/action"
)

// State is the acme state file.
type State struct {
	Tenant string   `json:"tenant"`
	Keys   []Key    `json:"keys"`
	People []Person `json:"people"`
	Leaks  []Leak   `json:"leaks"`
}

// Key is one API key of the tenant.
type Key struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"` // "active" or "disabled"
	Tier   string `json:"tier"`
	Owner  string `json:"owner"` // e-mail
}

// Person is one accountable person.
type Person struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Leak is one place a key was found written down.
type Leak struct {
	ID   string `json:"id"`
	File string `json:"file"`
}

// Param names of the approved state the actuator re-checks.
const (
	ParamStatus = "status"
	ParamTier   = "tier"
)

func init() {
	from := []connectors.Option{{Name: "from", Usage: "path of the acme state file", Required: true}}
	connectors.Register(connectors.Registration{
		Name:    "acme",
		Summary: "Acme API keys (test connector)",
		Options: from,
		New:     reader(keys),
		Words:   []string{"acme", "acmeco"},
		Actuator: &connectors.ActuatorRegistration{
			Options: []string{"state-file"},
			New:     newActuator,
		},
		Expect: func(n *graph.Node) map[string]string {
			return map[string]string{ParamStatus: n.Status, ParamTier: n.Attrs["tier"]}
		},
	})
	connectors.Register(connectors.Registration{
		Name: "acmepeople", Summary: "Acme roster (test connector)", Options: from, New: reader(people), PeopleFeed: true,
	})
	connectors.Register(connectors.Registration{
		Name: "acmeleaks", Summary: "Acme leak scan (test connector)", Options: from, New: reader(leaks), Finding: true,
	})
}

// Load reads a state file.
func Load(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("acme: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("acme: %s: %w", path, err)
	}
	if s.Tenant == "" {
		return nil, fmt.Errorf("acme: %s: tenant: required", path)
	}
	return &s, nil
}

func save(path string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("acme: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("acme: %w", err)
	}
	return nil
}

type readerFunc func(ctx context.Context) ([]*graph.Subgraph, error)

func (f readerFunc) Read(ctx context.Context) ([]*graph.Subgraph, error) { return f(ctx) }

func reader(build func(*State) *graph.Subgraph) func(connectors.Options, connectors.Env) (connectors.Reader, error) {
	return func(o connectors.Options, _ connectors.Env) (connectors.Reader, error) {
		path := o["from"]
		return readerFunc(func(context.Context) ([]*graph.Subgraph, error) {
			s, err := Load(path)
			if err != nil {
				return nil, err
			}
			return []*graph.Subgraph{build(s)}, nil
		}), nil
	}
}

func keys(s *State) *graph.Subgraph {
	src := "acme:" + s.Tenant
	sg := &graph.Subgraph{Source: src}
	for _, k := range s.Keys {
		n := graph.Node{ID: src + ":key/" + k.ID, Kind: graph.KindCredential, Source: src, Name: k.Name, Status: k.Status,
			Attrs: map[string]string{"tier": k.Tier}}
		if k.Owner != "" {
			n.Tags = map[string]string{"owner": k.Owner}
		}
		sg.Nodes = append(sg.Nodes, n)
	}
	return sg
}

func people(s *State) *graph.Subgraph {
	sg := &graph.Subgraph{Source: "acmepeople"}
	for _, p := range s.People {
		sg.Nodes = append(sg.Nodes, graph.Node{ID: "acmepeople:" + strings.ToLower(p.Email), Kind: graph.KindHuman, Source: "acmepeople",
			Name: p.Name, Status: graph.StatusActive, Attrs: map[string]string{graph.AttrEmail: p.Email}})
	}
	return sg
}

func leaks(s *State) *graph.Subgraph {
	sg := &graph.Subgraph{Source: "acmeleaks"}
	for _, l := range s.Leaks {
		sg.Nodes = append(sg.Nodes, graph.Node{ID: "acmeleaks:" + l.ID, Kind: graph.KindCredential, Source: "acmeleaks",
			Attrs: map[string]string{"file": l.File}})
	}
	return sg
}

// actuator disables and re-enables keys in the state file of one tenant.
type actuator struct {
	tenant string
	path   string
}

var _ connectors.Actuator = (*actuator)(nil)

func newActuator(source string, o connectors.Options, _ connectors.ActuatorEnv) (connectors.Actuator, error) {
	tenant, ok := strings.CutPrefix(source, "acme:")
	if !ok || tenant == "" {
		return nil, fmt.Errorf("source: %q is not acme:<tenant>", source)
	}
	if o["state-file"] == "" {
		return nil, fmt.Errorf("options.state-file: required")
	}
	return &actuator{tenant: tenant, path: o["state-file"]}, nil
}

// key finds the target's key in the state file.
func (a *actuator) key(act connectors.Action) (*State, *Key, error) {
	id, ok := strings.CutPrefix(act.Target, "acme:"+a.tenant+":key/")
	if !ok {
		return nil, nil, fmt.Errorf("acme: %s: not a key of tenant %s", act.Target, a.tenant)
	}
	s, err := Load(a.path)
	if err != nil {
		return nil, nil, err
	}
	for i := range s.Keys {
		if s.Keys[i].ID == id {
			return s, &s.Keys[i], nil
		}
	}
	return nil, nil, fmt.Errorf("acme: %s: %w", act.Target, connectors.ErrTargetChanged)
}

func (a *actuator) Plan(_ context.Context, act connectors.Action) ([]connectors.Step, error) {
	if act.Type != action.DisableCredential {
		return nil, fmt.Errorf("acme: %s: %w", act.Type, connectors.ErrUnsupported)
	}
	return []connectors.Step{{Call: "acme disable key " + act.Target}}, nil
}

func (a *actuator) Execute(_ context.Context, act connectors.Action) (connectors.Step, error) {
	if act.Type != action.DisableCredential {
		return connectors.Step{}, fmt.Errorf("acme: %s: %w", act.Type, connectors.ErrUnsupported)
	}
	s, k, err := a.key(act)
	if err != nil {
		return connectors.Step{}, err
	}
	if k.Status != act.Params[ParamStatus] || k.Tier != act.Params[ParamTier] {
		return connectors.Step{}, fmt.Errorf("acme: %s: status %s tier %s: %w", act.Target, k.Status, k.Tier, connectors.ErrTargetChanged)
	}
	undo := map[string]string{ParamStatus: k.Status}
	k.Status = graph.StatusDisabled
	if err := save(a.path, s); err != nil {
		return connectors.Step{}, err
	}
	return connectors.Step{Call: "acme disable key " + act.Target, Undo: undo}, nil
}

func (a *actuator) Rollback(_ context.Context, act connectors.Action, done connectors.Step) error {
	s, k, err := a.key(act)
	if err != nil {
		return err
	}
	k.Status = done.Undo[ParamStatus]
	return save(a.path, s)
}
