package awsid

import (
	"strings"
	"testing"

	"github.com/steward-oss/steward/internal/secret"
)

func TestPrincipalNodeID(t *testing.T) {
	tests := []struct {
		name, arn, want string
		wantErr         bool
	}{
		{"user", "arn:aws:iam::111122223333:user/deploy-bot", "aws:111122223333:user/deploy-bot", false},
		{"user with path", "arn:aws:iam::111122223333:user/people/alice", "aws:111122223333:user/people/alice", false},
		{"role with path", "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
			"aws:111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", false},
		{"assumed-role session", "arn:aws:sts::111122223333:assumed-role/github-deploy/GitHubActions", "aws:111122223333:role/github-deploy", false},
		{"root", "arn:aws:iam::111122223333:root", "aws:111122223333:root", false},
		{"GovCloud partition", "arn:aws-us-gov:iam::111122223333:group/ops", "aws:111122223333:group/ops", false},
		{"malformed (empty service)", "arn:aws::sts:101010101111:assumed-role/UserRole/userid", "", true},
		{"not a principal", "arn:aws:s3:::bucket", "", true},
		{"federated user", "arn:aws:sts::111122223333:federated-user/bob", "", true},
		{"not an ARN", "AROAEXAMPLE", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PrincipalNodeID(tc.arn)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("PrincipalNodeID(%q) = %q, %v; want %q, err=%v", tc.arn, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestPolicyNodeID(t *testing.T) {
	tests := []struct{ name, acct, arn, want string }{
		{"customer managed", "111122223333", "arn:aws:iam::111122223333:policy/boundaries/s3-only", "aws:111122223333:policy/boundaries/s3-only"},
		{"AWS managed is scoped to the loading account", "111122223333", "arn:aws:iam::aws:policy/AdministratorAccess", "aws:111122223333:aws-managed-policy/AdministratorAccess"},
		{"AWS managed with path", "444455556666", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole", "aws:444455556666:aws-managed-policy/service-role/AWSLambdaRole"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PolicyNodeID(tc.acct, tc.arn)
			if err != nil || got != tc.want {
				t.Errorf("PolicyNodeID = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestAccessKeyIDs(t *testing.T) {
	const key = "AKIAIOSFODNN7EXAMPLE" // AWS's documented example key id
	tests := []struct{ name, got, want string }{
		{"mask", secret.Mask(key), "AKIA…MPLE"},
		{"short ids are fully masked", secret.Mask("AKIA1234"), "********"},
		{"fingerprint", KeyFingerprint(key), "1a5d44a2dca19669d72edf4c4f1c27c4c1ca4b4408fbb17f6ce4ad452d78ddb3"},
		{"node id", AccessKeyNodeID("111122223333", "deploy-bot", key), "aws:111122223333:access-key/deploy-bot/AKIA…MPLE/" + KeyFingerprint(key)[:12]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
			if strings.Contains(tc.got, key) {
				t.Errorf("%q contains the full key id", tc.got)
			}
		})
	}
	t.Run("fingerprint is hex sha256", func(t *testing.T) {
		fp := KeyFingerprint(key)
		if len(fp) != 64 || strings.Trim(fp, "0123456789abcdef") != "" {
			t.Errorf("fingerprint %q is not 64 hex digits", fp)
		}
		if KeyFingerprint(key) == KeyFingerprint("AKIAI44QH8DHBEXAMPLE") {
			t.Error("different keys share a fingerprint")
		}
	})
	t.Run("long-term vs temporary", func(t *testing.T) {
		if !IsLongTermKeyID(key) || IsLongTermKeyID("ASIAIBYSIDIWJHEJYUIQ") || IsLongTermKeyID("1345351435") {
			t.Error("IsLongTermKeyID misclassifies")
		}
	})
}
