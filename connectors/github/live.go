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

	"github.com/steward-oss/steward/connectors"
)

// client builds a go-github client for the configured base URL and token.
// The token is only ever handed to go-github; it is never logged.
func (r *Reader) client() (*gh.Client, error) {
	token, err := connectors.ReadToken(r.env.ReadFile, r.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
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
	inst := lo
	if ex.Installations, err = allPages(&inst, func() ([]*gh.Installation, *gh.Response, error) {
		page, resp, err := c.Organizations.ListInstallations(ctx, org, &inst)
		if err != nil {
			return nil, resp, err
		}
		return page.Installations, resp, nil
	}); err != nil {
		return nil, fmt.Errorf("github: GET /orgs/%s/installations: %w", org, err)
	}
	repos := gh.RepositoryListByOrgOptions{Type: "all", ListOptions: lo}
	if ex.Repos, err = allPages(&repos.ListOptions, func() ([]*gh.Repository, *gh.Response, error) {
		return c.Repositories.ListByOrg(ctx, org, &repos)
	}); err != nil {
		return nil, fmt.Errorf("github: GET /orgs/%s/repos: %w", org, err)
	}
	for _, repo := range ex.Repos {
		name := repo.GetName()
		keys := lo
		if ex.Keys[name], err = allPages(&keys, func() ([]*gh.Key, *gh.Response, error) {
			return c.Repositories.ListKeys(ctx, org, name, &keys)
		}); err != nil {
			return nil, fmt.Errorf("github: GET /repos/%s/%s/keys: %w", org, name, err)
		}
	}
	pats := gh.ListFineGrainedPATOptions{ListOptions: lo}
	ex.PATs, err = allPages(&pats.ListOptions, func() ([]*gh.PersonalAccessToken, *gh.Response, error) {
		return c.Organizations.ListFineGrainedPersonalAccessTokens(ctx, org, &pats)
	})
	if unavailable(err) {
		ex.Skipped = append(ex.Skipped, "personal-access-tokens")
		r.env.Logger.Warn("github: endpoint unavailable to this token, skipped", "endpoint", "personal-access-tokens", "org", org, "status", status(err))
	} else if err != nil {
		return nil, fmt.Errorf("github: GET /orgs/%s/personal-access-tokens: %w", org, err)
	}
	auths := gh.CredentialAuthorizationsListOptions{ListOptions: lo}
	ex.CredAuths, err = allPages(&auths.ListOptions, func() ([]*gh.CredentialAuthorization, *gh.Response, error) {
		return c.Organizations.ListCredentialAuthorizations(ctx, org, &auths)
	})
	if unavailable(err) {
		ex.Skipped = append(ex.Skipped, "credential-authorizations")
		r.env.Logger.Warn("github: endpoint unavailable to this org, skipped", "endpoint", "credential-authorizations", "org", org, "status", status(err))
	} else if err != nil {
		return nil, fmt.Errorf("github: GET /orgs/%s/credential-authorizations: %w", org, err)
	}
	secrets := lo
	if ex.Secrets, err = allPages(&secrets, func() ([]*gh.Secret, *gh.Response, error) {
		page, resp, err := c.Actions.ListOrgSecrets(ctx, org, &secrets)
		if err != nil {
			return nil, resp, err
		}
		return page.Secrets, resp, nil
	}); err != nil {
		return nil, fmt.Errorf("github: GET /orgs/%s/actions/secrets: %w", org, err)
	}
	outside := gh.ListOutsideCollaboratorsOptions{ListOptions: lo}
	if ex.Outside, err = allPages(&outside.ListOptions, func() ([]*gh.User, *gh.Response, error) {
		return c.Organizations.ListOutsideCollaborators(ctx, org, &outside)
	}); err != nil {
		return nil, fmt.Errorf("github: GET /orgs/%s/outside_collaborators: %w", org, err)
	}
	return ex, nil
}

// allPages calls list for the first page and then for every next page
// GitHub names (setting opt.Page), and returns the items of all of them;
// on an error, those of the pages read before it.
func allPages[T any](opt *gh.ListOptions, list func() ([]T, *gh.Response, error)) ([]T, error) {
	var out []T
	for {
		page, resp, err := list()
		if err != nil {
			return out, err
		}
		out = append(out, page...)
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
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
