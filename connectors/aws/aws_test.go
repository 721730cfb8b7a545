package aws

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

const acct = "111122223333"

var quietEnv = connectors.Env{Logger: slog.New(slog.DiscardHandler)}

func newFileReader(t testing.TB, opts connectors.Options) connectors.Reader {
	t.Helper()
	return connectortest.New(t, "aws", opts, quietEnv)
}

func fixtureOpts() connectors.Options {
	return connectors.Options{
		OptAuthorizationDetails: "testdata/authz-details.json",
		OptCredentialReport:     "testdata/credential-report.csv",
	}
}

func TestSuite(t *testing.T) {
	connectortest.Suite(t, func() connectors.Reader { return newFileReader(t, fixtureOpts()) }, nil)
}

func id(s string) string { return "aws:" + acct + ":" + s }

func TestFixtureNodes(t *testing.T) {
	sgs := connectortest.Read(t, newFileReader(t, fixtureOpts()))
	if len(sgs) != 1 || sgs[0].Source != "aws:"+acct {
		t.Fatalf("want one subgraph aws:%s, got %d", acct, len(sgs))
	}
	tests := []struct {
		name    string
		id      string
		kind    graph.Kind
		subtype string
		status  string
		attrs   map[string]string
	}{
		{"keys-only user is a service account", id("user/deploy-bot"), graph.KindServiceAccount, "", graph.StatusActive,
			map[string]string{"console_password": "false", "effective_privilege": "write", "arn": "arn:aws:iam::111122223333:user/deploy-bot"}},
		{"console user is a user; MFA deny makes admin conditional", id("user/people/alice"), graph.KindUser, "", "",
			map[string]string{"console_password": "true", "mfa": "true", "effective_privilege": "admin", "effective_privilege_conditional": "true", "path": "/people/"}},
		{"NotAction power user with IAM deny is write", id("user/etl"), graph.KindServiceAccount, "", "",
			map[string]string{"effective_privilege": "write"}},
		{"boundary cuts group admin to write", id("user/bounded-admin"), graph.KindUser, "", "",
			map[string]string{"effective_privilege": "write", "permissions_boundary": "arn:aws:iam::111122223333:policy/boundaries/s3-only",
				"password_last_used": "no_information", "password_never_expires": "true", "mfa": "false"}},
		{"user only in the credential report", id("user/legacy-sync"), graph.KindServiceAccount, "", "", map[string]string{"console_password": "false"}},
		{"root user", id("root"), graph.KindUser, "root", "", map[string]string{"mfa": "true"}},
		{"boundary caps an admin role", id("role/app/web-server"), graph.KindServiceAccount, subtypeIAMRole, "", map[string]string{"effective_privilege": "write"}},
		{"service-linked role", id("role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"), graph.KindServiceAccount, "service_linked", "",
			map[string]string{"effective_privilege": "write"}},
		{"read-only role", id("role/partner-audit"), graph.KindServiceAccount, subtypeIAMRole, "", map[string]string{"effective_privilege": "read"}},
		{"group with admin members", id("group/admins"), graph.KindGroup, "", "", map[string]string{"effective_privilege": "admin"}},
		{"instance profile", id("instance-profile/app/web-server"), graph.KindWorkload, "instance_profile", "", nil},
		{"access key slot 1", id("access-key/deploy-bot/slot-1"), graph.KindCredential, "access_key", graph.StatusActive,
			map[string]string{"last_used_region": "eu-west-1", "last_used_service": "s3", "slot": "1"}},
		{"inactive access key slot 2", id("access-key/deploy-bot/slot-2"), graph.KindCredential, "access_key", graph.StatusDisabled, nil},
		{"signing certificate", id("signing-certificate/etl/slot-1"), graph.KindCredential, "certificate", graph.StatusActive, nil},
		{"unattached customer policy", id("policy/unused-legacy"), graph.KindPolicy, "customer_managed", "", nil},
		{"AWS-managed policy is account scoped", id("aws-managed-policy/AdministratorAccess"), graph.KindPolicy, "aws_managed", "", nil},
		{"boundary policy", id("policy/boundaries/s3-only"), graph.KindPolicy, "customer_managed", "", map[string]string{"path": "/boundaries/"}},
		{"external account", "aws:444455556666", graph.KindAccount, "external", "", map[string]string{"external": "true"}},
		{"GitHub Actions workload identity", "github:oidc:repo:example-org/deploy-service:ref:refs/heads/main", graph.KindWorkload, "workload_identity", "",
			map[string]string{"sub": "repo:example-org/deploy-service:ref:refs/heads/main", "aud": "sts.amazonaws.com", "provider": "token.actions.githubusercontent.com"}},
		{"service principal", "aws:service/ec2.amazonaws.com", graph.KindResource, "aws_service", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := connectortest.Find(t, sgs, tc.id)
			if n.Kind != tc.kind || n.Subtype != tc.subtype {
				t.Errorf("kind/subtype = %s/%s, want %s/%s", n.Kind, n.Subtype, tc.kind, tc.subtype)
			}
			if tc.status != "" && n.Status != tc.status {
				t.Errorf("status = %q, want %q", n.Status, tc.status)
			}
			connectortest.HasAttrs(t, n.Attrs, tc.attrs)
		})
	}
	t.Run("times", func(t *testing.T) {
		k := connectortest.Find(t, sgs, id("access-key/deploy-bot/slot-1"))
		if want := time.Date(2026, 11, 23, 18, 42, 0, 0, time.UTC); !k.LastUsedAt.Equal(want) {
			t.Errorf("key last used = %v, want %v", k.LastUsedAt, want)
		}
		if want := time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC); !k.RotatedAt.Equal(want) || !k.CreatedAt.Equal(want) {
			t.Errorf("key rotated/created = %v/%v, want %v", k.RotatedAt, k.CreatedAt, want)
		}
		r := connectortest.Find(t, sgs, id("role/github-deploy"))
		if want := time.Date(2026, 11, 20, 14, 3, 11, 0, time.UTC); !r.LastUsedAt.Equal(want) {
			t.Errorf("role last used = %v, want %v", r.LastUsedAt, want)
		}
		u := connectortest.Find(t, sgs, id("user/deploy-bot"))
		if u.Tags["team"] != "platform" || u.Tags["owner"] != "alice@example.com" {
			t.Errorf("tags = %v", u.Tags)
		}
	})
}

func TestFixtureEdges(t *testing.T) {
	sgs := connectortest.Read(t, newFileReader(t, fixtureOpts()))
	account := "aws:" + acct
	tests := []struct {
		name              string
		kind              graph.EdgeKind
		from, to          string
		action, resource  string
		effect            string
		privilege         graph.Privilege
		conditional, none bool
	}{
		{name: "inline grant from principal", kind: graph.EdgeGrants, from: id("user/deploy-bot"), to: account,
			action: "s3:PutObject", resource: "arn:aws:s3:::example-artifacts/*", effect: "allow", privilege: graph.PrivWrite},
		{name: "read grant", kind: graph.EdgeGrants, from: id("user/deploy-bot"), to: account,
			action: "s3:ListAllMyBuckets", resource: "*", effect: "allow", privilege: graph.PrivRead},
		{name: "group inline read grant", kind: graph.EdgeGrants, from: id("group/ops"), to: account,
			action: "ec2:Describe*", resource: "*", effect: "allow", privilege: graph.PrivRead},
		{name: "admin policy held by an unbounded admin", kind: graph.EdgeGrants, from: id("aws-managed-policy/AdministratorAccess"), to: account,
			action: "*", resource: "*", effect: "allow", privilege: graph.PrivAdmin},
		{name: "NotAction grant", kind: graph.EdgeGrants, from: id("policy/power-no-iam"), to: account,
			action: "NotAction:iam:*,organizations:*", resource: "*", effect: "allow", privilege: graph.PrivWrite},
		{name: "deny grant", kind: graph.EdgeGrants, from: id("policy/deny-iam-writes"), to: account,
			action: "iam:Create*", resource: "*", effect: "deny", privilege: graph.PrivWrite},
		{name: "conditional deny recorded", kind: graph.EdgeGrants, from: id("group/admins"), to: account,
			action: "NotAction:iam:ChangePassword,sts:GetSessionToken", resource: "*", effect: "deny", privilege: graph.PrivWrite, conditional: true},
		{name: "boundary NotResource deny", kind: graph.EdgeGrants, from: id("policy/boundaries/s3-only"), to: account,
			action: "s3:DeleteBucket", resource: "NotResource:arn:aws:s3:::example-scratch", effect: "deny", privilege: graph.PrivWrite},
		{name: "unattached policy judged alone", kind: graph.EdgeGrants, from: id("policy/unused-legacy"), to: account,
			action: "dynamodb:*", resource: "*", effect: "allow", privilege: graph.PrivWrite},
		{name: "attached_to", kind: graph.EdgeAttachedTo, from: id("aws-managed-policy/AdministratorAccess"), to: id("group/admins")},
		{name: "attached_to role", kind: graph.EdgeAttachedTo, from: id("aws-managed-policy/AdministratorAccess"), to: id("role/app/web-server")},
		{name: "boundary is not an attachment", kind: graph.EdgeAttachedTo, from: id("policy/boundaries/s3-only"), to: id("user/bounded-admin"), none: true},
		{name: "member_of", kind: graph.EdgeMemberOf, from: id("user/people/alice"), to: id("group/admins")},
		{name: "has_credential", kind: graph.EdgeHasCredential, from: id("user/deploy-bot"), to: id("access-key/deploy-bot/slot-1")},
		{name: "root has no key", kind: graph.EdgeHasCredential, from: id("root"), none: true},
		{name: "in_account", kind: graph.EdgeInAccount, from: id("role/github-deploy"), to: account},
		{name: "GitHub OIDC trust with sub is unconditional", kind: graph.EdgeCanAssume,
			from: "github:oidc:repo:example-org/deploy-service:environment:prod", to: id("role/github-deploy")},
		{name: "cross-account trust with ExternalId", kind: graph.EdgeCanAssume, from: "aws:444455556666", to: id("role/partner-audit"), conditional: true},
		{name: "same-account user trust", kind: graph.EdgeCanAssume, from: id("user/deploy-bot"), to: id("role/partner-audit")},
		{name: "account root trust", kind: graph.EdgeCanAssume, from: account, to: id("role/partner-audit")},
		{name: "service trust", kind: graph.EdgeCanAssume, from: "aws:service/autoscaling.amazonaws.com", to: id("role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")},
		{name: "instance profile assumes its role", kind: graph.EdgeCanAssume, from: id("instance-profile/app/web-server"), to: id("role/app/web-server")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []graph.Edge
			for _, e := range connectortest.Edges(sgs, tc.kind, tc.from, tc.to) {
				if (tc.action == "" || e.Action == tc.action) && (tc.resource == "" || e.Resource == tc.resource) {
					got = append(got, e)
				}
			}
			if tc.none {
				if len(got) != 0 {
					t.Fatalf("want no %s edge %s -> %s, got %+v", tc.kind, tc.from, tc.to, got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("want one %s edge %s -> %s %s %s, got %d", tc.kind, tc.from, tc.to, tc.action, tc.resource, len(got))
			}
			e := got[0]
			if e.Effect != tc.effect || e.Privilege != tc.privilege || e.Conditional != tc.conditional {
				t.Errorf("effect/privilege/conditional = %s/%s/%v, want %s/%s/%v", e.Effect, e.Privilege, e.Conditional, tc.effect, tc.privilege, tc.conditional)
			}
		})
	}
}

func TestPageForms(t *testing.T) {
	one := connectortest.Read(t, newFileReader(t, fixtureOpts()))
	for _, f := range []string{"testdata/authz-details-paged.json", "testdata/authz-details-array.json"} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			opts := fixtureOpts()
			opts[OptAuthorizationDetails] = f
			got := connectortest.Read(t, newFileReader(t, opts))
			if !reflect.DeepEqual(one, got) {
				t.Fatal("paged input gave a different graph than the single page")
			}
		})
	}
}

// setOf builds the fixture's policy sets for direct evaluation.
func setsOf(t *testing.T) map[string]*PolicySet {
	t.Helper()
	f, err := os.Open("testdata/authz-details.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pages, err := decodeAuthzDetails(f, "authz-details.json")
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(&input{details: mergePages(pages)})
	if _, err := b.run(); err != nil {
		t.Fatal(err)
	}
	out := map[string]*PolicySet{}
	for _, p := range b.evaluated {
		out[p.id] = &p.set
	}
	return out
}

func TestEvaluate(t *testing.T) {
	sets := setsOf(t)
	tests := []struct {
		name, principal, action, resource string
		want                              Decision
		conditional                       bool
	}{
		{"inline allow, case-insensitive action", "user/deploy-bot", "S3:getobject", "arn:aws:s3:::example-artifacts/build.zip", Allowed, false},
		{"resource outside pattern", "user/deploy-bot", "s3:PutObject", "arn:aws:s3:::other/x", ImplicitDeny, false},
		{"group inline policy inherited", "user/deploy-bot", "ec2:DescribeInstances", "*", Allowed, false},
		{"NotAction excludes iam", "user/etl", "iam:GetUser", "*", ImplicitDeny, false},
		{"NotAction allows others", "user/etl", "lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:111122223333:function:f", Allowed, false},
		{"explicit deny wins over allow", "user/etl", "iam:CreateUser", "*", ExplicitDeny, false},
		{"NotAction second entry", "user/etl", "organizations:ListAccounts", "*", ImplicitDeny, false},
		{"boundary intersection", "user/bounded-admin", "ec2:RunInstances", "*", ImplicitDeny, false},
		{"boundary NotResource deny", "user/bounded-admin", "s3:DeleteBucket", "arn:aws:s3:::prod-data", ExplicitDeny, false},
		{"boundary allows, conditional deny may apply", "user/bounded-admin", "s3:DeleteBucket", "arn:aws:s3:::example-scratch", Allowed, true},
		{"admin under MFA condition", "user/people/alice", "ec2:RunInstances", "*", Allowed, true},
		{"NotAction of conditional deny", "user/people/alice", "iam:ChangePassword", "*", Allowed, false},
		{"role boundary", "role/app/web-server", "s3:GetObject", "arn:aws:s3:::b/k", Allowed, false},
		{"role boundary blocks admin", "role/app/web-server", "iam:CreateUser", "*", ImplicitDeny, false},
		{"unknown principal gets nothing", "role/partner-audit", "s3:GetObject", "*", ImplicitDeny, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, ok := sets[id(tc.principal)]
			if !ok {
				t.Fatalf("no policy set for %s", tc.principal)
			}
			got := ps.Evaluate(tc.action, tc.resource)
			if got.Decision != tc.want || got.Conditional != tc.conditional {
				t.Errorf("Evaluate(%s, %s) = %s/cond=%v, want %s/cond=%v", tc.action, tc.resource, got.Decision, got.Conditional, tc.want, tc.conditional)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	badDoc := `{"UserDetailList":[{"Path":"/","UserName":"u","UserId":"AIDAX","Arn":"arn:aws:iam::111122223333:user/u","CreateDate":"2020-01-01T00:00:00Z",
 "GroupList":[],"AttachedManagedPolicies":[],"UserPolicyList":[{"PolicyName":"p","PolicyDocument":"%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Maybe%22%2C%22Action%22%3A%22%2A%22%7D%5D%7D"}]}]}`
	badType := `{"UserDetailList":[{"UserName":42}]}`
	noAction := `{"Policies":[{"PolicyName":"p","Arn":"arn:aws:iam::111122223333:policy/p","PolicyVersionList":[{"IsDefaultVersion":true,"Document":{"Statement":{"Effect":"Allow","Resource":"*"}}}]}]}`
	tests := []struct {
		name string
		opts connectors.Options
		want []string
	}{
		{"truncated JSON names file and offset", connectors.Options{OptAuthorizationDetails: "testdata/bad-truncated.json"},
			[]string{"testdata/bad-truncated.json", "page[0]", "offset", "truncated"}},
		{"wrong type names JSON path", connectors.Options{OptAuthorizationDetails: connectortest.WriteTemp(t, "type.json", badType)},
			[]string{"type.json", "$.UserDetailList.UserName", "offset"}},
		{"bad policy document names its path", connectors.Options{OptAuthorizationDetails: connectortest.WriteTemp(t, "doc.json", badDoc)},
			[]string{"doc.json", "$.UserDetailList[0].UserPolicyList[0].PolicyDocument", `"p"`, "Maybe"}},
		{"statement without Action", connectors.Options{OptAuthorizationDetails: connectortest.WriteTemp(t, "noaction.json", noAction)},
			[]string{"noaction.json", "$.Policies[0].PolicyVersionList[0].Document", "Statement[0]", "neither Action nor NotAction"}},
		{"role without a name", connectors.Options{OptAuthorizationDetails: connectortest.WriteTemp(t, "noname.json", `{"RoleDetailList":[{"Arn":"arn:aws:iam::111122223333:role/r"}]}`)},
			[]string{"noname.json", "$.RoleDetailList[0].RoleName", "missing"}},
		{"user with a malformed ARN", connectors.Options{OptAuthorizationDetails: connectortest.WriteTemp(t, "arn.json", `{"UserDetailList":[{"UserName":"u","Arn":"arn:aws:iam:user/u"}]}`)},
			[]string{"arn.json", "$.UserDetailList[0].Arn", "malformed ARN"}},
		{"credential report with a bad ARN", connectors.Options{OptCredentialReport: connectortest.WriteTemp(t, "arn.csv", strings.Join(reportColumns, ",")+"\nu,not-an-arn,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A")},
			[]string{"arn.csv", "line 2", `column "arn"`}},
		{"not JSON at all", connectors.Options{OptAuthorizationDetails: connectortest.WriteTemp(t, "x.json", "user,arn\n")},
			[]string{"x.json", "offset 0"}},
		{"wrong CSV header names file and line", connectors.Options{OptCredentialReport: "testdata/bad-header.csv"},
			[]string{"testdata/bad-header.csv", "line 1", `"mfa_active"`}},
		{"bad CSV value names line and column", connectors.Options{OptCredentialReport: "testdata/bad-row.csv"},
			[]string{"testdata/bad-row.csv", "line 3", `"user_creation_time"`}},
		{"short CSV row", connectors.Options{OptCredentialReport: connectortest.WriteTemp(t, "short.csv", strings.Join(reportColumns, ",")+"\nu,arn:aws:iam::111122223333:user/u,2020-01-01T00:00:00+00:00\n")},
			[]string{"short.csv", "line 2", "3 fields"}},
		{"missing file", connectors.Options{OptAuthorizationDetails: "testdata/nope.json"}, []string{"testdata/nope.json"}},
		{"bad CloudTrail file", connectors.Options{OptAuthorizationDetails: "testdata/authz-details.json", OptCloudTrail: connectortest.WriteTemp(t, "trail.json", `{"Records":[{"eventName":"GetObject"}]}`)},
			[]string{"trail.json", "$.Records[0]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			connectortest.Bad(t, newFileReader(t, tc.opts), tc.want...)
		})
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts connectors.Options
		want string
	}{
		{"nothing to read", connectors.Options{}, "authorization-details"},
		{"live with files", connectors.Options{OptLive: "true", OptAuthorizationDetails: "x"}, "do not combine"},
		{"bad bool", connectors.Options{OptLive: "sometimes"}, "not a boolean"},
		{"unknown option", connectors.Options{"bucket": "x"}, "unknown option"},
	}
	for _, tc := range tests {
		connectortest.Refuses(t, tc.name, "aws", tc.opts, connectors.Env{}, tc.want)
	}
}

func TestReadHonoursContextForCloudTrail(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	opts := fixtureOpts()
	opts[OptCloudTrail] = "../cloudtrail/testdata/samples"
	if _, err := newFileReader(t, opts).Read(ctx); err == nil {
		t.Fatal("read with a cancelled context succeeded")
	}
}

func TestCloudTrailOption(t *testing.T) {
	opts := fixtureOpts()
	opts[OptCloudTrail] = "../cloudtrail/testdata/fixtures/trail"
	sgs := connectortest.Suite(t, func() connectors.Reader { return newFileReader(t, opts) }, []string{"AKIAIOSFODNN7EXAMPLE"})
	if len(sgs) != 1 || sgs[0].Source != "aws:"+acct {
		t.Fatalf("CloudTrail facts did not land in the account's aws source: %d subgraphs", len(sgs))
	}
	tests := []struct {
		name           string
		kind           graph.EdgeKind
		from, to, act  string
		wantAttrSource string
	}{
		{"used by user", graph.EdgeUsed, id("user/deploy-bot"), id("service/s3.amazonaws.com"), "s3:PutObject", "198.51.100.7"},
		{"used by role", graph.EdgeUsed, id("role/app/web-server"), id("service/ec2.amazonaws.com"), "ec2:DescribeInstances", "10.0.12.7"},
		{"created_by", graph.EdgeCreatedBy, id("user/new-bot"), id("user/people/alice"), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := connectortest.ActionEdges(sgs, tc.kind, tc.from, tc.to, tc.act)
			if len(got) != 1 || got[0].Attrs[graph.AttrSourceIP] != tc.wantAttrSource {
				t.Fatalf("want one %s edge %s -> %s %s from %q, got %+v", tc.kind, tc.from, tc.to, tc.act, tc.wantAttrSource, got)
			}
		})
	}
	n := connectortest.Find(t, sgs, id("service/s3.amazonaws.com"))
	if n.Kind != graph.KindResource || n.Source != "aws:"+acct {
		t.Errorf("service node = %+v", n)
	}
}

// A boundary whose document the export lacks cannot be evaluated: the
// principal keeps its full privilege (overstated rather than hidden) and
// says so.
func TestUnresolvedBoundary(t *testing.T) {
	doc := `{"UserDetailList":[{"Path":"/","UserName":"u","UserId":"AIDAEXAMPLEU","Arn":"arn:aws:iam::111122223333:user/u","CreateDate":"2020-01-01T00:00:00Z","GroupList":[],
	"AttachedManagedPolicies":[{"PolicyName":"AdministratorAccess","PolicyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}],
	"PermissionsBoundary":{"PermissionsBoundaryType":"Policy","PermissionsBoundaryArn":"arn:aws:iam::111122223333:policy/missing"}}]}`
	sgs := connectortest.Read(t, newFileReader(t, connectors.Options{OptAuthorizationDetails: connectortest.WriteTemp(t, "b.json", doc)}))
	u := connectortest.Find(t, sgs, id("user/u"))
	if u.Attrs[attrEffective] != "admin" || u.Attrs[attrBoundaryUnresolved] != "true" {
		t.Errorf("attrs = %v, want admin with an unresolved boundary", u.Attrs)
	}
	if p := connectortest.Find(t, sgs, id("policy/missing")); p.Attrs[attrUnresolved] != "true" {
		t.Errorf("boundary policy attrs = %v", p.Attrs)
	}
}
