package planner

import (
	"strings"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
)

// fakeResolver knows a fixed set of nodes by lower-case name.
type fakeResolver map[string][]Candidate

func (f fakeResolver) Candidates(name string) []Candidate { return f[strings.ToLower(name)] }

func TestResolveEntity(t *testing.T) {
	r := fakeResolver{
		"terraform": {{ID: "aws:1:user/terraform", Environment: "prod", Account: "aws:111111111111"}},
		"terraform-apply": {
			{ID: "aws:1:role/terraform-apply", Environment: "prod", Account: "aws:111111111111"},
			{ID: "aws:2:role/terraform-apply", Environment: "staging", Account: "aws:222222222222"},
		},
	}
	tests := []struct {
		name, question, want string
	}{
		{"exact", "what can terraform access", "aws:1:user/terraform"},
		{"kind noun after", "what can the terraform user access", "aws:1:user/terraform"},
		{"kind noun before", "what can service account terraform access", "aws:1:user/terraform"},
		{"environment narrows", "who can assume terraform-apply in staging", "aws:2:role/terraform-apply"},
		{"environment phrase", "who can assume terraform-apply in the prod account", "aws:1:role/terraform-apply"},
		{"arn", "what can arn:aws:iam::111111111111:user/terraform access", "aws:1:user/terraform"},
		// Ambiguous and misspelt names stay as written, so the executor
		// answers with the candidates or did-you-mean suggestions.
		{"ambiguous", "who can assume terraform-apply", "terraform-apply"},
		{"misspelt", "what can terrafrom access", "terrafrom"},
		{"environment matches none", "who can assume terraform-apply in dev", "terraform-apply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanWith(tt.question, nil, Options{Resolver: r})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			switch {
			case p.Reach != nil:
				got = p.Reach.From
			case p.WhoCan != nil:
				got = p.WhoCan.Resource
			}
			if got != tt.want {
				t.Fatalf("resolved to %q, want %q (plan %s)", got, tt.want, js(p))
			}
		})
	}
}

func TestIndexResolver(t *testing.T) {
	ix := graph.Build(demo.Generate(demo.Config{Seed: 1, Size: 200}))
	r := IndexResolver(ix)
	tests := []struct {
		name string
		want []string // candidate id: environment
	}{
		{"terraform", []string{"aws:111111111111:user/terraform:prod"}},
		{"TERRAFORM", []string{"aws:111111111111:user/terraform:prod"}},
		{"aws:111111111111:user/terraform", []string{"aws:111111111111:user/terraform:prod"}},
		{"terraform-apply", []string{"aws:111111111111:role/terraform-apply:prod", "aws:222222222222:role/terraform-apply:staging", "aws:333333333333:role/terraform-apply:dev"}},
		{"terrafrom", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range r.Candidates(tt.name) {
				got = append(got, c.ID+":"+c.Environment)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestTypeNoun: a type noun next to a who-can resource restricts it to a
// node of that type; without one, or when the name is ambiguous or of
// another type, the resource stays a name (matched as before).
func TestTypeNoun(t *testing.T) {
	ix := graph.Build(demo.Generate(demo.Config{Seed: 1, Size: 2000}))
	o := Options{Resolver: IndexResolver(ix)}
	tests := []struct {
		question, want string
	}{
		// f104: the deploy-scim-sync roles contain the name but are not the repo.
		{"who has write access to the scim-sync repo", "github:acme:repo/scim-sync"},
		{"who can write to the ledger repository", "github:acme:repo/ledger"},
		{"who can read the acme-prod-scim-sync bucket", "aws:111111111111:s3/acme-prod-scim-sync"},
		{"who can read bucket acme-prod-scim-sync", "aws:111111111111:s3/acme-prod-scim-sync"},
		// Two clusters have an argocd namespace: ambiguous, left as written.
		{"who can write to the argocd namespace", "argocd"},
		// No bucket is called scim-sync: the name is matched as written.
		{"who can read the scim-sync bucket", "scim-sync"},
		// No type noun: unchanged.
		{"who has write access to scim-sync", "scim-sync"},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			p, err := PlanWith(tt.question, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			if p.WhoCan == nil || p.WhoCan.Resource != tt.want {
				t.Fatalf("plan %s, want who_can.resource %q", js(p), tt.want)
			}
		})
	}
}
