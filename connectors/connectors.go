// Package connectors is the registry of sources Steward reads. Each source
// lives in its own package under connectors/ and registers itself from init
// with Register; connectors/all imports every one of them.
//
// The required interface, Reader, only reads. A connector that can change
// its source (disable a key, revoke a grant) also implements Actuator, found
// by type assertion, so a read-only connector can never act.
package connectors

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/sources"
)

// Reader reads one source and returns its subgraphs (usually one; a
// connector covering several accounts may return one per account). It
// copies what the source says: no scoring, no filtering.
type Reader interface {
	Read(ctx context.Context) ([]*graph.Subgraph, error)
}

// Option describes one setting a connector takes, both as a CLI flag of
// `steward load NAME --NAME value` and as a key of the connector's options
// in the sync config.
type Option struct {
	Name     string // flag and YAML key, e.g. "authorization-details"
	Usage    string
	Required bool
	Bool     bool // a switch that takes no value on the command line
}

// Options are the values given for a connector's Options.
type Options map[string]string

// Env is what a connector may need from the process besides its options.
type Env struct {
	Logger *slog.Logger
	// ReadFile reads a secret file (password, token). Connectors never read
	// environment variables themselves.
	ReadFile func(path string) ([]byte, error)
}

// Registration is one connector type: everything the rest of Steward
// knows about the source, so that adding a connector is its own
// directory plus one line in connectors/all.
type Registration struct {
	Name    string // "aws", "k8s", "gcp", ...
	Summary string
	Options []Option
	New     func(opts Options, env Env) (Reader, error)

	// Actuator builds the source's actuator (an actuators[] entry of
	// steward.yaml whose type is Name); nil for a read-only source.
	Actuator *ActuatorRegistration
	// Expect returns the approved state of n that the actuator re-checks
	// before acting (a proposal copies it into each action's params); nil
	// means the node's status only.
	Expect func(n *graph.Node) map[string]string

	// The data half, published in package sources for the planner, query
	// and ownership (see sources.Source): how people name the source in
	// questions, whether it is a secret scanner, whether it is the roster
	// of accountable people.
	Words      []string
	Finding    bool
	PeopleFeed bool
}

// ActuatorRegistration is how a source's actuator is built from the
// actuators section of the configuration.
type ActuatorRegistration struct {
	// Options are the keys its options map may hold (a public contract).
	Options []string
	// New builds the actuator for source ("aws:123456789012") from opts.
	// Errors name the option ("options.profile: required") and never
	// quote a secret.
	New func(source string, opts Options, env ActuatorEnv) (Actuator, error)
}

// ActuatorEnv is what building an actuator may need from the process.
type ActuatorEnv struct {
	// ReadFile reads secret files; actuators never read environment
	// variables.
	ReadFile   func(path string) ([]byte, error)
	HTTPClient *http.Client
}

var (
	mu       sync.RWMutex
	registry = map[string]Registration{}
)

// Register adds a connector type and publishes its data half in package
// sources. Registering a name twice panics: two packages claiming one
// source is a build mistake.
func Register(r Registration) {
	mu.Lock()
	defer mu.Unlock()
	if r.Name == "" || r.New == nil {
		panic("connectors: Register with empty name or nil New")
	}
	if _, dup := registry[r.Name]; dup {
		panic("connectors: Register called twice for " + r.Name)
	}
	if r.Actuator != nil && r.Actuator.New == nil {
		panic("connectors: Register " + r.Name + " with an actuator but no New")
	}
	registry[r.Name] = r
	sources.Register(sources.Source{Name: r.Name, Words: r.Words, Finding: r.Finding, PeopleFeed: r.PeopleFeed})
}

// Lookup returns the registration for name.
func Lookup(name string) (Registration, bool) {
	mu.RLock()
	defer mu.RUnlock()
	r, ok := registry[name]
	return r, ok
}

// Names lists registered connector names, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// All returns every registration, sorted by name.
func All() []Registration {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Registration, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// New builds a reader for name from opts, checking required options.
func New(name string, opts Options, env Env) (Reader, error) {
	r, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("connectors: unknown connector %q (known: %v)", name, Names())
	}
	for _, o := range r.Options {
		if o.Required && opts[o.Name] == "" {
			return nil, fmt.Errorf("connectors: %s: option %q is required", name, o.Name)
		}
	}
	known := map[string]bool{}
	for _, o := range r.Options {
		known[o.Name] = true
	}
	for k := range opts {
		if !known[k] {
			return nil, fmt.Errorf("connectors: %s: unknown option %q", name, k)
		}
	}
	if env.Logger == nil {
		env.Logger = slog.Default()
	}
	return r.New(opts, env)
}
