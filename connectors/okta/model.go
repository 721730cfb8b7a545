package okta

import (
	"context"
	"fmt"
	"time"
)

// The Okta API objects this connector reads, limited to the fields it
// uses. Okta writes timestamps as RFC 3339 with milliseconds, or null.

type app struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Label       string         `json:"label"`
	Status      string         `json:"status"`
	SignOnMode  string         `json:"signOnMode"`
	Created     time.Time      `json:"created"`
	LastUpdated time.Time      `json:"lastUpdated"`
	Profile     map[string]any `json:"profile"`
	Credentials struct {
		OAuthClient struct {
			ClientID   string `json:"client_id"`
			AuthMethod string `json:"token_endpoint_auth_method"`
		} `json:"oauthClient"`
	} `json:"credentials"`
	Settings struct {
		OAuthClient struct {
			GrantTypes      []string `json:"grant_types"`
			ApplicationType string   `json:"application_type"`
		} `json:"oauthClient"`
		Notes struct {
			Admin string `json:"admin"`
		} `json:"notes"`
	} `json:"settings"`
}

type user struct {
	ID              string         `json:"id"`
	Status          string         `json:"status"`
	Created         time.Time      `json:"created"`
	LastLogin       time.Time      `json:"lastLogin"`
	PasswordChanged time.Time      `json:"passwordChanged"`
	Profile         map[string]any `json:"profile"`
}

type group struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created time.Time `json:"created"`
	Profile struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"profile"`
}

type apiToken struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	UserID      string    `json:"userId"`
	ClientName  string    `json:"clientName"`
	TokenWindow string    `json:"tokenWindow"`
	Created     time.Time `json:"created"`
	LastUpdated time.Time `json:"lastUpdated"`
	ExpiresAt   time.Time `json:"expiresAt"`
	Network     struct {
		Connection string   `json:"connection"`
		Include    []string `json:"include"`
		Exclude    []string `json:"exclude"`
	} `json:"network"`
}

type role struct {
	ID             string    `json:"id"`
	Label          string    `json:"label"`
	Type           string    `json:"type"`
	Status         string    `json:"status"`
	AssignmentType string    `json:"assignmentType"`
	Created        time.Time `json:"created"`
	CustomRole     string    `json:"role"`         // custom role id, for type CUSTOM
	ResourceSet    string    `json:"resource-set"` // custom role scope
}

type appGrant struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	ScopeID string    `json:"scopeId"`
	Created time.Time `json:"created"`
}

// export is everything read from one org.
type export struct {
	apps       []app
	users      []user
	groups     []group
	tokens     []apiToken
	members    map[string][]user     // group id -> users
	userRoles  map[string][]role     // user id -> roles
	groupRoles map[string][]role     // group id -> roles
	grants     map[string][]appGrant // app id -> granted Okta API scopes
}

// load reads every endpoint from src. Per-object endpoints (members,
// roles, grants) are read for every object the list endpoints returned.
func load(ctx context.Context, src source) (*export, error) {
	ex := &export{members: map[string][]user{}, userRoles: map[string][]role{}, groupRoles: map[string][]role{}, grants: map[string][]appGrant{}}
	var (
		err   error
		found [4]bool
	)
	if ex.apps, found[0], err = list[app](ctx, src, "/api/v1/apps"); err != nil {
		return nil, err
	}
	if ex.users, found[1], err = list[user](ctx, src, "/api/v1/users"); err != nil {
		return nil, err
	}
	if ex.groups, found[2], err = list[group](ctx, src, "/api/v1/groups"); err != nil {
		return nil, err
	}
	if ex.tokens, found[3], err = list[apiToken](ctx, src, "/api/v1/api-tokens"); err != nil {
		return nil, err
	}
	if found == [4]bool{} {
		return nil, fmt.Errorf("okta: none of apps, users, groups, api-tokens was found (see connectors/okta/README.md)")
	}
	for _, g := range ex.groups {
		if ex.members[g.ID], _, err = list[user](ctx, src, "/api/v1/groups/"+g.ID+"/users"); err != nil {
			return nil, err
		}
		if ex.groupRoles[g.ID], _, err = list[role](ctx, src, "/api/v1/groups/"+g.ID+"/roles"); err != nil {
			return nil, err
		}
	}
	for _, u := range ex.users {
		if ex.userRoles[u.ID], _, err = list[role](ctx, src, "/api/v1/users/"+u.ID+"/roles"); err != nil {
			return nil, err
		}
	}
	for _, a := range ex.apps {
		if serviceApp(a) {
			if ex.grants[a.ID], _, err = list[appGrant](ctx, src, "/api/v1/apps/"+a.ID+"/grants"); err != nil {
				return nil, err
			}
		}
	}
	return ex, nil
}
