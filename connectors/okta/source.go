package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/input"
	"github.com/steward-oss/steward/internal/secret"
)

// page is one response body and the name errors use for it (a file path
// or a URL).
type page struct {
	name string
	data []byte
}

// source returns the pages of an Okta list endpoint ("/api/v1/apps").
type source interface {
	pages(ctx context.Context, apiPath string) ([]page, error)
}

// dirSource reads recorded responses: the body of GET /api/v1/<p> is the
// file <dir>/<p>.json, page N > 1 is <p>.pageN.json. A missing file means
// the endpoint was not exported.
type dirSource string

func (d dirSource) pages(_ context.Context, apiPath string) ([]page, error) {
	rel := strings.TrimPrefix(apiPath, "/api/v1/")
	files, err := input.Pages(filepath.Join(string(d), filepath.FromSlash(rel)+".json"))
	if err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	var out []page
	for _, f := range files {
		data, err := input.ReadFile(f, input.JSON)
		if err != nil {
			return nil, fmt.Errorf("okta: %w", err)
		}
		out = append(out, page{f, data})
	}
	return out, nil
}

// client calls the live API. The token goes only into the Authorization
// header; it is never logged or put in an error.
type client struct {
	base  *url.URL
	token secret.Secret
	http  *http.Client
}

func (r *Reader) client() (*client, error) {
	if r.env.ReadFile == nil {
		return nil, errors.New("okta: no ReadFile in connector env")
	}
	tok, err := connectors.ReadToken(r.env.ReadFile, r.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	u, err := url.Parse(r.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("okta: option url: %q is not an absolute URL", r.BaseURL)
	}
	// A stalled connection must not hang a sync whose context has no deadline.
	return &client{base: u, token: secret.New(tok), http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// maxPages bounds a pagination loop against a server that links to
// itself forever.
const maxPages = 100000

func (c *client) pages(ctx context.Context, apiPath string) ([]page, error) {
	u := &url.URL{Path: apiPath}
	if pagedWithLimit(apiPath) {
		u.RawQuery = "limit=200"
	}
	next := c.base.ResolveReference(u)
	var out []page
	for i := 0; next != nil; i++ {
		if i == maxPages {
			return nil, fmt.Errorf("okta: GET %s: more than %d pages", apiPath, maxPages)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("okta: GET %s: %w", apiPath, err)
		}
		req.Header.Set("Authorization", "SSWS "+c.token.Reveal())
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("okta: GET %s: %w", apiPath, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("okta: GET %s: read body: %w", apiPath, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("okta: GET %s: %s%s", apiPath, resp.Status, oktaError(body))
		}
		out = append(out, page{name: "GET " + next.RequestURI(), data: body})
		next, err = nextLink(resp.Header.Values("Link"), next)
		if err != nil {
			return nil, fmt.Errorf("okta: GET %s: %w", apiPath, err)
		}
	}
	return out, nil
}

// pagedWithLimit reports the list endpoints documented to take a limit
// parameter; the others (roles, grants, API tokens) get none rather than
// an unknown parameter.
func pagedWithLimit(apiPath string) bool {
	switch {
	case apiPath == "/api/v1/apps", apiPath == "/api/v1/users", apiPath == "/api/v1/groups":
		return true
	case strings.HasPrefix(apiPath, "/api/v1/groups/") && strings.HasSuffix(apiPath, "/users"):
		return true
	}
	return false
}

var linkRE = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

// nextLink finds rel="next" among Okta's Link headers (it sends "self"
// and "next" as separate headers).
func nextLink(links []string, cur *url.URL) (*url.URL, error) {
	for _, l := range links {
		for _, part := range strings.Split(l, ",") {
			if m := linkRE.FindStringSubmatch(part); m != nil {
				u, err := url.Parse(m[1])
				if err != nil {
					return nil, fmt.Errorf("bad Link header: %w", err)
				}
				return cur.ResolveReference(u), nil
			}
		}
	}
	return nil, nil
}

// oktaError extracts errorCode/errorSummary from an Okta error body.
func oktaError(body []byte) string {
	var e struct{ ErrorCode, ErrorSummary string }
	if json.Unmarshal(body, &e) == nil && e.ErrorCode != "" {
		return fmt.Sprintf(" (%s: %s)", e.ErrorCode, e.ErrorSummary)
	}
	return ""
}

// list decodes every page of apiPath as a JSON array and concatenates.
func list[T any](ctx context.Context, src source, apiPath string) ([]T, bool, error) {
	ps, err := src.pages(ctx, apiPath)
	if err != nil {
		return nil, false, err
	}
	var out []T
	for _, p := range ps {
		var raws []json.RawMessage
		if err := json.Unmarshal(p.data, &raws); err != nil {
			return nil, false, fmt.Errorf("okta: %s: %w", p.name, input.DescribeJSON(p.data, err))
		}
		for i, raw := range raws {
			var item T
			if err := json.Unmarshal(raw, &item); err != nil {
				return nil, false, fmt.Errorf("okta: %s: [%d]%s: %w", p.name, i, input.BadField[T](raw), input.DescribeJSON(raw, err))
			}
			out = append(out, item)
		}
	}
	return out, len(ps) > 0, nil
}
