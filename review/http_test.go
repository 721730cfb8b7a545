package review

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/internal/testgraph"
	"github.com/steward-oss/steward/server"
)

func TestHTTPRoutes(t *testing.T) {
	fx := newFixture(t)
	in, err := fx.svc.Launch(context.Background(), campaign(t), carl)
	if err != nil {
		t.Fatal(err)
	}
	etl := itemByName(t, in, "svc_etl")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Key names stand for who the key acts as; a principal with an
	// e-mail may decide, a bare key may read.
	keys := map[string]string{"alice@example.com": config.HashKey("k-alice"), "reporting": config.HashKey("k-bot"), "tess@example.com": config.HashKey("k-tess")}
	srv := server.New(server.Config{KeyHashes: keys, Logger: quiet, Graph: testgraph.NewSource(fx.ix),
		Reviews: NewAPI(fx.svc, quiet).Handlers()})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	tests := []struct {
		name, method, path, key, body string
		code                          int
		want                          string
	}{
		{"no key", "GET", "/v1/reviews", "", "", 401, ""},
		{"list", "GET", "/v1/reviews", "k-bot", "", 200, `"campaign":"pg-admins"`},
		{"get", "GET", "/v1/reviews/" + in.ID, "k-bot", "", 200, `"svc_orphan"`},
		{"unknown", "GET", "/v1/reviews/nope", "k-bot", "", 404, "not_found"},
		{"html report", "GET", "/v1/reviews/" + in.ID + "/report?format=html", "k-bot", "", 200, "Access review evidence report"},
		{"csv report", "GET", "/v1/reviews/" + in.ID + "/report?format=csv", "k-bot", "", 200, "campaign,item,identity"},
		{"bad format", "GET", "/v1/reviews/" + in.ID + "/report?format=pdf", "k-bot", "", 400, "format"},
		{"a key is not a person", "POST", "/v1/reviews/" + in.ID + "/items/" + etl.ID + "/decision", "k-bot", `{"decision":"keep","justification":"x"}`, 403, "principal_required"},
		{"not the reviewer", "POST", "/v1/reviews/" + in.ID + "/items/" + etl.ID + "/decision", "k-tess", `{"decision":"keep","justification":"x"}`, 403, ErrNotReviewer.Error()},
		{"justification", "POST", "/v1/reviews/" + in.ID + "/items/" + etl.ID + "/decision", "k-alice", `{"decision":"keep"}`, 400, "justification_required"},
		{"keep", "POST", "/v1/reviews/" + in.ID + "/items/" + etl.ID + "/decision", "k-alice", `{"decision":"keep","justification":"runs the nightly load","until":"2027-01-15"}`, 200, `"outcome":"kept"`},
		{"twice", "POST", "/v1/reviews/" + in.ID + "/items/" + etl.ID + "/decision", "k-alice", `{"decision":"revoke"}`, 409, ErrAlreadyDecided.Error()},
		{"launch bad campaign", "POST", "/v1/reviews", "k-bot", "name: x\nscope: {question: q}\nreviewers: [boss]\n", 400, "line 3"},
		{"launch", "POST", "/v1/reviews", "k-bot", `{"name":"adhoc","scope":{"plan":{"version":1,"ids":["postgres:orders:role/svc_reader"]}},"reviewers":["owner"]}`, 201, `"launched_by":"api:reporting"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, hs.URL+tt.path, strings.NewReader(tt.body))
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.code || !strings.Contains(string(b), tt.want) {
				t.Fatalf("%d %s, want %d with %q", res.StatusCode, b, tt.code, tt.want)
			}
		})
	}
}

func TestOpenAPIDocumentsReviewRoutes(t *testing.T) {
	fx := newFixture(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := server.New(server.Config{KeyHashes: map[string]string{"k": config.HashKey("k")}, Logger: quiet, Graph: testgraph.NewSource(fx.ix),
		Reviews: NewAPI(fx.svc, quiet).Handlers()})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	req, _ := http.NewRequest("GET", hs.URL+"/v1/openapi.json", nil)
	req.Header.Set("Authorization", "Bearer k")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range srv.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(path, "/v1/reviews") {
			continue
		}
		n++
		p := strings.NewReplacer(":id", "{id}", ":item", "{item}").Replace(path)
		if doc.Paths[p][strings.ToLower(method)] == nil {
			t.Errorf("%s %s is not in openapi.json", method, p)
		}
	}
	if n != 5 {
		t.Fatalf("%d review routes", n)
	}
}
