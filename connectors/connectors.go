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
	"sort"
	"sync"

	"github.com/steward-oss/steward/graph"
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

// Registration is one connector type.
type Registration struct {
	Name    string // "aws", "k8s", "gcp", ...
	Summary string
	Options []Option
	New     func(opts Options, env Env) (Reader, error)
}

var (
	mu       sync.RWMutex
	registry = map[string]Registration{}
)

// Register adds a connector type. Registering a name twice panics: two
// packages claiming one source is a build mistake.
func Register(r Registration) {
	mu.Lock()
	defer mu.Unlock()
	if r.Name == "" || r.New == nil {
		panic("connectors: Register with empty name or nil New")
	}
	if _, dup := registry[r.Name]; dup {
		panic("connectors: Register called twice for " + r.Name)
	}
	registry[r.Name] = r
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
