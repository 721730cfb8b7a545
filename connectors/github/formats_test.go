package github

import (
	"bytes"
	"context"
	"log/slog"
	"sort"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// TestRealFormats loads the two non-recorded formats GitHub data comes
// in (testdata/README.md gives each file's origin): webhook payloads as
// delivered, the event inferred from the payload's shape, and `gh api
// --paginate` output, pages back to back in one file.
func TestRealFormats(t *testing.T) {
	tests := []struct {
		name       string
		dir        string
		apps       []string // installation ids of the github_app nodes
		deployKeys int
		repos      int
		warned     []string // files reported as unrecognised
	}{
		// installation/created and installation_repositories/added carry
		// the same installation (957387): one node. deploy_key/created
		// adds key 100 of Codertocat/Hello-World. member/added and
		// github_app_authorization/revoked hold nothing to load; notes.json
		// is no GitHub payload.
		{"webhook payloads", "testdata/webhook-export", []string{"957387"}, 1, 1, []string{"notes.json"}},
		// gh api --paginate /orgs/ORG/installations: two pages, both
		// installations with an empty app_slug, kept apart; gh api
		// --paginate /orgs/ORG/repos: arrays of 1 and 2 repositories.
		{"gh api --paginate", "testdata/ghapi", []string{"16598467", "957387"}, 0, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			r, err := connectors.New("github", connectors.Options{"org": org, "from": tt.dir},
				connectors.Env{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			sgs, err := r.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var apps []string
			keys, repos := 0, 0
			for _, n := range sgs[0].Nodes {
				switch {
				case n.Kind == graph.KindOAuthApp && n.Subtype == SubtypeGitHubApp:
					apps = append(apps, n.Attrs["installation_id"])
				case n.Subtype == SubtypeDeployKey:
					keys++
				case n.Subtype == SubtypeRepo:
					repos++
				}
			}
			sort.Strings(apps)
			if strings.Join(apps, ",") != strings.Join(tt.apps, ",") {
				t.Errorf("installations %v, want %v", apps, tt.apps)
			}
			if keys != tt.deployKeys {
				t.Errorf("deploy keys %d, want %d", keys, tt.deployKeys)
			}
			if repos != tt.repos {
				t.Errorf("repos %d, want %d", repos, tt.repos)
			}
			if got := strings.Count(logs.String(), "level=WARN"); got != len(tt.warned) {
				t.Errorf("%d warnings, want %d:\n%s", got, len(tt.warned), logs.String())
			}
			for _, w := range tt.warned {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("no warning naming %s:\n%s", w, logs.String())
				}
			}
		})
	}
}
