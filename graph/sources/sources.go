// Package sources is what Steward knows about each source type by name,
// apart from the code that reads or changes it: the words people use for
// it in questions, whether it is a secret scanner, whether it is the
// roster of accountable people. Each connector declares this in its
// connectors.Registration, which publishes it here; the planner, query
// and ownership read it from here. So a new connector reaches them
// through its registration alone, and the agent, which must never link a
// connector or an actuator, still learns its words.
//
// Sources register from init; the first read seals the set, so a source
// registered later (a build mistake that would go unnoticed) panics.
package sources

import (
	"slices"
	"sort"
	"sync"
)

// Source is the data half of one connector's registration.
type Source struct {
	// Name is the connector type, the part of a source name before the
	// first colon ("aws" for "aws:123456789012").
	Name string
	// Words are how people name the source in questions ("amazon",
	// "iam"), matched whole-word by the offline planner. A connector no
	// one asks about by name (a file format) has none.
	Words []string
	// Finding marks a secret scanner: its credential-shaped nodes are
	// evidence about other credentials, never identities themselves.
	Finding bool
	// PeopleFeed marks the roster of accountable people (the HR feed):
	// only its human nodes become owners.
	PeopleFeed bool
}

// registry holds the sources registered so far; the first read takes
// an immutable view and seals it.
type registry struct {
	mu      sync.Mutex
	sources map[string]Source
	sealed  bool
	view    func() view
}

// view is the registry as read.
type view struct {
	all    []Source
	byName map[string]Source
}

func newRegistry() *registry {
	r := &registry{sources: map[string]Source{}}
	r.view = sync.OnceValue(func() view {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.sealed = true
		v := view{byName: make(map[string]Source, len(r.sources))}
		for n, s := range r.sources {
			v.byName[n] = s
			v.all = append(v.all, s)
		}
		sort.Slice(v.all, func(i, j int) bool { return v.all[i].Name < v.all[j].Name })
		return v
	})
	return r
}

func (r *registry) register(s Source) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case s.Name == "":
		panic("sources: Register with empty name")
	case r.sealed:
		panic("sources: " + s.Name + " registered after the sources were read (register from init)")
	}
	if _, dup := r.sources[s.Name]; dup {
		panic("sources: Register called twice for " + s.Name)
	}
	s.Words = slices.Clone(s.Words)
	r.sources[s.Name] = s
}

// std is the process's registry, filled by the connectors' init.
var std = newRegistry()

// Register adds a source. An empty or repeated name, or a registration
// after the sources were first read, panics: each is a build mistake.
func Register(s Source) { std.register(s) }

// All returns every registered source, sorted by name.
func All() []Source { return slices.Clone(std.view().all) }

// Lookup returns the source of connector type name.
func Lookup(name string) (Source, bool) {
	s, ok := std.view().byName[name]
	return s, ok
}

// IsFinding reports whether the connector type name is a secret scanner.
func IsFinding(name string) bool { return std.view().byName[name].Finding }

// IsPeopleFeed reports whether the connector type name is the roster of
// accountable people.
func IsPeopleFeed(name string) bool { return std.view().byName[name].PeopleFeed }
