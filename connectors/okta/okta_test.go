package okta

import (
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

const (
	org = "example.okta.com"
	src = "okta:" + org
)

func fileReader(t *testing.T, dir string) connectors.Reader {
	t.Helper()
	return connectortest.New(t, "okta", connectors.Options{"org": org, "from": dir}, connectors.Env{})
}

func TestExportDir(t *testing.T) {
	sgs := connectortest.Suite(t, func() connectors.Reader { return fileReader(t, "testdata/org") }, nil)
	nodes := []struct {
		id      string
		kind    graph.Kind
		subtype string
		status  string
		attrs   map[string]string
	}{
		{src + ":app/0oa1svcapp8Y6Xk0d5d7", graph.KindOAuthApp, SubtypeServiceApp, graph.StatusActive,
			map[string]string{"client_id": "0oa1svcapp8Y6Xk0d5d7", "token_endpoint_auth_method": "private_key_jwt", graph.AttrManagedBy: "dave@example.com"}},
		{src + ":app/0oa2samlapp0Ab1c2d3", graph.KindOAuthApp, "saml_2_0", graph.StatusActive, nil},
		{src + ":app/0oa3webapp9Zz8y7x6w", graph.KindOAuthApp, "openid_connect", graph.StatusDisabled, map[string]string{"grant_types": "authorization_code,refresh_token"}},
		{src + ":user/00u1alice0aBcDeFgH1", graph.KindUser, "", graph.StatusActive, map[string]string{graph.AttrEmail: "alice@example.com"}},
		{src + ":user/00u2svcci0aBcDeFgH2", graph.KindServiceAccount, "", graph.StatusActive, map[string]string{AttrServiceHint: "login svc-ci@example.com"}},
		{src + ":user/00u3sync00aBcDeFgH3", graph.KindServiceAccount, "", graph.StatusActive,
			map[string]string{AttrServiceHint: "profile.userType=Service", graph.AttrManagedBy: "carol@example.com"}},
		{src + ":user/00u4legacy0BcDeFgH4", graph.KindServiceAccount, "", graph.StatusDisabled, nil},
		{src + ":group/00g1admins0aBcDeFg1", graph.KindGroup, "", graph.StatusActive, map[string]string{"group_type": "OKTA_GROUP"}},
		{src + ":api_token/00Tabcdefg1234567890", graph.KindCredential, SubtypeAPIToken, graph.StatusActive,
			map[string]string{"network_connection": "ZONE", "network_include": "nzowc1U5Jh5xuAK0o0g3", "token_window": "P30D"}},
		{src + ":user/00u9gone000aBcDeFg9", graph.KindUser, "", graph.StatusActive, nil},
		{src + ":role/SUPER_ADMIN", graph.KindRole, "", graph.StatusActive, nil},
		{src + ":role/custom/cr0Yq6IJxGIr0ouum0g3", graph.KindRole, "", graph.StatusActive, map[string]string{"resource_set": "iamoJDFKaJxGIr0oamd9g"}},
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
		name     string
		kind     graph.EdgeKind
		from, to string
		action   string
		priv     graph.Privilege
	}{
		{"super admin role is admin", graph.EdgeGrants, src + ":role/SUPER_ADMIN", src, "SUPER_ADMIN", graph.PrivAdmin},
		{"org admin is write", graph.EdgeGrants, src + ":role/ORG_ADMIN", src, "ORG_ADMIN", graph.PrivWrite},
		{"read-only admin is read", graph.EdgeGrants, src + ":role/READ_ONLY_ADMIN", src, "READ_ONLY_ADMIN", graph.PrivRead},
		{"service user holds super admin", graph.EdgeMemberOf, src + ":user/00u2svcci0aBcDeFgH2", src + ":role/SUPER_ADMIN", "", ""},
		{"group holds org admin", graph.EdgeMemberOf, src + ":group/00g1admins0aBcDeFg1", src + ":role/ORG_ADMIN", "", ""},
		{"group member", graph.EdgeMemberOf, src + ":user/00u3sync00aBcDeFgH3", src + ":group/00g1admins0aBcDeFg1", "", ""},
		{"token held by its user", graph.EdgeHasCredential, src + ":user/00u2svcci0aBcDeFgH2", src + ":api_token/00Tabcdefg1234567890", "", ""},
		{"token of unexported user", graph.EdgeHasCredential, src + ":user/00u9gone000aBcDeFg9", src + ":api_token/00Thijklmn0987654321", "", ""},
		{"service app read scope", graph.EdgeGrants, src + ":app/0oa1svcapp8Y6Xk0d5d7", src, "okta.users.read", graph.PrivRead},
		{"service app manage scope", graph.EdgeGrants, src + ":app/0oa1svcapp8Y6Xk0d5d7", src, "okta.groups.manage", graph.PrivWrite},
	}
	for _, tt := range edges {
		t.Run(tt.name, func(t *testing.T) {
			hit := connectortest.ActionEdges(sgs, tt.kind, tt.from, tt.to, tt.action)
			if len(hit) != 1 || hit[0].Privilege != tt.priv {
				t.Fatalf("got %+v", hit)
			}
		})
	}
	t.Run("revoked grant dropped", func(t *testing.T) {
		for _, e := range connectortest.Edges(sgs, graph.EdgeGrants, src+":app/0oa1svcapp8Y6Xk0d5d7", "") {
			if e.Action == "okta.apps.manage" {
				t.Error("revoked scope grant emitted")
			}
		}
	})
	t.Run("app profile kept as tags", func(t *testing.T) {
		if n := connectortest.Find(t, sgs, src+":app/0oa1svcapp8Y6Xk0d5d7"); n.Tags["owner-email"] != "dave@example.com" {
			t.Errorf("tags %v", n.Tags)
		}
	})
	t.Run("token timestamps", func(t *testing.T) {
		n := connectortest.Find(t, sgs, src+":api_token/00Tabcdefg1234567890")
		if n.ExpiresAt.Format("2006-01-02") != "2025-12-01" || n.CreatedAt.Format("2006-01-02") != "2023-03-01" {
			t.Errorf("created %v expires %v", n.CreatedAt, n.ExpiresAt)
		}
	})
}

// server serves the recorded directory like Okta: SSWS auth, cursor
// pagination with separate Link headers for self and next.
func server(t *testing.T, dir, token string, fail map[string]int) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("non-GET %s %s", r.Method, r.URL.Path)
		}
		if r.Header.Get("Authorization") != "SSWS "+token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oae1","errorCauses":[]}`)
			return
		}
		if code, ok := fail[r.URL.Path]; ok {
			w.Header().Set("X-Rate-Limit-Remaining", "0")
			w.WriteHeader(code)
			fmt.Fprint(w, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"oae2","errorCauses":[]}`)
			return
		}
		pages, err := dirSource(dir).pages(r.Context(), r.URL.Path)
		if err != nil {
			t.Error(err)
		}
		if len(pages) == 0 {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "[]")
			return
		}
		n := 1
		if a := r.URL.Query().Get("after"); a != "" {
			n, _ = strconv.Atoi(strings.TrimPrefix(a, "cursor"))
		}
		if want := map[bool]string{true: "200", false: ""}[pagedWithLimit(r.URL.Path)]; r.URL.Query().Get("limit") != want {
			t.Errorf("%s: limit=%q, want %q", r.URL.Path, r.URL.Query().Get("limit"), want)
		}
		w.Header().Add("Link", fmt.Sprintf(`<%s%s>; rel="self"`, srv.URL, r.URL.RequestURI()))
		if n < len(pages) {
			q := r.URL.Query()
			q.Set("after", fmt.Sprintf("cursor%d", n+1))
			w.Header().Add("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, srv.URL, r.URL.Path, q.Encode()))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(pages[n-1].data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func liveReader(t *testing.T, url, token string) connectors.Reader {
	t.Helper()
	tf := connectortest.WriteTemp(t, "okta-token", token+"\n")
	return connectortest.New(t, "okta", connectors.Options{"org": org, "live": "true", "url": url, "token-file": tf}, connectors.Env{ReadFile: os.ReadFile})
}

func TestLive(t *testing.T) {
	const token = "00EXAMPLEfakeOktaApiToken0000000000000000"
	t.Run("same graph as the recorded export", func(t *testing.T) {
		srv := server(t, "testdata/org", token, nil)
		live := connectortest.Suite(t, func() connectors.Reader { return liveReader(t, srv.URL, token) }, []string{token})
		files := connectortest.Read(t, fileReader(t, "testdata/org"))
		connectortest.SameGraphs(t, live, files)
	})
	t.Run("rate limit fails the read", func(t *testing.T) {
		srv := server(t, "testdata/org", token, map[string]int{"/api/v1/users/00u2svcci0aBcDeFgH2/roles": http.StatusTooManyRequests})
		connectortest.Bad(t, liveReader(t, srv.URL, token), "/api/v1/users/00u2svcci0aBcDeFgH2/roles", "429", "E0000047")
	})
	t.Run("bad token", func(t *testing.T) {
		srv := server(t, "testdata/org", "other", nil)
		r := liveReader(t, srv.URL, token)
		connectortest.Bad(t, r, "401", "E0000011")
		if _, err := r.Read(t.Context()); strings.Contains(err.Error(), token) {
			t.Fatal("error leaks the token")
		}
	})
}

func TestBadInput(t *testing.T) {
	connectortest.BadFiles(t, fixture, []connectortest.Broken{
		{Name: "truncated", Files: map[string]string{"users.json": "[\n  {\"id\": \"00u1\", \"status\": \"ACT"}, Want: []string{"users.json", "line 2", "unexpected end"}},
		{Name: "wrong type", Files: map[string]string{"api-tokens.json": `[{"id": "00T1", "userId": "00u1", "created": 12}]`}, Want: []string{"api-tokens.json", "created"}},
		{Name: "object not array", Files: map[string]string{"groups.json": `{"id": "00g1"}`}, Want: []string{"groups.json", "top level"}},
		{Name: "page gap", Files: map[string]string{"apps.json": "[]", "apps.page3.json": "[]"}, Want: []string{"apps.json", "page 2 missing"}},
		{Name: "token without user", Files: map[string]string{"api-tokens.json": `[{"id": "00T1"}]`}, Want: []string{"api-tokens[0]", "userId"}},
		{Name: "role without type", Files: map[string]string{"users.json": `[{"id": "00u1", "profile": {"login": "a@example.com"}}]`,
			"users/00u1/roles.json": `[{"id": "ra1"}]`}, Want: []string{"users/00u1/roles[0]", "type"}},
		{Name: "bad nested file", Files: map[string]string{"groups.json": `[{"id": "00g1", "profile": {"name": "x"}}]`,
			"groups/00g1/users.json": `[{"id": 5}]`}, Want: []string{filepath.Join("groups", "00g1", "users.json"), "id"}},
		{Name: "empty dir", Files: map[string]string{}, Want: []string{"none of apps"}},
	})
}

func TestServiceHint(t *testing.T) {
	tests := []struct {
		name    string
		profile map[string]any
		want    string
	}{
		{"person", map[string]any{"login": "alice@example.com"}, ""},
		{"userType service", map[string]any{"login": "x@example.com", "userType": "Service"}, "profile.userType=Service"},
		{"svc- login", map[string]any{"login": "svc-deploy@example.com"}, "login svc-deploy@example.com"},
		{"svc inside a word is a person", map[string]any{"login": "svcetlana@example.com"}, ""},
		{"employee type", map[string]any{"login": "bob@example.com", "userType": "Employee"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := serviceHint(user{Profile: tt.profile}); got != tt.want {
				t.Errorf("got %q want %q", got, tt.want)
			}
		})
	}
}
