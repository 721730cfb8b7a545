package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v82/github"
)

// client builds a go-github client for the configured base URL and token.
// The token is only ever handed to go-github; it is never logged.
func (r *Reader) client() (*gh.Client, error) {
	raw, err := r.env.ReadFile(r.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("github: read token file: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return nil, fmt.Errorf("github: token file %s is empty", r.TokenFile)
	}
	// A stalled connection must not hang a sync whose context has no deadline.
	c := gh.NewClient(&http.Client{Timeout: 60 * time.Second}).WithAuthToken(token)
	if r.BaseURL != "" {
		u, err := url.Parse(r.BaseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("github: option url: %q is not an absolute URL", r.BaseURL)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c.BaseURL = u
	}
	return c, nil
}

// fetch reads every endpoint of the export from the live API, following
// pagination. Read-only calls only.
func (r *Reader) fetch(ctx context.Context) (*Export, error) {
	if r.env.ReadFile == nil {
		return nil, errors.New("github: no ReadFile in connector env")
	}
	c, err := r.client()
	if err != nil {
		return nil, err
	}
	org := r.Org
	ex := &Export{Keys: map[string][]*gh.Key{}}
	if ex.Org, _, err = c.Organizations.Get(ctx, org); err != nil {
		return nil, fmt.Errorf("github: GET /orgs/%s: %w", org, err)
	}
	lo := gh.ListOptions{PerPage: 100}
	for opt := lo; ; {
		page, resp, err := c.Organizations.ListInstallations(ctx, org, &opt)
		if err != nil {
			return nil, fmt.Errorf("github: GET /orgs/%s/installations: %w", org, err)
		}
		ex.Installations = append(ex.Installations, page.Installations...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	for opt := (gh.RepositoryListByOrgOptions{Type: "all", ListOptions: lo}); ; {
		page, resp, err := c.Repositories.ListByOrg(ctx, org, &opt)
		if err != nil {
			return nil, fmt.Errorf("github: GET /orgs/%s/repos: %w", org, err)
		}
		ex.Repos = append(ex.Repos, page...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	for _, repo := range ex.Repos {
		name := repo.GetName()
		for opt := lo; ; {
			page, resp, err := c.Repositories.ListKeys(ctx, org, name, &opt)
			if err != nil {
				return nil, fmt.Errorf("github: GET /repos/%s/%s/keys: %w", org, name, err)
			}
			ex.Keys[name] = append(ex.Keys[name], page...)
			if resp.NextPage == 0 {
				break
			}
			opt.Page = resp.NextPage
		}
	}
	for opt := (gh.ListFineGrainedPATOptions{ListOptions: lo}); ; {
		page, resp, err := c.Organizations.ListFineGrainedPersonalAccessTokens(ctx, org, &opt)
		if unavailable(err) {
			ex.Skipped = append(ex.Skipped, "personal-access-tokens")
			r.env.Logger.Warn("github: endpoint unavailable to this token, skipped", "endpoint", "personal-access-tokens", "org", org, "status", status(err))
			break
		}
		if err != nil {
			return nil, fmt.Errorf("github: GET /orgs/%s/personal-access-tokens: %w", org, err)
		}
		ex.PATs = append(ex.PATs, page...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	for opt := (gh.CredentialAuthorizationsListOptions{ListOptions: lo}); ; {
		page, resp, err := c.Organizations.ListCredentialAuthorizations(ctx, org, &opt)
		if unavailable(err) {
			ex.Skipped = append(ex.Skipped, "credential-authorizations")
			r.env.Logger.Warn("github: endpoint unavailable to this org, skipped", "endpoint", "credential-authorizations", "org", org, "status", status(err))
			break
		}
		if err != nil {
			return nil, fmt.Errorf("github: GET /orgs/%s/credential-authorizations: %w", org, err)
		}
		ex.CredAuths = append(ex.CredAuths, page...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	for opt := lo; ; {
		page, resp, err := c.Actions.ListOrgSecrets(ctx, org, &opt)
		if err != nil {
			return nil, fmt.Errorf("github: GET /orgs/%s/actions/secrets: %w", org, err)
		}
		ex.Secrets = append(ex.Secrets, page.Secrets...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	for opt := (gh.ListOutsideCollaboratorsOptions{ListOptions: lo}); ; {
		page, resp, err := c.Organizations.ListOutsideCollaborators(ctx, org, &opt)
		if err != nil {
			return nil, fmt.Errorf("github: GET /orgs/%s/outside_collaborators: %w", org, err)
		}
		ex.Outside = append(ex.Outside, page...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return ex, nil
}

// unavailable reports the 403/404 GitHub answers for an endpoint the org
// plan or token type does not offer. Only the two optional endpoints use
// it; everywhere else those statuses fail the read.
func unavailable(err error) bool {
	s := status(err)
	return s == http.StatusNotFound || s == http.StatusForbidden
}

func status(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}
