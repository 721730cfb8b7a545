package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v82/github"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/remediation/action"
)

// Action types the GitHub actuator performs.
const (
	// ActionDisableCredential deletes a deploy key (reversible: Rollback
	// adds the same public key back) or revokes a fine-grained PAT's
	// access to the org (irreversible).
	ActionDisableCredential = action.DisableCredential
	// ActionRevokeGrant removes the repository ParamRepository from a
	// GitHub App installation that has selected repositories.
	ActionRevokeGrant = action.RevokeGrant
)

// Action parameters: the state the approver saw, which Execute re-checks
// against the live API before any write. Names are the node attribute
// keys the reader emits, so a proposal copies them from the node.
const (
	// ParamRepo is the repository name of a deploy key (attrs.repo):
	// required, since a deploy key id alone does not name its repo.
	ParamRepo = "repo"
	// ParamFingerprint is the approved attrs.fingerprint of a deploy key
	// (hex SHA-256 of the public key blob): required.
	ParamFingerprint = graph.AttrFingerprint
	// ParamTitle (the node name) and ParamReadOnly (attrs.read_only) of a
	// deploy key are checked when present.
	ParamTitle    = "title"
	ParamReadOnly = "read_only"
	// ParamInstallationID is the approved attrs.installation_id of an app
	// installation: required for ActionRevokeGrant.
	ParamInstallationID = "installation_id"
	// ParamRepository is the node id of the repository
	// ("github:<org>:repo/<name>") the installation loses.
	ParamRepository = "repository"
	// ParamStatus is the approved graph status of an installation
	// ("active", or "disabled" when suspended), checked when present.
	ParamStatus = "status"
	// ParamGrantID is the approved attrs.grant_id of a fine-grained PAT:
	// the pat_id the revoke endpoint takes. Required.
	ParamGrantID = "grant_id"
	// ParamOwner is the approved attrs.owner (login) of a fine-grained
	// PAT, checked when present.
	ParamOwner = "owner"
)

// Undo keys of a Step. UndoCall is informational: Rollback rebuilds the
// request from the action and the other keys, never from a call string.
const (
	UndoCall = "call"
	// Deploy key: the public key (not a secret) and its settings, so
	// Rollback can add it back.
	UndoRepo     = "repo"
	UndoKey      = "key"
	UndoTitle    = "title"
	UndoReadOnly = "read_only"
	// UndoRestoredID is set by Rollback on done.Undo (when the map is
	// not nil) to the id GitHub gave the re-added key: a deploy key
	// re-created by POST gets a new id.
	UndoRestoredID = "restored_key_id"
	// App installation: what to PUT back.
	UndoInstallationID = "installation_id"
	UndoRepositoryID   = "repository_id"
	UndoRepository     = "repository"
)

// ActuatorConfig holds the actuator's own credentials, never the reader's.
type ActuatorConfig struct {
	// Org is the organization login; the actuator accepts node ids of
	// source "github:<Org>" only.
	Org string
	// BaseURL is the API root (default https://api.github.com/; GHES:
	// https://HOST/api/v3/).
	BaseURL string
	// TokenFile holds the token for deploy keys and fine-grained PATs.
	// It is re-read on every call, so an installation token (valid one
	// hour) can be refreshed in place by another process.
	TokenFile string
	// UserTokenFile holds the token for ActionRevokeGrant, whose endpoint
	// GitHub only accepts from a classic PAT with the repo scope. Empty
	// means TokenFile.
	UserTokenFile string
	ReadFile      func(string) ([]byte, error) // default os.ReadFile
	HTTPClient    *http.Client                 // default: 60s timeout
}

// Actuator deletes deploy keys, removes repositories from app
// installations and revokes fine-grained PATs, each after re-reading the
// object and comparing it with the approved state.
type Actuator struct {
	cfg    ActuatorConfig
	base   *url.URL
	source string
}

var _ connectors.Actuator = (*Actuator)(nil)

// NewActuator checks cfg and returns an actuator; it makes no call and
// does not read the token files yet.
func NewActuator(cfg ActuatorConfig) (*Actuator, error) {
	if cfg.Org == "" {
		return nil, errors.New("github: actuator: org is required")
	}
	if cfg.TokenFile == "" {
		return nil, errors.New("github: actuator: token-file is required")
	}
	if cfg.UserTokenFile == "" {
		cfg.UserTokenFile = cfg.TokenFile
	}
	if cfg.ReadFile == nil {
		cfg.ReadFile = os.ReadFile
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	a := &Actuator{cfg: cfg, source: "github:" + cfg.Org}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("github: actuator: url %q is not an absolute URL", cfg.BaseURL)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		a.base = u
	}
	return a, nil
}

// client builds a go-github client with the token in file. The token goes
// to go-github only; errors name the file, never its content.
func (a *Actuator) client(file string) (*gh.Client, error) {
	token, err := connectors.ReadToken(a.cfg.ReadFile, file)
	if err != nil {
		return nil, fmt.Errorf("github: actuator: %w", err)
	}
	c := gh.NewClient(a.cfg.HTTPClient).WithAuthToken(token)
	if a.base != nil {
		u := *a.base
		c.BaseURL = &u
	}
	return c, nil
}

// Target kinds, from the reader's node id scheme (see build.go).
const (
	opDeleteKey    = "delete_deploy_key"
	opRemoveRepo   = "remove_installation_repository"
	opRevokePAT    = "revoke_fine_grained_pat"
	kindDeployKey  = "deploy_key"
	kindApp        = "app"
	kindPAT        = "pat"
	kindRepository = "repo"
)

// op is a resolved action.
type op struct {
	typ action.Kind
	org string
	// deploy key
	keyID       int64
	repo        string
	fingerprint string
	title       *string
	readOnly    *bool
	// app installation
	app            string // the node's name: app_slug or app-<app_id>
	installationID int64
	status         string
	// fine-grained PAT
	tokenID int64
	grantID int64
	owner   string
}

// parseTarget splits "github:<org>:<kind>/<rest>" of this source.
func (a *Actuator) parseTarget(id string) (kind, rest string, err error) {
	local, ok := strings.CutPrefix(id, a.source+":")
	if !ok {
		return "", "", fmt.Errorf("github: node %q is not in source %q", id, a.source)
	}
	kind, rest, ok = strings.Cut(local, "/")
	if !ok || rest == "" {
		return "", "", fmt.Errorf("github: node %q: want %s:<kind>/<id>", id, a.source)
	}
	return kind, rest, nil
}

func positiveID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

func (a *Actuator) resolve(act connectors.Action) (op, error) {
	kind, rest, err := a.parseTarget(act.Target)
	if err != nil {
		return op{}, err
	}
	fail := func(format string, args ...any) (op, error) {
		return op{}, fmt.Errorf("github: %s %q: %s", act.Type, act.Target, fmt.Sprintf(format, args...))
	}
	p := act.Params
	o := op{org: a.cfg.Org}
	switch {
	case act.Type == ActionDisableCredential && kind == kindDeployKey:
		var ok bool
		if o.keyID, ok = positiveID(rest); !ok {
			return fail("deploy key id %q is not a positive integer", rest)
		}
		o.typ, o.repo, o.fingerprint = opDeleteKey, p[ParamRepo], strings.ToLower(p[ParamFingerprint])
		if o.repo == "" || strings.Contains(o.repo, "/") {
			return fail("param %q (the repository name) is required", ParamRepo)
		}
		if o.fingerprint == "" {
			return fail("param %q (the approved key fingerprint) is required", ParamFingerprint)
		}
		if t, ok := p[ParamTitle]; ok {
			o.title = &t
		}
		if v, ok := p[ParamReadOnly]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fail("param %q: want true or false, got %q", ParamReadOnly, v)
			}
			o.readOnly = &b
		}
		return o, nil
	case act.Type == ActionDisableCredential && kind == kindPAT:
		var ok bool
		if o.tokenID, ok = positiveID(rest); !ok {
			return fail("token id %q is not a positive integer", rest)
		}
		if o.grantID, ok = positiveID(p[ParamGrantID]); !ok {
			return fail("param %q (the approved grant id, the API's pat_id) is required", ParamGrantID)
		}
		o.typ, o.owner = opRevokePAT, p[ParamOwner]
		return o, nil
	case act.Type == ActionRevokeGrant && kind == kindApp:
		var ok bool
		if o.installationID, ok = positiveID(p[ParamInstallationID]); !ok {
			return fail("param %q (the approved installation id) is required", ParamInstallationID)
		}
		repoID := p[ParamRepository]
		if repoID == "" {
			return fail("param %q (the node id of the repository to remove) is required", ParamRepository)
		}
		rk, name, err := a.parseTarget(repoID)
		if err != nil {
			return op{}, err
		}
		if rk != kindRepository || strings.Contains(name, "/") {
			return fail("param %q: %q is not a repository node", ParamRepository, repoID)
		}
		switch s := p[ParamStatus]; s {
		case "", graph.StatusActive, graph.StatusDisabled:
			o.status = s
		default:
			return fail("param %q: want %s or %s, got %q", ParamStatus, graph.StatusActive, graph.StatusDisabled, s)
		}
		o.typ, o.app, o.repo = opRemoveRepo, rest, name
		return o, nil
	}
	return op{}, fmt.Errorf("github: action %q on %q: %w", act.Type, act.Target, connectors.ErrUnsupported)
}

func (o op) keyPath() string {
	return fmt.Sprintf("/repos/%s/%s/keys/%d", o.org, o.repo, o.keyID)
}

func (o op) patPath() string {
	return fmt.Sprintf("/orgs/%s/personal-access-tokens/%d", o.org, o.grantID)
}

func (o op) installRepoPath(repoID string) string {
	return fmt.Sprintf("/user/installations/%d/repositories/%s", o.installationID, repoID)
}

// Plan returns the calls Execute would make, without calling GitHub: each
// step's Call is the write, after the read-only checks it names.
func (a *Actuator) Plan(ctx context.Context, act connectors.Action) ([]connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return nil, err
	}
	switch o.typ {
	case opDeleteKey:
		return []connectors.Step{{
			Call: fmt.Sprintf("GET %s (expect fingerprint %s), then DELETE %s", o.keyPath(), o.fingerprint, o.keyPath()),
			Undo: map[string]string{UndoCall: fmt.Sprintf("POST /repos/%s/%s/keys with the deleted key's public key, title and read_only", o.org, o.repo), UndoRepo: o.repo},
		}}, nil
	case opRemoveRepo:
		return []connectors.Step{{
			Call: fmt.Sprintf("GET /orgs/%s/installations (expect installation %d of %s, repository_selection selected), GET /repos/%s/%s, GET /user/installations/%d/repositories (expect %s), then DELETE %s",
				o.org, o.installationID, o.app, o.org, o.repo, o.installationID, o.repo, o.installRepoPath("<id of "+o.org+"/"+o.repo+">")),
			Undo: map[string]string{UndoCall: "PUT " + o.installRepoPath("<id of "+o.org+"/"+o.repo+">"), UndoInstallationID: strconv.FormatInt(o.installationID, 10), UndoRepository: o.repo},
		}}, nil
	}
	return []connectors.Step{{
		Call: fmt.Sprintf("GET /orgs/%s/personal-access-tokens (expect token %d with grant %d), then POST %s {\"action\":\"revoke\"} — irreversible: rollback cannot restore it; the owner must request access again", o.org, o.tokenID, o.grantID, o.patPath()),
	}}, nil
}

// Execute re-reads the target, refuses with connectors.ErrTargetChanged
// when it differs from the approved state, and then makes the one write.
func (a *Actuator) Execute(ctx context.Context, act connectors.Action) (connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return connectors.Step{}, err
	}
	switch o.typ {
	case opDeleteKey:
		return a.deleteKey(ctx, o)
	case opRemoveRepo:
		return a.removeRepo(ctx, o)
	}
	return a.revokePAT(ctx, o)
}

func notFound(err error) bool { return status(err) == http.StatusNotFound }

func keyFingerprint(k *gh.Key) string {
	fp, _, err := SSHFingerprint(k.GetKey())
	if err != nil {
		return ""
	}
	return fp
}

func (a *Actuator) deleteKey(ctx context.Context, o op) (connectors.Step, error) {
	c, err := a.client(a.cfg.TokenFile)
	if err != nil {
		return connectors.Step{}, err
	}
	k, _, err := c.Repositories.GetKey(ctx, o.org, o.repo, o.keyID)
	if notFound(err) {
		return connectors.Step{}, fmt.Errorf("github: GET %s: the deploy key no longer exists: %w", o.keyPath(), connectors.ErrTargetChanged)
	}
	if err != nil {
		return connectors.Step{}, fmt.Errorf("github: GET %s: %w", o.keyPath(), err)
	}
	if fp := keyFingerprint(k); fp != o.fingerprint {
		return connectors.Step{}, fmt.Errorf("github: deploy key %d: fingerprint is %q, approved %q: %w", o.keyID, fp, o.fingerprint, connectors.ErrTargetChanged)
	}
	if o.title != nil && k.GetTitle() != *o.title {
		return connectors.Step{}, fmt.Errorf("github: deploy key %d: title is %q, approved %q: %w", o.keyID, k.GetTitle(), *o.title, connectors.ErrTargetChanged)
	}
	if o.readOnly != nil && k.GetReadOnly() != *o.readOnly {
		return connectors.Step{}, fmt.Errorf("github: deploy key %d: read_only is %t, approved %t: %w", o.keyID, k.GetReadOnly(), *o.readOnly, connectors.ErrTargetChanged)
	}
	if err := ctx.Err(); err != nil {
		return connectors.Step{}, err
	}
	call := "DELETE " + o.keyPath()
	if _, err := c.Repositories.DeleteKey(ctx, o.org, o.repo, o.keyID); err != nil {
		return connectors.Step{}, fmt.Errorf("github: %s: %w", call, err)
	}
	return connectors.Step{Call: call, Undo: map[string]string{
		UndoCall:     fmt.Sprintf("POST /repos/%s/%s/keys", o.org, o.repo),
		UndoRepo:     o.repo,
		UndoKey:      k.GetKey(),
		UndoTitle:    k.GetTitle(),
		UndoReadOnly: strconv.FormatBool(k.GetReadOnly()),
	}}, nil
}

// installation finds the approved installation in the org's list and
// checks it is still the approved one.
func (a *Actuator) installation(ctx context.Context, c *gh.Client, o op) (*gh.Installation, error) {
	var found *gh.Installation
	for opt := (gh.ListOptions{PerPage: 100}); found == nil; {
		page, resp, err := c.Organizations.ListInstallations(ctx, o.org, &opt)
		if err != nil {
			return nil, fmt.Errorf("github: GET /orgs/%s/installations: %w", o.org, err)
		}
		for _, in := range page.Installations {
			if in.GetID() == o.installationID {
				found = in
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if found == nil {
		return nil, fmt.Errorf("github: installation %d is no longer in org %s: %w", o.installationID, o.org, connectors.ErrTargetChanged)
	}
	name := found.GetAppSlug()
	if name == "" {
		name = "app-" + strconv.FormatInt(found.GetAppID(), 10)
	}
	if name != o.app {
		return nil, fmt.Errorf("github: installation %d is of app %q, approved %q: %w", o.installationID, name, o.app, connectors.ErrTargetChanged)
	}
	if o.status != "" {
		st := graph.StatusActive
		if found.SuspendedAt != nil {
			st = graph.StatusDisabled
		}
		if st != o.status {
			return nil, fmt.Errorf("github: installation %d is %s, approved %s: %w", o.installationID, st, o.status, connectors.ErrTargetChanged)
		}
	}
	return found, nil
}

// installedRepo reports whether repoID is among the installation's
// repositories, as the user token sees them.
func installedRepo(ctx context.Context, c *gh.Client, o op, repoID int64) (bool, error) {
	for opt := (gh.ListOptions{PerPage: 100}); ; {
		page, resp, err := c.Apps.ListUserRepos(ctx, o.installationID, &opt)
		if err != nil {
			return false, fmt.Errorf("github: GET /user/installations/%d/repositories: %w", o.installationID, err)
		}
		for _, r := range page.Repositories {
			if r.GetID() == repoID {
				return true, nil
			}
		}
		if resp.NextPage == 0 {
			return false, nil
		}
		opt.Page = resp.NextPage
	}
}

func (a *Actuator) removeRepo(ctx context.Context, o op) (connectors.Step, error) {
	c, err := a.client(a.cfg.UserTokenFile)
	if err != nil {
		return connectors.Step{}, err
	}
	in, err := a.installation(ctx, c, o)
	if err != nil {
		return connectors.Step{}, err
	}
	if sel := in.GetRepositorySelection(); sel != "selected" {
		// GitHub refuses to remove one repository from an "all"
		// installation; narrowing it is an owner's job in the UI.
		return connectors.Step{}, fmt.Errorf("github: installation %d has repository_selection %q: only an installation on selected repositories can lose one: %w", o.installationID, sel, connectors.ErrTargetChanged)
	}
	repo, _, err := c.Repositories.Get(ctx, o.org, o.repo)
	if notFound(err) {
		return connectors.Step{}, fmt.Errorf("github: GET /repos/%s/%s: the repository no longer exists: %w", o.org, o.repo, connectors.ErrTargetChanged)
	}
	if err != nil {
		return connectors.Step{}, fmt.Errorf("github: GET /repos/%s/%s: %w", o.org, o.repo, err)
	}
	ok, err := installedRepo(ctx, c, o, repo.GetID())
	if err != nil {
		return connectors.Step{}, err
	}
	if !ok {
		return connectors.Step{}, fmt.Errorf("github: installation %d no longer has repository %s/%s: %w", o.installationID, o.org, o.repo, connectors.ErrTargetChanged)
	}
	if err := ctx.Err(); err != nil {
		return connectors.Step{}, err
	}
	rid := strconv.FormatInt(repo.GetID(), 10)
	call := "DELETE " + o.installRepoPath(rid)
	if _, err := c.Apps.RemoveRepository(ctx, o.installationID, repo.GetID()); err != nil {
		return connectors.Step{}, fmt.Errorf("github: %s: %w", call, err)
	}
	return connectors.Step{Call: call, Undo: map[string]string{
		UndoCall:           "PUT " + o.installRepoPath(rid),
		UndoInstallationID: strconv.FormatInt(o.installationID, 10),
		UndoRepositoryID:   rid,
		UndoRepository:     o.repo,
	}}, nil
}

func (a *Actuator) revokePAT(ctx context.Context, o op) (connectors.Step, error) {
	c, err := a.client(a.cfg.TokenFile)
	if err != nil {
		return connectors.Step{}, err
	}
	var found *gh.PersonalAccessToken
	for opt := (gh.ListFineGrainedPATOptions{ListOptions: gh.ListOptions{PerPage: 100}}); found == nil; {
		page, resp, err := c.Organizations.ListFineGrainedPersonalAccessTokens(ctx, o.org, &opt)
		if err != nil {
			return connectors.Step{}, fmt.Errorf("github: GET /orgs/%s/personal-access-tokens: %w", o.org, err)
		}
		for _, p := range page {
			tid := p.GetTokenID()
			if tid == 0 { // the reader's fallback for the node id
				tid = p.GetID()
			}
			if tid == o.tokenID {
				found = p
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if found == nil {
		return connectors.Step{}, fmt.Errorf("github: token %d no longer has access to org %s: %w", o.tokenID, o.org, connectors.ErrTargetChanged)
	}
	if found.GetID() != o.grantID {
		return connectors.Step{}, fmt.Errorf("github: token %d: grant id is %d, approved %d: %w", o.tokenID, found.GetID(), o.grantID, connectors.ErrTargetChanged)
	}
	if o.owner != "" && !strings.EqualFold(found.GetOwner().GetLogin(), o.owner) {
		return connectors.Step{}, fmt.Errorf("github: token %d: owner is %q, approved %q: %w", o.tokenID, found.GetOwner().GetLogin(), o.owner, connectors.ErrTargetChanged)
	}
	if err := ctx.Err(); err != nil {
		return connectors.Step{}, err
	}
	call := "POST " + o.patPath() + ` {"action":"revoke"}`
	// go-github v82 has no method for this endpoint; the request goes
	// through its client all the same (auth, base URL, error decoding).
	req, err := c.NewRequest(http.MethodPost, strings.TrimPrefix(o.patPath(), "/"), map[string]string{"action": "revoke"})
	if err != nil {
		return connectors.Step{}, fmt.Errorf("github: %s: %w", call, err)
	}
	if _, err := c.Do(ctx, req, nil); err != nil {
		return connectors.Step{}, fmt.Errorf("github: %s: %w", call, err)
	}
	return connectors.Step{Call: call}, nil
}

// ErrIrreversible is returned (wrapping connectors.ErrUnsupported) by
// Rollback of a revoked fine-grained PAT: GitHub has no call that restores
// a revoked grant.
var ErrIrreversible = fmt.Errorf("github: revoking a fine-grained PAT's org access cannot be undone; the owner must request access again: %w", connectors.ErrUnsupported)

// Rollback restores what a step removed: the deploy key (under a new id)
// or the installation's repository. It first checks whether the thing is
// already back and then does nothing, so a retried rollback is safe.
func (a *Actuator) Rollback(ctx context.Context, act connectors.Action, done connectors.Step) error {
	o, err := a.resolve(act)
	if err != nil {
		return err
	}
	switch o.typ {
	case opDeleteKey:
		return a.restoreKey(ctx, o, done)
	case opRemoveRepo:
		return a.restoreRepo(ctx, o, done)
	}
	return ErrIrreversible
}

func (a *Actuator) restoreKey(ctx context.Context, o op, done connectors.Step) error {
	u := done.Undo
	if u[UndoRepo] != o.repo || u[UndoKey] == "" {
		return fmt.Errorf("github: rollback deploy key %d: step undo data does not belong to this action", o.keyID)
	}
	fp, _, err := SSHFingerprint(u[UndoKey])
	if err != nil || fp != o.fingerprint {
		return fmt.Errorf("github: rollback deploy key %d: the step's public key is not the approved one (fingerprint %s)", o.keyID, o.fingerprint)
	}
	readOnly, err := strconv.ParseBool(u[UndoReadOnly])
	if err != nil {
		return fmt.Errorf("github: rollback deploy key %d: undo %s: %w", o.keyID, UndoReadOnly, err)
	}
	c, err := a.client(a.cfg.TokenFile)
	if err != nil {
		return err
	}
	listPath := fmt.Sprintf("/repos/%s/%s/keys", o.org, o.repo)
	for opt := (gh.ListOptions{PerPage: 100}); ; {
		page, resp, err := c.Repositories.ListKeys(ctx, o.org, o.repo, &opt)
		if err != nil {
			return fmt.Errorf("github: rollback: GET %s: %w", listPath, err)
		}
		for _, k := range page {
			if keyFingerprint(k) == fp {
				// Already back (an earlier rollback, or re-added by hand):
				// GitHub would refuse the same key twice anyway.
				if u != nil {
					u[UndoRestoredID] = strconv.FormatInt(k.GetID(), 10)
				}
				return nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	k, _, err := c.Repositories.CreateKey(ctx, o.org, o.repo, &gh.Key{Key: gh.Ptr(u[UndoKey]), Title: gh.Ptr(u[UndoTitle]), ReadOnly: gh.Ptr(readOnly)})
	if err != nil {
		return fmt.Errorf("github: rollback: POST %s: %w", listPath, err)
	}
	u[UndoRestoredID] = strconv.FormatInt(k.GetID(), 10)
	return nil
}

func (a *Actuator) restoreRepo(ctx context.Context, o op, done connectors.Step) error {
	u := done.Undo
	rid, ok := positiveID(u[UndoRepositoryID])
	if !ok || u[UndoInstallationID] != strconv.FormatInt(o.installationID, 10) || u[UndoRepository] != o.repo {
		return fmt.Errorf("github: rollback installation %d: step undo data does not belong to this action", o.installationID)
	}
	c, err := a.client(a.cfg.UserTokenFile)
	if err != nil {
		return err
	}
	present, err := installedRepo(ctx, c, o, rid)
	if err != nil {
		return fmt.Errorf("github: rollback: %w", err)
	}
	if present {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, _, err := c.Apps.AddRepository(ctx, o.installationID, rid); err != nil {
		return fmt.Errorf("github: rollback: PUT %s: %w", o.installRepoPath(u[UndoRepositoryID]), err)
	}
	return nil
}
