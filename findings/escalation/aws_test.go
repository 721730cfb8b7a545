package escalation

import (
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
)

// TestAWSClasses: testdata/aws-authz-details.json holds one IAM user per
// escalation class (esc-*, named for the class it exercises) next to the
// admin targets they reach, and the variants that must not be found:
// read-only (ro-*), guarded by an explicit Deny (deny-*), by a permissions
// boundary (bounded-*), or aimed at something that is not admin.
func TestAWSClasses(t *testing.T) {
	ix := load(t, [2]any{"aws", connectors.Options{"authorization-details": "testdata/aws-authz-details.json"}})
	r := Analyze(ix)
	got := classesByName(ix, r)
	tests := []struct {
		user string
		want string // "" = no path
		// evidence: substrings the path's evidence must hold, in order.
		evidence []string
	}{
		{"esc-create-policy-version", "aws:CreatePolicyVersion", []string{"[iam:CreatePolicyVersion arn:aws:iam::444455556666:policy/app-policy]", "policy/app-policy -attached_to-> aws:444455556666:user/esc-create-policy-version"}},
		{"esc-set-default-policy-version", "aws:SetDefaultPolicyVersion", []string{"[iam:SetDefaultPolicyVersion"}},
		{"esc-attach-user-policy", "aws:AttachUserPolicy", []string{"[iam:AttachUserPolicy arn:aws:iam::444455556666:user/esc-attach-user-policy]"}},
		{"esc-attach-group-policy", "aws:AttachGroupPolicy", []string{"[iam:AttachGroupPolicy", "user/esc-attach-group-policy -member_of-> aws:444455556666:group/devs"}},
		{"esc-attach-role-policy", "aws:AttachRolePolicy", []string{"[iam:AttachRolePolicy", "-can_assume-> aws:444455556666:role/app-role"}},
		{"esc-put-user-policy", "aws:PutUserPolicy", []string{"[iam:PutUserPolicy"}},
		{"esc-put-group-policy", "aws:PutGroupPolicy", []string{"[iam:PutGroupPolicy", "-member_of-> aws:444455556666:group/devs"}},
		{"esc-put-role-policy", "aws:PutRolePolicy", []string{"[iam:PutRolePolicy", "-can_assume-> aws:444455556666:role/app-role"}},
		{"esc-add-user-to-group", "aws:AddUserToGroup", []string{"[iam:AddUserToGroup arn:aws:iam::444455556666:group/admins]", "-attached_to-> aws:444455556666:group/admins"}},
		{"esc-create-access-key", "aws:CreateAccessKey", []string{"[iam:CreateAccessKey arn:aws:iam::444455556666:user/*]", "-attached_to-> aws:444455556666:user/admin-user", "[* *]"}},
		{"esc-create-login-profile", "aws:CreateLoginProfile", []string{"[iam:CreateLoginProfile", "user/admin-user"}},
		{"esc-update-login-profile", "aws:UpdateLoginProfile", []string{"[iam:UpdateLoginProfile"}},
		{"esc-update-assume-role-policy", "aws:UpdateAssumeRolePolicy", []string{"[iam:UpdateAssumeRolePolicy", "[sts:AssumeRole", "-attached_to-> aws:444455556666:role/admin-role"}},
		{"esc-passrole-lambda", "aws:PassRole:lambda", []string{"[iam:PassRole", "[lambda:CreateFunction", "[lambda:InvokeFunction", "aws:service/lambda.amazonaws.com -can_assume-> aws:444455556666:role/admin-role"}},
		{"esc-passrole-ec2", "aws:PassRole:ec2", []string{"[iam:PassRole arn:aws:iam::444455556666:role/*]", "[ec2:RunInstances", "ec2.amazonaws.com -can_assume->"}},
		{"esc-passrole-glue", "aws:PassRole:glue", []string{"[iam:PassRole *]", "[glue:CreateDevEndpoint"}},
		{"esc-passrole-cloudformation", "aws:PassRole:cloudformation", []string{"[cloudformation:CreateStack"}},
		{"esc-passrole-ecs", "aws:PassRole:ecs", []string{"[ecs:RegisterTaskDefinition", "[ecs:RunTask", "ecs-tasks.amazonaws.com -can_assume->"}},
		{"esc-assume-role-chain", "aws:AssumeRoleChain", []string{"user/esc-assume-role-chain -can_assume-> aws:444455556666:role/hop-role", "role/hop-role -can_assume-> aws:444455556666:role/admin-role"}},
		{"ro-iam-reader", "", nil},
		{"ro-self-service-keys", "", nil},
		{"deny-create-policy-version", "", nil},
		{"deny-passrole-lambda", "", nil},
		{"deny-inline-access-key", "", nil},
		{"bounded-put-user-policy", "", nil},
		{"passrole-no-service", "", nil},
		{"passrole-nonadmin-role", "", nil},
		{"chain-to-nonadmin", "", nil},
		{"access-key-nonadmin-target", "", nil},
		{"admin-user", "", nil}, // already admin: nothing to escalate to
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			classes := got[tt.user]
			if tt.want == "" {
				if len(classes) != 0 {
					t.Fatalf("want no path, got %v", classes)
				}
				return
			}
			if len(classes) != 1 || classes[0] != tt.want {
				t.Fatalf("classes = %v, want [%s]", classes, tt.want)
			}
			i, _ := ix.Lookup("aws:444455556666:user/" + tt.user)
			ok, _ := r.Admin(i)
			if !ok {
				t.Fatal("Admin() = false")
			}
			ev := evidenceString(ix, r.Paths(i)[0])
			at := 0
			for _, want := range tt.evidence {
				k := strings.Index(ev[at:], want)
				if k < 0 {
					t.Fatalf("evidence lacks %q (in order) in:\n%s", want, ev)
				}
				at += k + len(want)
			}
		})
	}
	// Every AWS class but the chain class is exercised by one user above.
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.want] = true
	}
	for _, c := range Classes {
		if c.Platform == "aws" && !seen[c.ID] {
			t.Errorf("class %s has no fixture", c.ID)
		}
	}
}
