package sources

import (
	"slices"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	mustPanic := func(t *testing.T, want string, f func()) {
		t.Helper()
		defer func() {
			t.Helper()
			r := recover()
			if r == nil {
				t.Fatalf("no panic, want one mentioning %q", want)
			}
			if msg, _ := r.(string); !strings.Contains(msg, want) {
				t.Fatalf("panic %v, want one mentioning %q", r, want)
			}
		}()
		f()
	}
	tests := []struct {
		name string
		run  func(t *testing.T, r *registry)
	}{
		{"read sorted, flags by name", func(t *testing.T, r *registry) {
			r.register(Source{Name: "leaks", Finding: true})
			r.register(Source{Name: "acme", Words: []string{"acme", "acme co"}})
			r.register(Source{Name: "people", PeopleFeed: true})
			v := r.view()
			var names []string
			for _, s := range v.all {
				names = append(names, s.Name)
			}
			if !slices.Equal(names, []string{"acme", "leaks", "people"}) {
				t.Errorf("order = %v", names)
			}
			if !v.byName["leaks"].Finding || v.byName["acme"].Finding || !v.byName["people"].PeopleFeed || v.byName["missing"].PeopleFeed {
				t.Errorf("flags wrong: %+v", v.byName)
			}
		}},
		{"words are copied", func(t *testing.T, r *registry) {
			w := []string{"acme"}
			r.register(Source{Name: "acme", Words: w})
			w[0] = "changed"
			if got := r.view().byName["acme"].Words; !slices.Equal(got, []string{"acme"}) {
				t.Errorf("words = %v, want the registered copy", got)
			}
		}},
		{"empty name", func(t *testing.T, r *registry) {
			mustPanic(t, "empty name", func() { r.register(Source{}) })
		}},
		{"twice", func(t *testing.T, r *registry) {
			r.register(Source{Name: "acme"})
			mustPanic(t, "twice for acme", func() { r.register(Source{Name: "acme"}) })
		}},
		{"after first read", func(t *testing.T, r *registry) {
			r.register(Source{Name: "acme"})
			_ = r.view()
			mustPanic(t, "acme2 registered after", func() { r.register(Source{Name: "acme2"}) })
			if _, ok := r.view().byName["acme2"]; ok {
				t.Error("a late registration reached the view")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newRegistry()) })
	}
}
