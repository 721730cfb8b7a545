package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/secret"
	"github.com/steward-oss/steward/remediation/action"
)

// Action types the IAM actuator performs.
const (
	// ActionDisableCredential sets one access key Inactive.
	ActionDisableCredential = action.DisableCredential
	// ActionDeactivateIdentity sets every Active access key of an IAM
	// user Inactive. It does not touch the console password (login
	// profile): deleting it cannot be undone, since the password is gone.
	ActionDeactivateIdentity = action.DeactivateIdentity
	// ActionRevokeGrant detaches the managed policy ParamPolicyARN from a
	// user, role or group.
	ActionRevokeGrant = action.RevokeGrant
	// ActionRemoveMembership removes a user from the group ParamGroup.
	ActionRemoveMembership = action.RemoveMembership
)

// Action parameters: the approved state, which Execute re-checks live.
const (
	// ParamStatus is the approved graph status of the target. Required
	// ("active") for ActionDisableCredential; when present on other
	// actions it must be "active", the only status IAM users, roles and
	// groups have.
	ParamStatus = "status"
	// ParamFingerprint, when present on ActionDisableCredential, is the
	// approved key's full fingerprint (attrs.fingerprint); the node id
	// holds only a 12-hex prefix of it.
	ParamFingerprint = graph.AttrFingerprint
	// ParamPolicyARN is the ARN of the managed policy ActionRevokeGrant
	// detaches.
	ParamPolicyARN = "policy_arn"
	// ParamGroup is the node id of the group ActionRemoveMembership
	// removes the target user from.
	ParamGroup = "group"
)

// Undo keys of a Step. Rollback rebuilds its calls from the action and
// checks these against it; UndoCall is informational.
const (
	UndoCall      = "call"
	UndoUser      = "user"
	UndoPrincipal = "principal" // "user/<name>", "role/<name>", "group/<name>"
	UndoPolicyARN = "policy_arn"
	UndoGroup     = "group"
	// UndoAccessKeys lists the full fingerprints of the keys Execute set
	// Inactive, comma-separated; never key ids.
	UndoAccessKeys = "access_keys"
)

// ActuatorConfig configures the actuator's own IAM client. Credentials
// come from Credentials or, failing that, from the shared-config Profile,
// so that the actuator never silently falls back to the reader's (or the
// process environment's) credentials.
type ActuatorConfig struct {
	// Account is the 12-digit account id; the actuator takes node ids of
	// source aws:<Account> only.
	Account string
	// Profile is a shared-config profile holding the actuator's
	// credentials (static keys, an assumed role, SSO...).
	Profile string
	// Credentials, when set, is used instead of Profile.
	Credentials sdkaws.CredentialsProvider
	// Region of the IAM client; default us-east-1. IAM is global, but
	// requests are signed for a region.
	Region string
	// Endpoint overrides the IAM endpoint (a VPC endpoint, a test server).
	Endpoint string
}

// iamWriter is the part of the IAM client the actuator calls.
type iamWriter interface {
	iam.ListAccessKeysAPIClient
	iam.ListAttachedUserPoliciesAPIClient
	iam.ListAttachedRolePoliciesAPIClient
	iam.ListAttachedGroupPoliciesAPIClient
	iam.ListGroupsForUserAPIClient
	UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, opt ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DetachUserPolicy(ctx context.Context, in *iam.DetachUserPolicyInput, opt ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, opt ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	DetachGroupPolicy(ctx context.Context, in *iam.DetachGroupPolicyInput, opt ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
	AttachUserPolicy(ctx context.Context, in *iam.AttachUserPolicyInput, opt ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error)
	AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, opt ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	AttachGroupPolicy(ctx context.Context, in *iam.AttachGroupPolicyInput, opt ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error)
	RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, opt ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
	AddUserToGroup(ctx context.Context, in *iam.AddUserToGroupInput, opt ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error)
}

var _ iamWriter = (*iam.Client)(nil)

// Actuator deactivates access keys, detaches managed policies and removes
// group memberships in one AWS account. IAM has no conditional writes, so
// the live re-read before each write narrows, but cannot close, the window
// in which another change can land.
type Actuator struct {
	client  iamWriter
	account string
	source  string
}

var _ connectors.Actuator = (*Actuator)(nil)

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// NewActuator checks cfg and builds the IAM client; it makes no request.
func NewActuator(cfg ActuatorConfig) (*Actuator, error) {
	if !accountRE.MatchString(cfg.Account) {
		return nil, fmt.Errorf("aws: actuator: account: want a 12-digit account id, got %q", cfg.Account)
	}
	if cfg.Credentials == nil && cfg.Profile == "" {
		return nil, errors.New("aws: actuator: profile: required (a shared-config profile with the actuator's own credentials, not the reader's)")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	loaders := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if cfg.Credentials != nil {
		loaders = append(loaders, config.WithCredentialsProvider(cfg.Credentials))
	} else {
		loaders = append(loaders, config.WithSharedConfigProfile(cfg.Profile))
	}
	sdkCfg, err := config.LoadDefaultConfig(context.Background(), loaders...)
	if err != nil {
		return nil, fmt.Errorf("aws: actuator: load SDK config: %w", err)
	}
	client := iam.NewFromConfig(sdkCfg, func(o *iam.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = sdkaws.String(cfg.Endpoint)
		}
	})
	return &Actuator{client: client, account: cfg.Account, source: awsid.SourceName(cfg.Account)}, nil
}

// op is a resolved action.
type op struct {
	typ  action.Kind
	kind string // "user", "role", "group" or "access-key" (the target)
	name string // the user, role or group name; for a key, its user
	// access key (ActionDisableCredential)
	masked, fpPrefix, fingerprint string
	policyARN                     string
	group                         string // group name (ActionRemoveMembership)
}

func (o op) call() string {
	switch o.typ {
	case ActionDisableCredential:
		return fmt.Sprintf("iam:UpdateAccessKey UserName=%s AccessKeyId=%s Status=Inactive", o.name, o.masked)
	case ActionDeactivateIdentity:
		return fmt.Sprintf("iam:UpdateAccessKey UserName=%s Status=Inactive for every Active key ListAccessKeys returns", o.name)
	case ActionRevokeGrant:
		return fmt.Sprintf("iam:Detach%sPolicy %sName=%s PolicyArn=%s", title(o.kind), title(o.kind), o.name, o.policyARN)
	}
	return fmt.Sprintf("iam:RemoveUserFromGroup UserName=%s GroupName=%s", o.name, o.group)
}

func (o op) undoCall() string {
	switch o.typ {
	case ActionDisableCredential:
		return fmt.Sprintf("iam:UpdateAccessKey UserName=%s AccessKeyId=%s Status=Active", o.name, o.masked)
	case ActionDeactivateIdentity:
		return fmt.Sprintf("iam:UpdateAccessKey UserName=%s Status=Active for each key in %s", o.name, UndoAccessKeys)
	case ActionRevokeGrant:
		return fmt.Sprintf("iam:Attach%sPolicy %sName=%s PolicyArn=%s", title(o.kind), title(o.kind), o.name, o.policyARN)
	}
	return fmt.Sprintf("iam:AddUserToGroup UserName=%s GroupName=%s", o.name, o.group)
}

// undo is a step's undo data; keys are the full fingerprints of the keys
// Execute deactivated (key actions only).
func (o op) undo(keys []string) map[string]string {
	u := map[string]string{UndoCall: o.undoCall()}
	switch o.typ {
	case ActionDisableCredential, ActionDeactivateIdentity:
		u[UndoUser] = o.name
		u[UndoAccessKeys] = strings.Join(keys, ",")
	case ActionRevokeGrant:
		u[UndoPrincipal] = o.kind + "/" + o.name
		u[UndoPolicyARN] = o.policyARN
	default:
		u[UndoUser] = o.name
		u[UndoGroup] = o.group
	}
	return u
}

func title(kind string) string { return strings.ToUpper(kind[:1]) + kind[1:] }

// parseTarget splits a node id of this account into its kind and the
// rest of its resource ("user/path/name" -> "user", "path/name").
func (a *Actuator) parseTarget(id string) (kind, rest string, err error) {
	res, ok := strings.CutPrefix(id, a.source+":")
	if !ok {
		return "", "", fmt.Errorf("aws: node %q is not in source %s", id, a.source)
	}
	kind, rest, ok = strings.Cut(res, "/")
	if !ok || rest == "" {
		return "", "", fmt.Errorf("aws: node %q is not an IAM user, role, group or access key", id)
	}
	return kind, rest, nil
}

// lastName is the entity name in a "path/name" resource suffix: names are
// unique in an account whatever the path, and the API takes the name.
func lastName(rest string) string {
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		return rest[i+1:]
	}
	return rest
}

var (
	fpPrefixRE = regexp.MustCompile(`^[0-9a-f]{12}$`)
	fpRE       = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func (a *Actuator) resolve(act connectors.Action) (op, error) {
	o := op{typ: act.Type}
	fail := func(format string, args ...any) (op, error) {
		return op{}, fmt.Errorf("aws: %s %q: %s", act.Type, act.Target, fmt.Sprintf(format, args...))
	}
	switch act.Type {
	case ActionDisableCredential, ActionDeactivateIdentity, ActionRevokeGrant, ActionRemoveMembership:
	default:
		return op{}, fmt.Errorf("aws: action %q: %w", act.Type, connectors.ErrUnsupported)
	}
	kind, rest, err := a.parseTarget(act.Target)
	if err != nil {
		return op{}, err
	}
	o.kind = kind
	status := act.Params[ParamStatus]
	switch {
	case act.Type == ActionDisableCredential && status == "":
		return fail("param %q (the approved status) is required", ParamStatus)
	case status != "" && status != graph.StatusActive:
		return fail("the approved state has %s=%q: nothing to change", ParamStatus, status)
	}
	unsupported := func() (op, error) {
		return op{}, fmt.Errorf("aws: %s on a %s (%q): %w", act.Type, kind, act.Target, connectors.ErrUnsupported)
	}
	switch act.Type {
	case ActionDisableCredential:
		if kind != "access-key" {
			return unsupported()
		}
		parts := strings.Split(rest, "/")
		if len(parts) == 2 && strings.HasPrefix(parts[1], "slot-") {
			return fail("the key is known only by its credential-report slot, which does not identify it; load the account with --live to get key nodes by id")
		}
		if len(parts) != 3 || parts[0] == "" || !fpPrefixRE.MatchString(parts[2]) || !strings.Contains(parts[1], "…") {
			return fail("malformed access key node id (want access-key/<user>/<AKIA…WXYZ>/<12 hex>)")
		}
		o.name, o.masked, o.fpPrefix = parts[0], parts[1], parts[2]
		if fp := act.Params[ParamFingerprint]; fp != "" {
			if !fpRE.MatchString(fp) || !strings.HasPrefix(fp, o.fpPrefix) {
				return fail("param %q is not the fingerprint of this key", ParamFingerprint)
			}
			o.fingerprint = fp
		}
	case ActionDeactivateIdentity:
		if kind != "user" {
			return unsupported()
		}
		o.name = lastName(rest)
	case ActionRevokeGrant:
		if kind != "user" && kind != "role" && kind != "group" {
			return unsupported()
		}
		o.name = lastName(rest)
		o.policyARN = act.Params[ParamPolicyARN]
		if o.policyARN == "" {
			return fail("param %q is required", ParamPolicyARN)
		}
		p, err := awsid.ParseARN(o.policyARN)
		if err != nil || p.Service != "iam" || !strings.HasPrefix(p.Resource, "policy/") {
			return fail("param %q: %q is not an IAM managed policy ARN", ParamPolicyARN, o.policyARN)
		}
		if p.Account != "aws" && p.Account != a.account {
			return fail("param %q: policy %q is in account %s, not %s", ParamPolicyARN, o.policyARN, p.Account, a.account)
		}
	case ActionRemoveMembership:
		if kind != "user" {
			return unsupported()
		}
		o.name = lastName(rest)
		g := act.Params[ParamGroup]
		if g == "" {
			return fail("param %q (the group's node id) is required", ParamGroup)
		}
		gkind, grest, err := a.parseTarget(g)
		if err != nil {
			return fail("param %q: %v", ParamGroup, err)
		}
		if gkind != "group" {
			return fail("param %q: %q is not a group", ParamGroup, g)
		}
		o.group = lastName(grest)
	}
	return o, nil
}

// Plan returns the call Execute would make. It does not contact AWS, so
// for deactivate_identity it cannot name the keys: Execute sets Inactive
// whichever keys are Active when it runs, and its Step lists them.
func (a *Actuator) Plan(ctx context.Context, act connectors.Action) ([]connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return nil, err
	}
	return []connectors.Step{{Call: o.call(), Undo: o.undo(nil)}}, nil
}

// actKey is one access key as ListAccessKeys reports it. The id stays in
// memory for the API call and is never put in a Step or an error.
type actKey struct {
	id     string
	fp     string
	active bool
}

func (k actKey) masked() string { return secret.Mask(k.id) }

// gone turns IAM's NoSuchEntity (the user, role or group was deleted
// since approval) into ErrTargetChanged.
func gone(err error, what string) error {
	var nse *types.NoSuchEntityException
	if errors.As(err, &nse) {
		return fmt.Errorf("aws: %s no longer exists: %w: %w", what, connectors.ErrTargetChanged, err)
	}
	return err
}

func (a *Actuator) listKeys(ctx context.Context, user string) ([]actKey, error) {
	var keys []actKey
	p := iam.NewListAccessKeysPaginator(a.client, &iam.ListAccessKeysInput{UserName: sdkaws.String(user)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("aws: ListAccessKeys UserName=%s: %w", user, gone(err, "user "+user))
		}
		for _, m := range out.AccessKeyMetadata {
			id := sdkaws.ToString(m.AccessKeyId)
			keys = append(keys, actKey{id: id, fp: awsid.KeyFingerprint(id), active: m.Status == types.StatusTypeActive})
		}
	}
	return keys, nil
}

// findKey is the key of o's node: the fingerprint prefix and masked id of
// the node id (and the full fingerprint, when approved) must all match.
func (o op) findKey(keys []actKey) (actKey, bool) {
	for _, k := range keys {
		if strings.HasPrefix(k.fp, o.fpPrefix) && k.masked() == o.masked && (o.fingerprint == "" || k.fp == o.fingerprint) {
			return k, true
		}
	}
	return actKey{}, false
}

func (a *Actuator) setKey(ctx context.Context, user string, k actKey, s types.StatusType) error {
	_, err := a.client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: sdkaws.String(user), AccessKeyId: sdkaws.String(k.id), Status: s})
	if err != nil {
		// IAM's NoSuchEntity message quotes the full key id.
		err = redacted{err: gone(err, "key "+k.masked()), secret: k.id, masked: k.masked()}
		return fmt.Errorf("aws: UpdateAccessKey UserName=%s AccessKeyId=%s Status=%s: %w", user, k.masked(), s, err)
	}
	return nil
}

// redacted is an error whose message shows a key id masked. Unwrap keeps
// errors.Is/As working; callers print Error(), never the wrapped chain.
type redacted struct {
	err            error
	secret, masked string
}

func (r redacted) Error() string { return strings.ReplaceAll(r.err.Error(), r.secret, r.masked) }
func (r redacted) Unwrap() error { return r.err }

// attached reports whether o's policy is attached to o's principal.
func (a *Actuator) attached(ctx context.Context, o op) (bool, error) {
	var pages interface {
		HasMorePages() bool
	}
	var next func() ([]types.AttachedPolicy, error)
	switch o.kind {
	case "user":
		p := iam.NewListAttachedUserPoliciesPaginator(a.client, &iam.ListAttachedUserPoliciesInput{UserName: sdkaws.String(o.name)})
		pages, next = p, func() ([]types.AttachedPolicy, error) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			return out.AttachedPolicies, nil
		}
	case "role":
		p := iam.NewListAttachedRolePoliciesPaginator(a.client, &iam.ListAttachedRolePoliciesInput{RoleName: sdkaws.String(o.name)})
		pages, next = p, func() ([]types.AttachedPolicy, error) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			return out.AttachedPolicies, nil
		}
	default:
		p := iam.NewListAttachedGroupPoliciesPaginator(a.client, &iam.ListAttachedGroupPoliciesInput{GroupName: sdkaws.String(o.name)})
		pages, next = p, func() ([]types.AttachedPolicy, error) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			return out.AttachedPolicies, nil
		}
	}
	for pages.HasMorePages() {
		ps, err := next()
		if err != nil {
			return false, fmt.Errorf("aws: ListAttached%sPolicies %sName=%s: %w", title(o.kind), title(o.kind), o.name, gone(err, o.kind+" "+o.name))
		}
		for _, p := range ps {
			if sdkaws.ToString(p.PolicyArn) == o.policyARN {
				return true, nil
			}
		}
	}
	return false, nil
}

func (a *Actuator) setAttached(ctx context.Context, o op, attach bool) error {
	name, arn := sdkaws.String(o.name), sdkaws.String(o.policyARN)
	var err error
	switch {
	case o.kind == "user" && attach:
		_, err = a.client.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: arn})
	case o.kind == "user":
		_, err = a.client.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: name, PolicyArn: arn})
	case o.kind == "role" && attach:
		_, err = a.client.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: arn})
	case o.kind == "role":
		_, err = a.client.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: arn})
	case attach:
		_, err = a.client.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: name, PolicyArn: arn})
	default:
		_, err = a.client.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: name, PolicyArn: arn})
	}
	return err
}

// member reports whether o's user is in o's group.
func (a *Actuator) member(ctx context.Context, o op) (bool, error) {
	p := iam.NewListGroupsForUserPaginator(a.client, &iam.ListGroupsForUserInput{UserName: sdkaws.String(o.name)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return false, fmt.Errorf("aws: ListGroupsForUser UserName=%s: %w", o.name, gone(err, "user "+o.name))
		}
		for _, g := range out.Groups {
			if sdkaws.ToString(g.GroupName) == o.group {
				return true, nil
			}
		}
	}
	return false, nil
}

// Execute re-reads the target, refuses with connectors.ErrTargetChanged
// when it is no longer in the approved state, and makes the change.
func (a *Actuator) Execute(ctx context.Context, act connectors.Action) (connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return connectors.Step{}, err
	}
	switch o.typ {
	case ActionDisableCredential:
		keys, err := a.listKeys(ctx, o.name)
		if err != nil {
			return connectors.Step{}, err
		}
		k, ok := o.findKey(keys)
		switch {
		case !ok:
			return connectors.Step{}, fmt.Errorf("aws: %s: user %s has no key %s any more: %w", o.call(), o.name, o.masked, connectors.ErrTargetChanged)
		case !k.active:
			return connectors.Step{}, fmt.Errorf("aws: %s: key is already Inactive: %w", o.call(), connectors.ErrTargetChanged)
		}
		if err := ctx.Err(); err != nil {
			return connectors.Step{}, err
		}
		if err := a.setKey(ctx, o.name, k, types.StatusTypeInactive); err != nil {
			return connectors.Step{}, err
		}
		return connectors.Step{Call: o.call(), Undo: o.undo([]string{k.fp})}, nil

	case ActionDeactivateIdentity:
		keys, err := a.listKeys(ctx, o.name)
		if err != nil {
			return connectors.Step{}, err
		}
		var active []actKey
		for _, k := range keys {
			if k.active {
				active = append(active, k)
			}
		}
		if len(active) == 0 {
			return connectors.Step{}, fmt.Errorf("aws: %s: user %s has no Active access key: %w", o.call(), o.name, connectors.ErrTargetChanged)
		}
		if err := ctx.Err(); err != nil {
			return connectors.Step{}, err
		}
		var done []actKey
		for _, k := range active {
			if err := a.setKey(ctx, o.name, k, types.StatusTypeInactive); err != nil {
				return connectors.Step{}, a.compensate(o.name, done, err)
			}
			done = append(done, k)
		}
		fps, masked := make([]string, len(done)), make([]string, len(done))
		for i, k := range done {
			fps[i], masked[i] = k.fp, k.masked()
		}
		call := fmt.Sprintf("iam:UpdateAccessKey UserName=%s AccessKeyId=%s Status=Inactive", o.name, strings.Join(masked, ","))
		return connectors.Step{Call: call, Undo: o.undo(fps)}, nil

	case ActionRevokeGrant:
		on, err := a.attached(ctx, o)
		if err != nil {
			return connectors.Step{}, err
		}
		if !on {
			return connectors.Step{}, fmt.Errorf("aws: %s: the policy is no longer attached: %w", o.call(), connectors.ErrTargetChanged)
		}
		if err := ctx.Err(); err != nil {
			return connectors.Step{}, err
		}
		if err := a.setAttached(ctx, o, false); err != nil {
			return connectors.Step{}, fmt.Errorf("aws: %s: %w", o.call(), gone(err, "the attachment"))
		}
		return connectors.Step{Call: o.call(), Undo: o.undo(nil)}, nil
	}
	in, err := a.member(ctx, o)
	if err != nil {
		return connectors.Step{}, err
	}
	if !in {
		return connectors.Step{}, fmt.Errorf("aws: %s: the user is no longer a member: %w", o.call(), connectors.ErrTargetChanged)
	}
	if err := ctx.Err(); err != nil {
		return connectors.Step{}, err
	}
	_, err = a.client.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: sdkaws.String(o.name), GroupName: sdkaws.String(o.group)})
	if err != nil {
		return connectors.Step{}, fmt.Errorf("aws: %s: %w", o.call(), gone(err, "the user or group"))
	}
	return connectors.Step{Call: o.call(), Undo: o.undo(nil)}, nil
}

// compensate re-activates the keys a failed deactivate_identity already
// set Inactive, so a failure leaves the user as it was and nothing is left
// unrecorded. It runs on a fresh context: the caller's may be what failed.
func (a *Actuator) compensate(user string, done []actKey, cause error) error {
	var stuck []string
	for _, k := range done {
		if err := a.setKey(context.Background(), user, k, types.StatusTypeActive); err != nil {
			stuck = append(stuck, k.masked())
		}
	}
	if len(stuck) > 0 {
		return fmt.Errorf("%w; re-activating failed, so keys %s of user %s are left Inactive", cause, strings.Join(stuck, ","), user)
	}
	return fmt.Errorf("%w (keys already set Inactive were re-activated)", cause)
}

// Rollback restores what a step removed: the keys it set Inactive (by
// fingerprint), the policy attachment or the membership. What is already
// back is left alone, so a retried rollback is safe.
func (a *Actuator) Rollback(ctx context.Context, act connectors.Action, done connectors.Step) error {
	o, err := a.resolve(act)
	if err != nil {
		return err
	}
	var fps []string
	if o.typ == ActionDisableCredential || o.typ == ActionDeactivateIdentity {
		fps = strings.Split(done.Undo[UndoAccessKeys], ",")
		for _, fp := range fps {
			if !fpRE.MatchString(fp) || (o.typ == ActionDisableCredential && (len(fps) != 1 || !strings.HasPrefix(fp, o.fpPrefix))) {
				return fmt.Errorf("aws: rollback %s %q: step undo data does not belong to this action", act.Type, act.Target)
			}
		}
	}
	if want := o.undo(fps); !maps.Equal(want, done.Undo) {
		return fmt.Errorf("aws: rollback %s %q: step undo data does not belong to this action", act.Type, act.Target)
	}
	switch o.typ {
	case ActionDisableCredential, ActionDeactivateIdentity:
		keys, err := a.listKeys(ctx, o.name)
		if err != nil {
			return fmt.Errorf("aws: rollback: %w", err)
		}
		var missing []string
		for _, fp := range fps {
			i := slices.IndexFunc(keys, func(k actKey) bool { return k.fp == fp })
			if i < 0 {
				missing = append(missing, fp[:12])
				continue
			}
			if keys[i].active {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := a.setKey(ctx, o.name, keys[i], types.StatusTypeActive); err != nil {
				return fmt.Errorf("aws: rollback: %w", err)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("aws: rollback %s: user %s no longer has the keys with fingerprint %s (deleted; cannot be restored): %w",
				o.undoCall(), o.name, strings.Join(missing, ","), connectors.ErrTargetChanged)
		}
		return nil
	case ActionRevokeGrant:
		on, err := a.attached(ctx, o)
		if err != nil {
			return fmt.Errorf("aws: rollback: %w", err)
		}
		if on {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.setAttached(ctx, o, true); err != nil {
			return fmt.Errorf("aws: rollback: %s: %w", o.undoCall(), err)
		}
		return nil
	}
	in, err := a.member(ctx, o)
	if err != nil {
		return fmt.Errorf("aws: rollback: %w", err)
	}
	if in {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := a.client.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: sdkaws.String(o.name), GroupName: sdkaws.String(o.group)}); err != nil {
		return fmt.Errorf("aws: rollback: %s: %w", o.undoCall(), err)
	}
	return nil
}
