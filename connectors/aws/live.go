package aws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// iamAPI is the part of the IAM client the live path calls.
type iamAPI interface {
	GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput, opt ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
	GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, opt ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, opt ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, opt ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, opt ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	GetRole(ctx context.Context, in *iam.GetRoleInput, opt ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

var _ iamAPI = (*iam.Client)(nil)

// defaultReportPoll is how long to wait between GenerateCredentialReport
// calls while IAM builds the report.
const defaultReportPoll = 2 * time.Second

// reportAttempts bounds the wait for a report (IAM usually needs seconds).
const reportAttempts = 60

// defaultClient builds an IAM client from the SDK's default configuration
// chain (profile, shared config, environment, instance role), with the
// region and endpoint options applied.
func (r *Reader) defaultClient(ctx context.Context) (iamAPI, error) {
	region := r.opts[OptRegion]
	if region == "" {
		region = "us-east-1"
	}
	loaders := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if p := r.opts[OptProfile]; p != "" {
		loaders = append(loaders, config.WithSharedConfigProfile(p))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("aws: live: load SDK config: %w", err)
	}
	endpoint := r.opts[OptEndpoint]
	return iam.NewFromConfig(cfg, func(o *iam.Options) {
		if endpoint != "" {
			o.BaseEndpoint = sdkaws.String(endpoint)
		}
	}), nil
}

// readLive calls the IAM API and converts its output to the structs the
// file path decodes, so both paths share parsing and evaluation.
func (r *Reader) readLive(ctx context.Context) (*input, error) {
	c, err := r.newClient(ctx)
	if err != nil {
		return nil, err
	}
	in := &input{detailsName: "GetAccountAuthorizationDetails", reportName: "GetCredentialReport",
		liveKeys: map[string][]liveKey{}, roleLastUsed: map[string]time.Time{}}
	p := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{})
	for page := 0; p.HasMorePages(); page++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("aws: live: GetAccountAuthorizationDetails page %d: %w", page, err)
		}
		addSDKPage(&in.details, out)
	}
	report, err := fetchCredentialReport(ctx, c, r.reportPoll)
	if err != nil {
		return nil, err
	}
	in.report, err = parseCredentialReport(bytes.NewReader(report), in.reportName)
	if err != nil {
		return nil, err
	}
	// Keys of every user either source names. A user in the report but
	// gone by the time its keys are listed keeps its report slots.
	users := map[string]string{} // ARN -> name
	for _, u := range in.details.UserDetailList {
		users[u.Arn] = u.UserName
	}
	for _, row := range in.report {
		if row.User != rootUserName {
			users[row.ARN] = row.User
		}
	}
	for _, arn := range slices.Sorted(maps.Keys(users)) {
		keys, err := listKeys(ctx, c, users[arn])
		var gone *types.NoSuchEntityException
		if errors.As(err, &gone) {
			continue
		}
		if err != nil {
			return nil, err
		}
		in.liveKeys[arn] = keys
	}
	for _, role := range in.details.RoleDetailList {
		if role.RoleLastUsed != nil && !role.RoleLastUsed.LastUsedDate.IsZero() {
			continue
		}
		out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String(role.RoleName)})
		if err != nil {
			return nil, fmt.Errorf("aws: live: GetRole %q: %w", role.RoleName, err)
		}
		if out.Role != nil && out.Role.RoleLastUsed != nil && out.Role.RoleLastUsed.LastUsedDate != nil {
			in.roleLastUsed[role.Arn] = out.Role.RoleLastUsed.LastUsedDate.UTC()
		}
	}
	return in, nil
}

func fetchCredentialReport(ctx context.Context, c iamAPI, poll time.Duration) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		gen, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, fmt.Errorf("aws: live: GenerateCredentialReport: %w", err)
		}
		if gen.State == types.ReportStateTypeComplete {
			break
		}
		if attempt >= reportAttempts {
			return nil, fmt.Errorf("aws: live: GenerateCredentialReport: report still %s after %d attempts", gen.State, attempt+1)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		return nil, fmt.Errorf("aws: live: GetCredentialReport: %w", err)
	}
	return out.Content, nil
}

func listKeys(ctx context.Context, c iamAPI, user string) ([]liveKey, error) {
	var keys []liveKey
	p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: sdkaws.String(user)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("aws: live: ListAccessKeys %q: %w", user, err)
		}
		for _, m := range out.AccessKeyMetadata {
			k := liveKey{ID: sdkaws.ToString(m.AccessKeyId), Active: m.Status == types.StatusTypeActive}
			if m.CreateDate != nil {
				k.Created = m.CreateDate.UTC()
			}
			lu, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: m.AccessKeyId})
			if err != nil {
				return nil, fmt.Errorf("aws: live: GetAccessKeyLastUsed for a key of %q: %w", user, err)
			}
			if l := lu.AccessKeyLastUsed; l != nil {
				if l.LastUsedDate != nil {
					k.LastUsed = l.LastUsedDate.UTC()
				}
				k.Region = sentinel(sdkaws.ToString(l.Region))
				k.Service = sentinel(sdkaws.ToString(l.ServiceName))
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// rawDoc keeps an SDK policy document (URL-encoded JSON) as the JSON
// string the file path would see.
func rawDoc(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	b, _ := json.Marshal(*s)
	return b
}

func sdkTime(t *time.Time) awsTime {
	if t == nil {
		return awsTime{}
	}
	return awsTime{t.UTC()}
}

func sdkTags(in []types.Tag) []tag {
	out := make([]tag, 0, len(in))
	for _, t := range in {
		out = append(out, tag{Key: sdkaws.ToString(t.Key), Value: sdkaws.ToString(t.Value)})
	}
	return out
}

func sdkAttached(in []types.AttachedPolicy) []attachedPolicy {
	out := make([]attachedPolicy, 0, len(in))
	for _, a := range in {
		out = append(out, attachedPolicy{PolicyName: sdkaws.ToString(a.PolicyName), PolicyArn: sdkaws.ToString(a.PolicyArn)})
	}
	return out
}

func sdkInline(in []types.PolicyDetail) []inlinePolicy {
	out := make([]inlinePolicy, 0, len(in))
	for _, p := range in {
		out = append(out, inlinePolicy{PolicyName: sdkaws.ToString(p.PolicyName), PolicyDocument: rawDoc(p.PolicyDocument)})
	}
	return out
}

func sdkBoundary(b *types.AttachedPermissionsBoundary) *boundaryRef {
	if b == nil {
		return nil
	}
	return &boundaryRef{PermissionsBoundaryType: string(b.PermissionsBoundaryType), PermissionsBoundaryArn: sdkaws.ToString(b.PermissionsBoundaryArn)}
}

// addSDKPage appends one GetAccountAuthorizationDetails page.
func addSDKPage(d *authzDetails, out *iam.GetAccountAuthorizationDetailsOutput) {
	for _, u := range out.UserDetailList {
		d.UserDetailList = append(d.UserDetailList, userDetail{
			Path: sdkaws.ToString(u.Path), UserName: sdkaws.ToString(u.UserName), UserID: sdkaws.ToString(u.UserId),
			Arn: sdkaws.ToString(u.Arn), CreateDate: sdkTime(u.CreateDate), GroupList: u.GroupList,
			AttachedManagedPolicies: sdkAttached(u.AttachedManagedPolicies), UserPolicyList: sdkInline(u.UserPolicyList),
			PermissionsBoundary: sdkBoundary(u.PermissionsBoundary), Tags: sdkTags(u.Tags),
		})
	}
	for _, g := range out.GroupDetailList {
		d.GroupDetailList = append(d.GroupDetailList, groupDetail{
			Path: sdkaws.ToString(g.Path), GroupName: sdkaws.ToString(g.GroupName), GroupID: sdkaws.ToString(g.GroupId),
			Arn: sdkaws.ToString(g.Arn), CreateDate: sdkTime(g.CreateDate), GroupPolicyList: sdkInline(g.GroupPolicyList),
			AttachedManagedPolicies: sdkAttached(g.AttachedManagedPolicies),
		})
	}
	for _, r := range out.RoleDetailList {
		rd := roleDetail{
			Path: sdkaws.ToString(r.Path), RoleName: sdkaws.ToString(r.RoleName), RoleID: sdkaws.ToString(r.RoleId),
			Arn: sdkaws.ToString(r.Arn), CreateDate: sdkTime(r.CreateDate), AssumeRolePolicyDocument: rawDoc(r.AssumeRolePolicyDocument),
			RolePolicyList: sdkInline(r.RolePolicyList), AttachedManagedPolicies: sdkAttached(r.AttachedManagedPolicies),
			PermissionsBoundary: sdkBoundary(r.PermissionsBoundary), Tags: sdkTags(r.Tags),
		}
		for _, ip := range r.InstanceProfileList {
			rd.InstanceProfileList = append(rd.InstanceProfileList, instanceProfile{
				Path: sdkaws.ToString(ip.Path), InstanceProfileName: sdkaws.ToString(ip.InstanceProfileName),
				InstanceProfileID: sdkaws.ToString(ip.InstanceProfileId), Arn: sdkaws.ToString(ip.Arn),
				CreateDate: sdkTime(ip.CreateDate), Tags: sdkTags(ip.Tags),
			})
		}
		if r.RoleLastUsed != nil {
			rd.RoleLastUsed = &roleLastUsed{LastUsedDate: sdkTime(r.RoleLastUsed.LastUsedDate), Region: sdkaws.ToString(r.RoleLastUsed.Region)}
		}
		d.RoleDetailList = append(d.RoleDetailList, rd)
	}
	for _, p := range out.Policies {
		mp := managedPolicy{
			PolicyName: sdkaws.ToString(p.PolicyName), PolicyID: sdkaws.ToString(p.PolicyId), Arn: sdkaws.ToString(p.Arn),
			Path: sdkaws.ToString(p.Path), DefaultVersionID: sdkaws.ToString(p.DefaultVersionId),
			AttachmentCount: int(sdkaws.ToInt32(p.AttachmentCount)), PermissionsBoundaryUsageCount: int(sdkaws.ToInt32(p.PermissionsBoundaryUsageCount)),
			IsAttachable: p.IsAttachable, Description: sdkaws.ToString(p.Description),
			CreateDate: sdkTime(p.CreateDate), UpdateDate: sdkTime(p.UpdateDate),
		}
		for _, v := range p.PolicyVersionList {
			mp.PolicyVersionList = append(mp.PolicyVersionList, policyVersion{Document: rawDoc(v.Document),
				VersionID: sdkaws.ToString(v.VersionId), IsDefaultVersion: v.IsDefaultVersion, CreateDate: sdkTime(v.CreateDate)})
		}
		d.Policies = append(d.Policies, mp)
	}
}
