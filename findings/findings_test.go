package findings

import (
	"context"
	"strconv"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/query"
)

// TestCatalog: every OWASP NHI Top 10 item has a check with what Steward
// can and cannot see, and each check's plan (when it has one) validates.
func TestCatalog(t *testing.T) {
	c := New(Options{})
	owasp := map[string]bool{}
	for _, ch := range c.Checks() {
		owasp[ch.OWASP] = true
		if ch.Title == "" || ch.Sees == "" || ch.CannotSee == "" || ch.Severity == "" {
			t.Errorf("%s: incomplete", ch.ID)
		}
		if ch.Query != nil {
			if err := ch.Query.Validate(); err != nil {
				t.Errorf("%s: plan: %v", ch.ID, err)
			}
		}
	}
	for i := 1; i <= 10; i++ {
		if id := "NHI" + strconv.Itoa(i); !owasp[id] {
			t.Errorf("no check for %s", id)
		}
	}
	if _, err := c.Select("NHI11"); err == nil {
		t.Error("unknown check accepted")
	}
	if cs, _ := c.Select("nhi5"); len(cs) != 3 {
		t.Errorf("NHI5 selects %d checks, want NHI5, ESC, SOD", len(cs))
	}
}

// TestDemo: on the demo organisation each plan check returns exactly the
// rows its plan selects, the computed checks carry evidence, and SOD finds
// the planted violations.
func TestDemo(t *testing.T) {
	ix := graph.Build(demo.Generate(demo.Config{Seed: 1, Size: 1000}))
	c := New(Options{})
	all, err := c.Run(context.Background(), ix, demo.Reference, c.Checks())
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, f := range all {
		count[f.Check]++
		if (f.Check == "ESC" || f.Check == "SOD" || f.Check == "NHI8" || f.Check == "NHI9") && len(f.Evidence) == 0 {
			t.Errorf("%s %s: no evidence", f.Check, f.Identity)
		}
	}
	for _, ch := range c.Checks() {
		if ch.Query == nil || ch.ID == "ESC" {
			continue
		}
		p := *ch.Query
		p.Limit = query.MaxLimit
		res, err := query.Execute(context.Background(), ix, &p, demo.Reference)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != count[ch.ID] {
			t.Errorf("%s: %d findings, plan selects %d", ch.ID, count[ch.ID], res.Total)
		}
	}
	if count["SOD"] != 4 {
		t.Errorf("SOD: %d findings, the demo plants 4 at size 1000", count["SOD"])
	}
	t.Logf("findings by check on demo size 1000: %v", count)
}
