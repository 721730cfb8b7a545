package aws

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

// TestManagedPolicyPrivilege rates AWS managed policies, read from their
// real documents in the cloudsplaining example export, against what AWS
// documents each one for: ReadOnlyAccess, SecurityAudit and
// AmazonS3ReadOnlyAccess read; PowerUserAccess writes everything but IAM
// and Organizations; IAMFullAccess can grant itself anything (iam:* on *),
// so it is admin like AdministratorAccess.
func TestManagedPolicyPrivilege(t *testing.T) {
	b, err := os.ReadFile(samples + "cloudsplaining-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Policies []struct {
			PolicyName        string
			PolicyVersionList []struct {
				Document         json.RawMessage
				IsDefaultVersion bool
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	docs := map[string]*Document{}
	for _, p := range d.Policies {
		for _, v := range p.PolicyVersionList {
			if v.IsDefaultVersion {
				doc, err := ParseDocument(v.Document)
				if err != nil {
					t.Fatalf("%s: %v", p.PolicyName, err)
				}
				docs[p.PolicyName] = doc
			}
		}
	}
	tests := []struct {
		policy string
		want   graph.Privilege
	}{
		{"AdministratorAccess", graph.PrivAdmin},
		{"IAMFullAccess", graph.PrivAdmin},
		{"PowerUserAccess", graph.PrivWrite},
		{"AmazonS3FullAccess", graph.PrivWrite},
		{"ReadOnlyAccess", graph.PrivRead},
		{"SecurityAudit", graph.PrivRead},
		{"AmazonS3ReadOnlyAccess", graph.PrivRead},
	}
	for _, tc := range tests {
		doc := docs[tc.policy]
		if doc == nil {
			t.Errorf("%s not in the sample", tc.policy)
			continue
		}
		ps := &PolicySet{Identity: doc.Statement}
		if got, _ := ps.Privilege(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.policy, got, tc.want)
		}
	}
}

// TestEscalationIsAdmin: permissions that let a principal give itself any
// permission (new keys or passwords for other users, passing roles,
// attaching or writing policies, new policy versions) on every resource
// are admin, not write; on one named resource they stay write.
func TestEscalationIsAdmin(t *testing.T) {
	tests := []struct {
		name, doc string
		want      graph.Privilege
	}{
		{"CreateAccessKey on *", `{"Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*"}]}`, graph.PrivAdmin},
		{"PassRole on *", `{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}`, graph.PrivAdmin},
		{"Attach*Policy", `{"Statement":[{"Effect":"Allow","Action":"iam:Attach*Policy","Resource":"*"}]}`, graph.PrivAdmin},
		{"PutRolePolicy on every role", `{"Statement":[{"Effect":"Allow","Action":"iam:PutRolePolicy","Resource":"arn:aws:iam::111122223333:role/*"}]}`, graph.PrivAdmin},
		{"CreatePolicyVersion", `{"Statement":[{"Effect":"Allow","Action":["iam:CreatePolicyVersion"],"Resource":"*"}]}`, graph.PrivAdmin},
		{"UpdateLoginProfile", `{"Statement":[{"Effect":"Allow","Action":"iam:UpdateLoginProfile","Resource":"*"}]}`, graph.PrivAdmin},
		{"NotAction s3 covers iam", `{"Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`, graph.PrivAdmin},
		{"own key only", `{"Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}]}`, graph.PrivWrite},
		{"one role passed", `{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app"}]}`, graph.PrivWrite},
		{"denied", `{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`, graph.PrivNone},
		{"read IAM", `{"Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}`, graph.PrivRead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := ParseDocument([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			ps := &PolicySet{Identity: doc.Statement}
			if got, _ := ps.Privilege(); got != tc.want {
				t.Errorf("principal privilege %s, want %s", got, tc.want)
			}
		})
	}
	// The grants edge carries it too, and the index derives admin from it.
	opts := connectors.Options{OptAuthorizationDetails: "testdata/escalation.json"}
	sgs := connectortest.Suite(t, func() connectors.Reader { return newFileReader(t, opts) }, nil)
	ix := graph.Build(sgs)
	for _, tc := range []struct {
		id   string
		want graph.Privilege
	}{
		{"aws:111122223333:user/key-minter", graph.PrivAdmin},
		{"aws:111122223333:role/ci-passer", graph.PrivAdmin},
		{"aws:111122223333:user/self-service", graph.PrivWrite},
	} {
		i, ok := ix.Lookup(tc.id)
		if !ok {
			t.Fatalf("%s missing", tc.id)
		}
		if got, _ := ix.Privilege(i); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.id, got, tc.want)
		}
	}
}

// TestRolesAreIdentities: IAM roles are what workloads, services and other
// accounts act as, so they are identities. The cloudsplaining example
// export has 3 users, 3 roles and 1 instance profile (counted from its
// UserDetailList, RoleDetailList and InstanceProfileList).
func TestRolesAreIdentities(t *testing.T) {
	opts := connectors.Options{OptAuthorizationDetails: samples + "cloudsplaining-example-authz-details.json"}
	sgs := connectortest.Suite(t, func() connectors.Reader { return sampleReader(t, opts) }, nil)
	identities := 0
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			if n.Kind.IsIdentity() {
				identities++
			}
		}
	}
	if identities != 7 {
		t.Errorf("%d identities, want 7 (3 users, 3 roles, 1 instance profile)", identities)
	}
	for _, name := range []string{"MyRole", "MyOtherRole", "OverprivilegedEC2"} {
		n := connectortest.Find(t, sgs, "aws:012345678901:role/"+name)
		if !n.Kind.IsIdentity() || n.Subtype != subtypeIAMRole {
			t.Errorf("role %s: kind %s subtype %q, want an identity of subtype %s", name, n.Kind, n.Subtype, subtypeIAMRole)
		}
	}
}
