package gcp

import (
	"context"
	"fmt"

	crm "google.golang.org/api/cloudresourcemanager/v1"
	iam "google.golang.org/api/iam/v1"
	"google.golang.org/api/option"
)

// readLive lists the project's service accounts, each one's keys and IAM
// policy, and the project's IAM policy, through the official clients.
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
	return in, nil
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
