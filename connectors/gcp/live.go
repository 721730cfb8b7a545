package gcp

import (
	"context"
	"fmt"

	crm "google.golang.org/api/cloudresourcemanager/v1"
	crm3 "google.golang.org/api/cloudresourcemanager/v3"
	iam "google.golang.org/api/iam/v1"
	"google.golang.org/api/option"
)

// readLive lists the project's service accounts, each one's keys and IAM
// policy, the project's IAM policy and (unless project-only) those of its
// folders and organization, through the official clients.
func (r *Reader) readLive(ctx context.Context) (*inventory, error) {
	var opts []option.ClientOption
	if r.endpoint != "" {
		opts = append(opts, option.WithEndpoint(r.endpoint))
	}
	if r.httpClient != nil {
		opts = append(opts, option.WithHTTPClient(r.httpClient))
	}
	iamSvc, err := iam.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcp: iam client: %w", err)
	}
	crmSvc, err := crm.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcp: resource manager client: %w", err)
	}
	in := &inventory{}
	parent := "projects/" + r.project
	err = iamSvc.Projects.ServiceAccounts.List(parent).Pages(ctx, func(resp *iam.ListServiceAccountsResponse) error {
		return in.addAccounts(parent, "accounts", resp.Accounts)
	})
	if err != nil {
		return nil, fmt.Errorf("gcp: list service accounts of %s: %w", parent, err)
	}
	for _, a := range in.accounts {
		name := a.account.Name
		keys, err := iamSvc.Projects.ServiceAccounts.Keys.List(name).Context(ctx).Do()
		if err != nil {
			return nil, fmt.Errorf("gcp: list keys of %s: %w", name, err)
		}
		if err := in.addKeys(name, "keys", keys.Keys); err != nil {
			return nil, err
		}
		pol, err := iamSvc.Projects.ServiceAccounts.GetIamPolicy(name).OptionsRequestedPolicyVersion(3).Context(ctx).Do()
		if err != nil {
			return nil, fmt.Errorf("gcp: get IAM policy of %s: %w", name, err)
		}
		in.policies = append(in.policies, policyRec{file: name,
			target: policyTarget{kind: targetServiceAccount, id: a.account.Email}, policy: fromIAMPolicy(pol)})
	}
	pol, err := crmSvc.Projects.GetIamPolicy(r.project, &crm.GetIamPolicyRequest{
		Options: &crm.GetPolicyOptions{RequestedPolicyVersion: 3},
	}).Context(ctx).Do()
	if err != nil {
		return nil, fmt.Errorf("gcp: get IAM policy of %s: %w", parent, err)
	}
	in.policies = append(in.policies, policyRec{file: parent,
		target: policyTarget{kind: targetProject, id: r.project}, policy: pol})
	if r.projectOnly {
		return in, nil
	}
	if err := r.readAncestors(ctx, in, crmSvc, opts); err != nil {
		return nil, err
	}
	return in, nil
}

// readAncestors adds the IAM policies of the project's folders and
// organization: bindings there apply to the project too. Folders are only
// in the v3 API.
func (r *Reader) readAncestors(ctx context.Context, in *inventory, crmSvc *crm.Service, opts []option.ClientOption) error {
	anc, err := crmSvc.Projects.GetAncestry(r.project, &crm.GetAncestryRequest{}).Context(ctx).Do()
	if err != nil {
		return fmt.Errorf("gcp: get ancestry of projects/%s: %w", r.project, err)
	}
	var folders *crm3.Service
	for _, a := range anc.Ancestor {
		if a == nil || a.ResourceId == nil {
			continue
		}
		id := a.ResourceId.Id
		switch a.ResourceId.Type {
		case "organization":
			pol, err := crmSvc.Organizations.GetIamPolicy("organizations/"+id, &crm.GetIamPolicyRequest{
				Options: &crm.GetPolicyOptions{RequestedPolicyVersion: 3},
			}).Context(ctx).Do()
			if err != nil {
				return fmt.Errorf("gcp: get IAM policy of organizations/%s: %w", id, err)
			}
			in.policies = append(in.policies, policyRec{file: "organizations/" + id,
				target: policyTarget{kind: targetOrganization, id: id}, policy: pol})
		case "folder":
			if folders == nil {
				if folders, err = crm3.NewService(ctx, opts...); err != nil {
					return fmt.Errorf("gcp: resource manager v3 client: %w", err)
				}
			}
			pol, err := folders.Folders.GetIamPolicy("folders/"+id, &crm3.GetIamPolicyRequest{
				Options: &crm3.GetPolicyOptions{RequestedPolicyVersion: 3},
			}).Context(ctx).Do()
			if err != nil {
				return fmt.Errorf("gcp: get IAM policy of folders/%s: %w", id, err)
			}
			in.policies = append(in.policies, policyRec{file: "folders/" + id,
				target: policyTarget{kind: targetFolder, id: id}, policy: fromV3Policy(pol)})
		}
	}
	return nil
}

// fromV3Policy converts the v3 resource manager's policy type.
func fromV3Policy(p *crm3.Policy) *crm.Policy {
	out := &crm.Policy{Etag: p.Etag, Version: p.Version}
	for _, b := range p.Bindings {
		nb := &crm.Binding{Role: b.Role, Members: b.Members}
		if b.Condition != nil {
			nb.Condition = &crm.Expr{Title: b.Condition.Title, Expression: b.Condition.Expression,
				Description: b.Condition.Description, Location: b.Condition.Location}
		}
		out.Bindings = append(out.Bindings, nb)
	}
	return out
}

// fromIAMPolicy converts the IAM API's policy type to the resource
// manager's, which has the same wire shape.
func fromIAMPolicy(p *iam.Policy) *crm.Policy {
	out := &crm.Policy{Etag: p.Etag, Version: p.Version}
	for _, b := range p.Bindings {
		nb := &crm.Binding{Role: b.Role, Members: b.Members}
		if b.Condition != nil {
			nb.Condition = &crm.Expr{Title: b.Condition.Title, Expression: b.Condition.Expression,
				Description: b.Condition.Description, Location: b.Condition.Location}
		}
		out.Bindings = append(out.Bindings, nb)
	}
	return out
}
