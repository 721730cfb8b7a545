package ownership

import (
	"context"
	"testing"

	"github.com/steward-oss/steward/connectors"
	_ "github.com/steward-oss/steward/connectors/conjur"
	_ "github.com/steward-oss/steward/connectors/github"
	_ "github.com/steward-oss/steward/connectors/hr"
	_ "github.com/steward-oss/steward/connectors/okta"
	"github.com/steward-oss/steward/graph"
)

// TestOnConnectorOutput runs Infer on what the real connectors emit from
// their test fixtures, so the attribute names the rules read are the ones
// the connectors write.
func TestOnConnectorOutput(t *testing.T) {
	var sgs []*graph.Subgraph
	for _, c := range []struct {
		name string
		opts connectors.Options
	}{
		{"hr", connectors.Options{"from": "../../../connectors/hr/testdata/roster.csv"}},
		{"okta", connectors.Options{"org": "example.okta.com", "from": "../../../connectors/okta/testdata/org"}},
		{"conjur", connectors.Options{"account": "acme", "from": "../../../connectors/conjur/testdata/root.yml"}},
		{"github", connectors.Options{"org": "octokit-fixture-org", "from": "../../../connectors/github/testdata/org"}},
	} {
		r, err := connectors.New(c.name, c.opts, connectors.Env{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := r.Read(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sgs = append(sgs, out...)
	}
	out, unresolved := Infer(sgs, []Override{{Identity: "github:octokit-fixture-org:pat/98716", OwnerEmail: "erin@example.com",
		SetBy: "carol@example.com", SetAt: setAt, Reason: "release-bot belongs to platform"}})
	if err := out.Validate(); err != nil {
		t.Fatal(err)
	}
	owners := map[string]graph.Edge{}
	for _, e := range out.Edges {
		owners[e.To] = e
	}
	tests := []struct {
		name, target, owner, rule string
	}{
		{"okta person by login e-mail", "okta:example.okta.com:user/00u1alice0aBcDeFgH1", "human:alice@example.com", RuleLoginEmail},
		{"okta service app profile tag", "okta:example.okta.com:app/0oa1svcapp8Y6Xk0d5d7", "human:dave@example.com", RuleTag},
		{"okta service user manager", "okta:example.okta.com:user/00u3sync00aBcDeFgH3", "human:carol@example.com", RuleManagedBy},
		{"conjur host annotation", "conjur:acme:host/payments/api", "human:alice@example.com", RuleTag},
		{"override on a github PAT", "github:octokit-fixture-org:pat/98716", "human:erin@example.com", RuleOverride},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := owners[tt.target]
			if tt.owner == "" {
				if ok {
					t.Fatalf("unexpected owner %+v", e)
				}
				return
			}
			if !ok || e.From != tt.owner || e.Attrs[AttrRule] != tt.rule {
				t.Fatalf("got %+v, want %s by %s", e, tt.owner, tt.rule)
			}
		})
	}
	t.Run("github login without e-mail is reported", func(t *testing.T) {
		for _, u := range unresolved {
			if u.Target == "github:octokit-fixture-org:deploy_key/101" && u.Rule == RuleInstalledBy && u.Hint == "octokit-fixture-user-a" {
				return
			}
		}
		t.Errorf("installed_by octokit-fixture-user-a not reported: %+v", unresolved)
	})
}
