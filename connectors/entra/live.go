package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/steward-oss/steward/connectors"
)

// maxPage bounds one response body; Graph pages are at most a few MB.
const maxPage = 64 << 20

// readLive pages through Microsoft Graph (and ARM when a subscription is
// given) with plain net/http. The Microsoft Graph Go SDK pulls in the Kiota
// runtime and the Azure identity stack for five GET endpoints; a bearer
// token from a file and @odata.nextLink paging is all this needs.
func (r *Reader) readLive(ctx context.Context) (*inventory, error) {
	token, err := r.token(r.tokenFile)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(r.endpoint, "/")
	in := &inventory{}
	for _, path := range []string{
		"/applications?$expand=owners",
		"/servicePrincipals",
		"/roleManagement/directory/roleDefinitions",
		"/roleManagement/directory/roleAssignments?$expand=principal",
	} {
		if err := r.pages(ctx, base, base+path, token, in); err != nil {
			return nil, err
		}
	}
	sps := append([]servicePrincipal(nil), in.sps...)
	for _, sp := range sps {
		u := base + "/servicePrincipals/" + url.PathEscape(sp.ID) + "/appRoleAssignments"
		if err := r.pages(ctx, base, u, token, in); err != nil {
			return nil, err
		}
	}
	if r.subscription == "" {
		return in, nil
	}
	armToken, err := r.token(r.armTokenFile)
	if err != nil {
		return nil, err
	}
	arm := strings.TrimRight(r.armEndpoint, "/")
	prov := arm + "/subscriptions/" + url.PathEscape(r.subscription) + "/providers/Microsoft.Authorization/"
	for _, what := range []string{"roleDefinitions", "roleAssignments"} {
		if err := r.pages(ctx, arm, prov+what+"?api-version=2022-04-01", armToken, in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (r *Reader) token(path string) (string, error) {
	t, err := connectors.ReadToken(r.readFile, path)
	if err != nil {
		return "", fmt.Errorf("entra: %w", err)
	}
	return t, nil
}

// pages GETs u and every @odata.nextLink / nextLink after it. A next link
// must stay on the base URL's host, so the token is never sent elsewhere.
func (r *Reader) pages(ctx context.Context, base, u, token string, in *inventory) error {
	baseURL, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("entra: endpoint %q: %w", base, err)
	}
	for u != "" {
		next, err := url.Parse(u)
		if err != nil {
			return fmt.Errorf("entra: next link: %w", err)
		}
		if next.Scheme != baseURL.Scheme || next.Host != baseURL.Host {
			return fmt.Errorf("entra: next link %s://%s leaves %s://%s", next.Scheme, next.Host, baseURL.Scheme, baseURL.Host)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return fmt.Errorf("entra: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		resp, err := r.client.Do(req)
		if err != nil {
			return fmt.Errorf("entra: GET %s: %w", next.Path, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("entra: GET %s: %w", next.Path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("entra: GET %s: %s%s", next.Path, resp.Status, apiError(body))
		}
		if u, err = in.addDocument("GET "+next.Path, body); err != nil {
			return err
		}
	}
	return nil
}

// apiError extracts the code and message of a Graph/ARM error body.
func apiError(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return ""
	}
	return ": " + e.Error.Code + ": " + e.Error.Message
}
