package escalation

import "sort"

// policyActions are the action sets that make one AWS policy document, on
// its own, an escalation of each class: the principal-level checks without
// their targets (a policy does not say who holds it or which roles exist),
// the way cloudsplaining rates a policy. The role-policy and trust classes
// need sts:AssumeRole too, since a policy alone can only use a role it can
// assume.
var policyActions = []struct {
	class   string
	actions [][]string
}{
	{"aws:CreatePolicyVersion", [][]string{{"iam:CreatePolicyVersion"}}},
	{"aws:SetDefaultPolicyVersion", [][]string{{"iam:SetDefaultPolicyVersion"}}},
	{"aws:AttachUserPolicy", [][]string{{"iam:AttachUserPolicy"}}},
	{"aws:AttachGroupPolicy", [][]string{{"iam:AttachGroupPolicy"}}},
	{"aws:AttachRolePolicy", [][]string{{"iam:AttachRolePolicy", "sts:AssumeRole"}}},
	{"aws:PutUserPolicy", [][]string{{"iam:PutUserPolicy"}}},
	{"aws:PutGroupPolicy", [][]string{{"iam:PutGroupPolicy"}}},
	{"aws:PutRolePolicy", [][]string{{"iam:PutRolePolicy", "sts:AssumeRole"}}},
	{"aws:AddUserToGroup", [][]string{{"iam:AddUserToGroup"}}},
	{"aws:CreateAccessKey", [][]string{{"iam:CreateAccessKey"}}},
	{"aws:CreateLoginProfile", [][]string{{"iam:CreateLoginProfile"}}},
	{"aws:UpdateLoginProfile", [][]string{{"iam:UpdateLoginProfile"}}},
	{"aws:UpdateAssumeRolePolicy", [][]string{{"iam:UpdateAssumeRolePolicy", "sts:AssumeRole"}}},
}

// PolicyClasses returns the AWS classes the grants edges of one policy
// document allow by themselves (Denies in the same document apply;
// resources and conditions are ignored, as a policy-level rating does).
func PolicyClasses(p *Permissions) []string {
	var out []string
	check := func(class string, sets [][]string) {
		for _, set := range sets {
			if _, _, ok := p.allowedAll(set...); ok {
				out = append(out, class)
				return
			}
		}
	}
	for _, pa := range policyActions {
		check(pa.class, pa.actions)
	}
	for _, s := range passRoleServices {
		var sets [][]string
		for _, set := range s.actions {
			sets = append(sets, append([]string{"iam:PassRole"}, set...))
		}
		check(s.class, sets)
	}
	sort.Strings(out)
	return out
}
