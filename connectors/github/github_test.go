package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

const org = "octokit-fixture-org"

func fileReader(t *testing.T, dir string) connectors.Reader {
	t.Helper()
	return connectortest.New(t, "github", connectors.Options{"org": org, "from": dir}, connectors.Env{})
}

func TestExportDir(t *testing.T) {
	sgs := connectortest.Suite(t, func() connectors.Reader { return fileReader(t, "testdata/org") }, nil)
	src := "github:" + org
	if sgs[0].Source != src {
		t.Fatalf("source %q", sgs[0].Source)
	}

	nodes := []struct {
		id      string
		kind    graph.Kind
		subtype string
		status  string
		attrs   map[string]string
	}{
		{src, graph.KindAccount, "github_org", "", map[string]string{"default_repository_permission": "read", "two_factor_requirement_enabled": "false"}},
		{src + ":app/octoapp", graph.KindOAuthApp, SubtypeGitHubApp, graph.StatusDisabled, map[string]string{"installation_id": "16598467", "suspended_by": "Codertocat"}},
		{src + ":app/app-29310", graph.KindOAuthApp, SubtypeGitHubApp, graph.StatusActive, map[string]string{"installation_id": "957387", "repository_selection": "all"}},
		{src + ":repo/Hello-World", graph.KindResource, SubtypeRepo, "", map[string]string{"visibility": "public"}},
		{src + ":repo/legacy-api", graph.KindResource, SubtypeRepo, "", map[string]string{"archived": "true", "visibility": "internal"}},
		{src + ":deploy_key/100", graph.KindCredential, SubtypeDeployKey, graph.StatusActive, map[string]string{"read_only": "true", "repo": "Hello-World"}},
		{src + ":deploy_key/101", graph.KindCredential, SubtypeDeployKey, graph.StatusActive, map[string]string{"read_only": "false",
			AttrSSHFingerprint: "SHA256:zroTdDbp2/QoFeQltVwiaoXB6PlA0BtAZG5HcQwU52I", graph.AttrInstalledBy: "octokit-fixture-user-a"}},
		{src + ":pat/98716", graph.KindCredential, SubtypePAT, graph.StatusActive, map[string]string{"pat_kind": "fine_grained", "owner": "octokit-fixture-user-a"}},
		{src + ":pat/98717", graph.KindCredential, SubtypePAT, graph.StatusDisabled, map[string]string{"token_expired": "true"}},
		{src + ":credential/161195", graph.KindCredential, SubtypePAT, graph.StatusActive, map[string]string{"pat_kind": "classic", graph.AttrKeyIDMasked: "…5678"}},
		{src + ":credential/161196", graph.KindCredential, SubtypeSSHKey, graph.StatusActive, map[string]string{AttrSSHFingerprint: "jklmnop12345678"}},
		{src + ":actions_secret/DEPLOY_TOKEN", graph.KindResource, SubtypeActionsSecret, "", map[string]string{"visibility": "selected"}},
		{src + ":user/renovate[bot]", graph.KindBot, "", graph.StatusActive, map[string]string{"outside_collaborator": "true", "type": "Bot"}},
		{src + ":user/hacktocat", graph.KindUser, "", graph.StatusActive, map[string]string{"outside_collaborator": "true"}},
		{src + ":user/octokit-fixture-user-a", graph.KindUser, "", graph.StatusActive, nil},
	}
	for _, tt := range nodes {
		t.Run("node "+tt.id, func(t *testing.T) {
			n := connectortest.Find(t, sgs, tt.id)
			if n.Kind != tt.kind || n.Subtype != tt.subtype || n.Status != tt.status {
				t.Errorf("kind/subtype/status = %s/%s/%s", n.Kind, n.Subtype, n.Status)
			}
			connectortest.HasAttrs(t, n.Attrs, tt.attrs)
		})
	}

	edges := []struct {
		name          string
		kind          graph.EdgeKind
		from, to      string
		action, scope string
		priv          graph.Privilege
	}{
		{"suspended app reads contents", graph.EdgeGrants, src + ":app/octoapp", src, "contents", "all", graph.PrivWrite},
		{"suspended app org admin read", graph.EdgeGrants, src + ":app/octoapp", src, "organization_administration", "all", graph.PrivRead},
		{"administration write on all repos is admin", graph.EdgeGrants, src + ":app/app-29310", src, "administration", "all", graph.PrivAdmin},
		{"read-only deploy key", graph.EdgeGrants, src + ":deploy_key/100", src + ":repo/Hello-World", "contents:read", "Hello-World", graph.PrivRead},
		{"write deploy key", graph.EdgeGrants, src + ":deploy_key/101", src + ":repo/deploy-infra", "contents:write", "deploy-infra", graph.PrivWrite},
		{"PAT admin on all repos", graph.EdgeGrants, src + ":pat/98716", src, "administration", "all", graph.PrivAdmin},
		{"PAT members read", graph.EdgeGrants, src + ":pat/98716", src, "members", "org", graph.PrivRead},
		{"PAT org administration", graph.EdgeGrants, src + ":pat/98717", src, "organization_administration", "org", graph.PrivAdmin},
		{"PAT subset repo", graph.EdgeGrants, src + ":pat/98717", src, "metadata", "subset", graph.PrivRead},
		{"classic admin:org", graph.EdgeGrants, src + ":credential/161195", src, "admin:org", "all", graph.PrivAdmin},
		{"classic repo", graph.EdgeGrants, src + ":credential/161195", src, "repo", "all", graph.PrivWrite},
		{"PAT held by owner", graph.EdgeHasCredential, src + ":user/octokit-fixture-user-a", src + ":pat/98716", "", "", ""},
		{"classic PAT held", graph.EdgeHasCredential, src + ":user/octokit-fixture-user-a", src + ":credential/161195", "", "", ""},
		{"deploy key creator", graph.EdgeCreatedBy, src + ":deploy_key/101", src + ":user/octokit-fixture-user-a", "", "", ""},
		{"app in org", graph.EdgeInAccount, src + ":app/octoapp", src, "", "", ""},
	}
	for _, tt := range edges {
		t.Run(tt.name, func(t *testing.T) {
			var hit []graph.Edge
			for _, e := range connectortest.Edges(sgs, tt.kind, tt.from, tt.to) {
				if e.Action == tt.action && e.Resource == tt.scope {
					hit = append(hit, e)
				}
			}
			if len(hit) != 1 {
				t.Fatalf("want one %s %s -> %s %s/%s, got %d", tt.kind, tt.from, tt.to, tt.action, tt.scope, len(hit))
			}
			if hit[0].Privilege != tt.priv {
				t.Errorf("privilege %q, want %q", hit[0].Privilege, tt.priv)
			}
		})
	}
	t.Run("every grant has a privilege", func(t *testing.T) {
		for _, e := range connectortest.Edges(sgs, graph.EdgeGrants, "", "") {
			if e.Privilege == "" {
				t.Errorf("grant %s -> %s %s has no privilege", e.From, e.To, e.Action)
			}
		}
	})
	t.Run("epoch and offset timestamps", func(t *testing.T) {
		if got := connectortest.Find(t, sgs, src+":app/app-29310").CreatedAt.Unix(); got != 1557933591 {
			t.Errorf("epoch created_at = %d", got)
		}
		if got := connectortest.Find(t, sgs, src+":app/octoapp").CreatedAt.Format("2006-01-02T15:04:05Z07:00"); got != "2021-04-29T02:32:21Z" {
			t.Errorf("offset created_at = %s", got)
		}
	})
}

// server serves a recorded export directory the way api.github.com does:
// same paths, bearer auth, and Link headers for the recorded pages.
func server(t *testing.T, dir, token string, refuse map[string]int) *httptest.Server {
	t.Helper()
	routes := map[string]string{
		"/orgs/" + org:                                fileOrg,
		"/orgs/" + org + "/installations":             fileInstallations,
		"/orgs/" + org + "/repos":                     fileRepos,
		"/orgs/" + org + "/personal-access-tokens":    filePATs,
		"/orgs/" + org + "/credential-authorizations": fileCredAuths,
		"/orgs/" + org + "/actions/secrets":           fileSecrets,
		"/orgs/" + org + "/outside_collaborators":     fileOutside,
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("non-GET call %s %s", r.Method, r.URL.Path)
			http.Error(w, "read-only", http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		if code, ok := refuse[r.URL.Path]; ok {
			w.WriteHeader(code)
			fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
			return
		}
		file, ok := routes[r.URL.Path]
		if !ok && strings.HasPrefix(r.URL.Path, "/repos/"+org+"/") && strings.HasSuffix(r.URL.Path, "/keys") {
			repo := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/repos/"+org+"/"), "/keys")
			file, ok = filepath.Join(dirKeys, repo+".json"), true
			if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, "[]")
				return
			}
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		page := 1
		if p := r.URL.Query().Get("page"); p != "" {
			page, _ = strconv.Atoi(p)
		}
		pages, err := pageFiles(dir, file)
		if err != nil || page < 1 || page > len(pages) {
			http.NotFound(w, r)
			return
		}
		if page < len(pages) {
			next := *r.URL
			q := next.Query()
			q.Set("page", strconv.Itoa(page+1))
			next.RawQuery = q.Encode()
			w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, srv.URL, next.RequestURI()))
		}
		body, err := os.ReadFile(pages[page-1])
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func liveReader(t *testing.T, url string) connectors.Reader {
	t.Helper()
	tokenFile := connectortest.WriteTemp(t, "token", "ghs_fixturetoken000000000000000000000\n")
	r, err := connectors.New("github", connectors.Options{"org": org, "live": "true", "url": url + "/", "token-file": tokenFile},
		connectors.Env{ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLive(t *testing.T) {
	const token = "ghs_fixturetoken000000000000000000000"
	t.Run("same graph as the recorded export", func(t *testing.T) {
		srv := server(t, "testdata/org", token, nil)
		live := connectortest.Suite(t, func() connectors.Reader { return liveReader(t, srv.URL) }, []string{token})
		files := connectortest.Read(t, fileReader(t, "testdata/org"))
		connectortest.SameGraphs(t, live, files)
	})
	t.Run("unavailable optional endpoints are skipped and recorded", func(t *testing.T) {
		srv := server(t, "testdata/org", token, map[string]int{
			"/orgs/" + org + "/credential-authorizations": http.StatusNotFound,
			"/orgs/" + org + "/personal-access-tokens":    http.StatusForbidden,
		})
		sgs := connectortest.Read(t, liveReader(t, srv.URL))
		acct := connectortest.Find(t, sgs, "github:"+org)
		if acct.Attrs["skipped_endpoints"] != "personal-access-tokens,credential-authorizations" {
			t.Errorf("skipped_endpoints = %q", acct.Attrs["skipped_endpoints"])
		}
		for _, n := range sgs[0].Nodes {
			if n.Subtype == SubtypePAT {
				t.Errorf("PAT %s read from a refused endpoint", n.ID)
			}
		}
	})
	t.Run("other refusals fail the read", func(t *testing.T) {
		srv := server(t, "testdata/org", token, map[string]int{"/orgs/" + org + "/actions/secrets": http.StatusForbidden})
		connectortest.Bad(t, liveReader(t, srv.URL), "actions/secrets", "403")
	})
	t.Run("bad token", func(t *testing.T) {
		srv := server(t, "testdata/org", "another-token", nil)
		_, err := liveReader(t, srv.URL).Read(context.Background())
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), token) {
			t.Fatal("error leaks the token")
		}
	})
}

func TestBadInput(t *testing.T) {
	connectortest.BadFiles(t, fixture, []connectortest.Broken{
		{Name: "truncated", Files: map[string]string{"installations.json": `{"total_count": 1, "installations": [{"id": 1, "app_slug": "x"`},
			Want: []string{"installations.json", "line 1", "unexpected end"}},
		{Name: "wrong type", Files: map[string]string{"personal-access-tokens.json": "[\n {\"token_id\": \"seven\"}\n]"},
			Want: []string{"personal-access-tokens.json", "at [0].token_id"}},
		{Name: "wrong type in wrapped list", Files: map[string]string{"installations.json": `{"total_count": 2, "installations": [{"id": 1, "app_slug": "a"}, {"id": "two"}]}`},
			Want: []string{"installations.json", "at installations[1].id"}},
		{Name: "bad timestamp", Files: map[string]string{"keys/app.json": `[{"id": 5, "read_only": true, "created_at": "last tuesday"}]`},
			Want: []string{"keys/app.json", "at [0].created_at"}},
		{Name: "page gap", Files: map[string]string{"repos.json": "[]", "repos.page3.json": "[]"}, Want: []string{"repos.json", "page 2 missing"}},
		{Name: "page 1 missing", Files: map[string]string{"repos.page2.json": "[]"}, Want: []string{"repos.json", "page 1 missing"}},
		{Name: "bad deploy key", Files: map[string]string{"keys/app.json": `[{"id": 5, "key": "ssh-rsa !!!", "read_only": true}]`},
			Want: []string{"keys/app.json", "deploy key 5", "base64"}},
		{Name: "PAT without owner", Files: map[string]string{"personal-access-tokens.json": `[{"token_id": 7}]`},
			Want: []string{"personal-access-tokens.json", "[0]", "owner.login"}},
		{Name: "other org", Files: map[string]string{"org.json": `{"login": "someone-else"}`}, Want: []string{"org.json", "someone-else"}},
		{Name: "empty dir", Files: map[string]string{}, Want: []string{"none of the recorded response files"}},
	})
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts connectors.Options
		want string
	}{
		{"neither", connectors.Options{"org": org}, "exactly one"},
		{"both", connectors.Options{"org": org, "from": "x", "live": "true", "token-file": "t"}, "exactly one"},
		{"live without token", connectors.Options{"org": org, "live": "true"}, "token-file"},
		{"bad bool", connectors.Options{"org": org, "live": "yes please"}, "boolean"},
		{"no org", connectors.Options{"from": "x"}, "org"},
	}
	for _, tt := range tests {
		connectortest.Refuses(t, tt.name, "github", tt.opts, connectors.Env{}, tt.want)
	}
}

// TestSharedInstallationSamples runs every installation object GitHub
// publishes in its webhook examples (copied into testdata/webhooks, see
// its README) through the reader, wrapped as a list response.
func TestSharedInstallationSamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/webhooks/octokit-webhooks-installation*.json")
	if len(files) != 5 {
		t.Fatalf("testdata/webhooks: %d installation samples, want 5", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var payload struct {
				Installation json.RawMessage `json:"installation"`
			}
			if err := json.Unmarshal(data, &payload); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			body := `{"total_count": 1, "installations": [` + string(payload.Installation) + `]}`
			if err := os.WriteFile(filepath.Join(dir, fileInstallations), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			sgs := connectortest.Suite(t, func() connectors.Reader { return fileReader(t, dir) }, nil)
			apps := 0
			for _, n := range sgs[0].Nodes {
				if n.Kind == graph.KindOAuthApp {
					apps++
					if n.CreatedAt.IsZero() {
						t.Errorf("%s: created_at not parsed", n.ID)
					}
				}
			}
			if apps != 1 || len(connectortest.Edges(sgs, graph.EdgeGrants, "", "")) < 10 {
				t.Errorf("apps %d, grants %d", apps, len(connectortest.Edges(sgs, graph.EdgeGrants, "", "")))
			}
		})
	}
}
