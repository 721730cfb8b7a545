// Package awsid builds the graph node ids of AWS entities. It is shared by
// connectors/aws and connectors/cloudtrail (which connectors/aws also
// imports, so the ids cannot live in connectors/aws itself) so that a
// CloudTrail event lands on the very node the IAM reader emitted.
package awsid

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/steward-oss/steward/internal/secret"
)

// Node ids. Every id is "aws:<account>:<type>/<path+name>" where the
// suffix is the resource part of the entity's ARN, so ids are stable across
// loads and CloudTrail events map onto them without a lookup. These helpers
// are exported because connectors/cloudtrail builds the same ids.

// SourceName is the subgraph source of one AWS account.
func SourceName(account string) string { return "aws:" + account }

// AccountNodeID is the node id of an AWS account.
func AccountNodeID(account string) string { return "aws:" + account }

// RootNodeID is the node id of an account's root user.
func RootNodeID(account string) string { return "aws:" + account + ":root" }

// ServiceNodeID is the node id of an AWS service principal
// ("ec2.amazonaws.com"), which trust policies name.
func ServiceNodeID(service string) string { return "aws:service/" + strings.ToLower(service) }

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits an ARN into its fields.
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" {
		return ARN{}, fmt.Errorf("malformed ARN %q", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// PrincipalNodeID maps the ARN of an IAM user, role, group, instance
// profile or customer-managed policy, or an STS assumed-role session, to its
// node id. A session maps to its role; the role's path is not in a session
// ARN, so callers that know the issuer's ARN (CloudTrail's sessionIssuer)
// should pass that instead. The account root maps to RootNodeID.
func PrincipalNodeID(arn string) (string, error) {
	a, err := ParseARN(arn)
	if err != nil {
		return "", err
	}
	if a.Account == "" {
		return "", fmt.Errorf("ARN %q has no account", arn)
	}
	switch a.Service {
	case "iam":
		if a.Resource == "root" {
			return RootNodeID(a.Account), nil
		}
		typ, _, ok := strings.Cut(a.Resource, "/")
		if !ok {
			return "", fmt.Errorf("ARN %q has no resource type", arn)
		}
		switch typ {
		case "user", "role", "group", "instance-profile", "policy", "oidc-provider", "saml-provider":
			return "aws:" + a.Account + ":" + a.Resource, nil
		}
		return "", fmt.Errorf("ARN %q: unsupported IAM resource type %q", arn, typ)
	case "sts":
		rest, ok := strings.CutPrefix(a.Resource, "assumed-role/")
		if !ok {
			return "", fmt.Errorf("ARN %q: unsupported STS resource", arn)
		}
		role, _, _ := strings.Cut(rest, "/")
		if role == "" {
			return "", fmt.Errorf("ARN %q: assumed-role without role name", arn)
		}
		return "aws:" + a.Account + ":role/" + role, nil
	}
	return "", fmt.Errorf("ARN %q is not an IAM or STS principal", arn)
}

// PolicyNodeID is the node id of a managed policy as seen from account.
// AWS-managed policies (account "aws" in the ARN) are scoped to the loading
// account: a policy node's grants point at that account, so one node shared
// by two accounts would wrongly extend one account's grants to the other.
func PolicyNodeID(account, policyARN string) (string, error) {
	a, err := ParseARN(policyARN)
	if err != nil {
		return "", err
	}
	if a.Service != "iam" || !strings.HasPrefix(a.Resource, "policy/") {
		return "", fmt.Errorf("ARN %q is not an IAM policy", policyARN)
	}
	if a.Account == "aws" {
		return "aws:" + account + ":aws-managed-policy/" + strings.TrimPrefix(a.Resource, "policy/"), nil
	}
	return "aws:" + a.Account + ":" + a.Resource, nil
}

// KeyFingerprint is the hex SHA-256 of an access key id, used to match a
// key across sources (CloudTrail, leak scanners) without storing the id.
func KeyFingerprint(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// AccessKeyNodeID is the node id of an IAM user's access key whose id is
// known. The masked id alone could collide, so a fingerprint prefix makes
// it unique; neither part reveals the full key id.
func AccessKeyNodeID(account, userName, keyID string) string {
	return "aws:" + account + ":access-key/" + userName + "/" + secret.Mask(keyID) + "/" + KeyFingerprint(keyID)[:12]
}

// AccessKeySlotNodeID names a key known only by its slot (1 or 2) in the
// credential report, which does not list key ids.
func AccessKeySlotNodeID(account, userName string, slot int) string {
	return fmt.Sprintf("aws:%s:access-key/%s/slot-%d", account, userName, slot)
}

// CertSlotNodeID names an X.509 signing certificate by its report slot.
func CertSlotNodeID(account, userName string, slot int) string {
	return fmt.Sprintf("aws:%s:signing-certificate/%s/slot-%d", account, userName, slot)
}

// IsLongTermKeyID reports whether id is an IAM user's long-term access key
// (AKIA…) rather than temporary session credentials (ASIA…), which have no
// node of their own.
func IsLongTermKeyID(id string) bool { return strings.HasPrefix(id, "AKIA") && len(id) >= 16 }
