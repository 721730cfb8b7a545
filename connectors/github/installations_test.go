package github

import (
	"testing"

	gh "github.com/google/go-github/v82/github"

	"github.com/steward-oss/steward/graph"
)

// Issue 13 item 7: installations are told apart by their installation
// id. Two installations of apps whose slug the export leaves empty and
// whose app id is the same (as GET /app/installations lists one app's
// installations) are two nodes, not one.
func TestInstallationsWithoutSlugStayApart(t *testing.T) {
	sel := "selected"
	ex := &Export{Installations: []*gh.Installation{
		{ID: gh.Ptr(int64(101)), AppID: gh.Ptr(int64(7)), RepositorySelection: &sel},
		{ID: gh.Ptr(int64(102)), AppID: gh.Ptr(int64(7)), RepositorySelection: &sel},
	}}
	sg, err := Build("acme", ex)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, n := range sg.Nodes {
		if n.Kind == graph.KindOAuthApp {
			seen[n.Attrs["installation_id"]] = n.ID
		}
	}
	if len(seen) != 2 || seen["101"] == seen["102"] {
		t.Errorf("installation nodes %v, want two distinct", seen)
	}
}
