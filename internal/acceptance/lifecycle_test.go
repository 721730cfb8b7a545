package acceptance

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/steward-oss/steward/cli"
	"github.com/steward-oss/steward/graph"
)

// TestOwnerCorrectionSurvivesReload: an analyst's `steward owner set`
// wins over inference, and still holds after the sources it is about, and
// the HR roster, are loaded again (a re-sync).
func TestOwnerCorrectionSurvivesReload(t *testing.T) {
	e := newEnv(t)
	loadAWS := func() {
		e.load("aws", "--authorization-details", fixture("aws", "authz-details.json"), "--credential-report", fixture("aws", "credential-report.csv"))
	}
	e.load("hr", "--from", fixture("hr", "roster.csv"))
	loadAWS()
	const etl, etlKey = "aws:111122223333:user/etl", "aws:111122223333:access-key/etl/slot-1"

	unowned := func() []string {
		t.Helper()
		a, ok := e.ask("service accounts with no owner")
		if !ok {
			t.Fatal("the planner refused the question")
		}
		return ids(t, a)
	}
	if !slices.Contains(unowned(), etl) {
		t.Fatalf("before the correction %s should have no owner (it has no owner tag)", etl)
	}

	// Flags first: the flag package stops at the first argument (the
	// usage line's "owner set IDENTITY EMAIL --reason TEXT" order is
	// refused; reported).
	e.must("owner", "set", "--reason", "SEC-42: etl feeds the payments warehouse", "--by", "analyst@example.com", "--owners", e.owners, "--graph", e.db, etl, "carol@example.com")

	check := func(stage string) {
		t.Helper()
		if slices.Contains(unowned(), etl) {
			t.Errorf("%s: %s is still listed without an owner", stage, etl)
		}
		a := e.query("aws-etl.json")
		if len(a.Rows) != 2 {
			t.Fatalf("%s: %d rows for etl and its key", stage, len(a.Rows))
		}
		for r := range a.Rows {
			id := cell(t, a, r, "id")
			if o := cell(t, a, r, "owner"); o != "carol@example.com" {
				t.Errorf("%s: %s owner %q, want carol@example.com", stage, id, o)
			}
			if s := cell(t, a, r, "owner_status"); s != string(graph.OwnerPresent) {
				t.Errorf("%s: %s owner_status %q", stage, id, s)
			}
			own := ownsEdge(t, a, r)
			attrs, _ := own.Props["attrs"].(map[string]any)
			if own.From != "human:carol@example.com" || own.To != etl || attrs["rule"] != "override" || attrs["confidence"] != "1.00" ||
				!strings.Contains(attrs["reason"].(string), "SEC-42") {
				t.Errorf("%s: %s owns evidence %v, want carol's override with the analyst's reason", stage, id, own)
			}
		}
	}
	check("after owner set")
	loadAWS()
	e.load("hr", "--from", fixture("hr", "roster.csv"))
	check("after re-loading aws and hr")

	// The correction is the only thing that moved etl: without the
	// corrections file it is unowned again.
	code, out, errs := e.run("ask", "--graph", e.db, "--owners", filepath.Join(e.dir, "none.json"), "--now", now, "--format", "json", "service accounts with no owner")
	if code != cli.ExitOK || !slices.Contains(ids(t, decodeAnswer(t, out)), etl) {
		t.Errorf("without corrections %s should be unowned again (exit %d, %s)", etl, code, errs)
	}
}

// TestBadInputKeepsGraph: a broken export fails the load with a message
// naming the file and the place, and the graph answers exactly as before.
func TestBadInputKeepsGraph(t *testing.T) {
	e := newEnv(t)
	e.load("hr", "--from", fixture("hr", "roster.csv"))
	e.load("aws", "--authorization-details", fixture("aws", "authz-details.json"), "--credential-report", fixture("aws", "credential-report.csv"))
	e.load("ldap", "--from", fixture("ldap", "ad-export.ldif"))
	before := e.export()
	askBefore := e.must(append(append([]string{"ask"}, e.readFlags()...), "service accounts with no owner")...)

	bad := func(name string) string { return filepath.Join("testdata", "bad", name) }
	tests := []struct {
		name string
		args []string
		// want are the pieces stderr must hold: the file and the place.
		want []string
	}{{
		name: "truncated JSON",
		args: []string{"aws", "--authorization-details", bad("bad-truncated.json"), "--credential-report", fixture("aws", "credential-report.csv")},
		want: []string{"bad-truncated.json", "page[0]", "truncated JSON"},
	}, {
		name: "wrong CSV header",
		args: []string{"hr", "--from", bad("bad-header.csv")},
		want: []string{"bad-header.csv:1", `column "status"`, "missing from header"},
	}, {
		name: "LDAP entry without sAMAccountName",
		args: []string{"ldap", "--from", bad("missing-sam.ldif")},
		want: []string{"missing-sam.ldif:11", "CN=svc-nosam,OU=Service Accounts,DC=example,DC=com", `"sAMAccountName": missing`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			code, out, errs := e.run(append(append([]string{"load"}, tt.args...), "--graph", e.db)...)
			if code == cli.ExitOK {
				t.Fatalf("load succeeded on bad input")
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q does not name %q", strings.TrimSpace(errs), w)
				}
			}
			if after := e.export(); after != before {
				t.Errorf("the failed load changed the graph (%d -> %d bytes of export)", len(before), len(after))
			}
			if got := e.must(append(append([]string{"ask"}, e.readFlags()...), "service accounts with no owner")...); got != askBefore {
				t.Errorf("the failed load changed an answer")
			}
		})
	}
}
