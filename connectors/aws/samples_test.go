package aws

import (
	"sort"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

// The public samples in testdata/samples (copied unchanged; provenance in
// testdata/samples/SOURCES.md); the facts asserted here are the ones
// SOURCES.md documents for each file.
const samples = "testdata/samples/"

func sampleReader(t *testing.T, opts connectors.Options) connectors.Reader {
	t.Helper()
	return newFileReader(t, opts)
}

// privesc lists cloudsplaining's numbered privesc principals that escalate
// through the IAM set (all but 17 and 19) for both users and roles, then
// the extra ids, sorted.
func privesc(rolePrefix, roleSuffix string, extra ...string) []string {
	names := []string{"privesc1-CreateNewPolicyVersion", "privesc10-PutUserPolicy", "privesc11-PutGroupPolicy",
		"privesc12-PutRolePolicy", "privesc13-AddUserToGroup", "privesc14-UpdatingAssumeRolePolicy",
		"privesc15-PassExistingRoleToNewLambdaThenInvoke", "privesc16-PassRoleToNewLambdaThenTriggerWithNewDynamo",
		"privesc18-PassExistingRoleToNewGlueDevEndpoint", "privesc2-SetExistingDefaultPolicyVersion",
		"privesc20-PassExistingRoleToCloudFormation", "privesc21-PassExistingRoleToNewDataPipeline",
		"privesc3-CreateEC2WithExistingInstanceProfile", "privesc4-CreateAccessKey", "privesc5-CreateLoginProfile",
		"privesc6-UpdateLoginProfile", "privesc7-AttachUserPolicy", "privesc8-AttachGroupPolicy", "privesc9-AttachRolePolicy"}
	out := append([]string(nil), extra...)
	for _, n := range names {
		out = append(out, rolePrefix+n+roleSuffix, "aws:200611803367:user/"+n+"-user")
	}
	sort.Strings(out)
	return out
}

// admins lists the ids of nodes whose evaluated privilege is admin.
func admins(sgs []*graph.Subgraph) []string {
	var out []string
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			if n.Attrs[attrEffective] == string(graph.PrivAdmin) {
				out = append(out, n.ID)
			}
		}
	}
	sort.Strings(out)
	return out
}

// countRoles counts IAM role nodes (service accounts of a role subtype).
func countRoles(sgs []*graph.Subgraph, source string) int {
	c := 0
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			if sg.Source == source && (n.Subtype == subtypeIAMRole || n.Subtype == subtypeServiceLinked) {
				c++
			}
		}
	}
	return c
}

func countKind(sgs []*graph.Subgraph, source string, kinds ...graph.Kind) int {
	c := 0
	for _, sg := range sgs {
		if source != "" && sg.Source != source {
			continue
		}
		for _, n := range sg.Nodes {
			for _, k := range kinds {
				if n.Kind == k {
					c++
				}
			}
		}
	}
	return c
}

func TestCloudsplainingSamples(t *testing.T) {
	tests := []struct {
		file   string
		admins []string
		counts map[string][3]int // source -> users, groups, roles
		check  func(t *testing.T, sgs []*graph.Subgraph)
	}{
		{
			file: "cloudsplaining-example.json",
			// Admins by "*" on "*" (as before), plus every principal that
			// can escalate: cloudsplaining's privesc1..16, 18, 20, 21 and
			// fn1/fn3/fn4 test principals (the escalation its own results
			// name), sre's PassRole, the SSM service role's PassRole, and
			// fp5, whose condition Steward does not evaluate (marked
			// conditional). Not admin: fp1..fp4 (denied or confined to one
			// resource), fn2, privesc17/19 (editing one Lambda or Glue
			// endpoint), the ssm/ec2-instance-connect/sagemaker-URL/
			// CloudFormation-update ones (outside the IAM escalation set).
			admins: append([]string{
				"aws:012345678901:group/admin",
				"aws:012345678901:role/MyOtherRole",
				"aws:012345678901:role/MyRole",
				"aws:012345678901:role/OverprivilegedEC2",
				"aws:012345678901:user/biden",
				"aws:012345678901:user/obama",
				"aws:012345678901:user/userwithlotsofpermissions",
				"aws:200611803367:group/privesc-sre-group",
				"aws:200611803367:role/AWS-QuickSetup-StackSet-Local-ExecutionRole",
				"aws:200611803367:role/OrganizationAccountAccessRole",
				"aws:200611803367:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_dc6414f7f2ab04fc",
				"aws:200611803367:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM",
				"aws:200611803367:role/fn1-privesc3-partial-role",
				"aws:200611803367:role/fn3-exploitableConditionConstraint-role",
				"aws:200611803367:role/fn4-exploitableNotAction-role",
				"aws:200611803367:role/fp5-nonExploitableConditionConstraint-role",
				"aws:200611803367:role/privesc-AssumeRole-ending-role",
				"aws:200611803367:role/privesc-codeBuildCreateProjectPassRole-role",
				"aws:200611803367:role/privesc-high-priv-service-role",
				"aws:200611803367:role/privesc-sageMakerCreateNotebookPassRole-role",
				"aws:200611803367:role/privesc-sageMakerCreateProcessingJobPassRole-role",
				"aws:200611803367:role/privesc-sageMakerCreateTrainingJobPassRole-role",
				"aws:200611803367:role/privesc-sre-role",
			}, privesc("aws:200611803367:role/", "-role", "aws:200611803367:role/stacksets-exec-b5520cb2730c2f54b523d6375a319abb",
				"aws:200611803367:user/fn1-privesc3-partial-user",
				"aws:200611803367:user/fn3-exploitableConditionConstraint-user",
				"aws:200611803367:user/fn4-exploitableNotAction-user",
				"aws:200611803367:user/fp5-nonExploitableConditionConstraint-user",
				"aws:200611803367:user/privesc-codeBuildCreateProjectPassRole-user",
				"aws:200611803367:user/privesc-sageMakerCreateNotebookPassRole-user",
				"aws:200611803367:user/privesc-sageMakerCreateProcessingJobPassRole-user",
				"aws:200611803367:user/privesc-sageMakerCreateTrainingJobPassRole-user",
				"aws:200611803367:user/privesc-sre-user")...),
			counts: map[string][3]int{"aws:200611803367": {41, 3, 75}, "aws:012345678901": {3, 2, 3}},
			check: func(t *testing.T, sgs []*graph.Subgraph) {
				// fp2-allow-all allows * on * but every holder also has
				// deny-all, so the grant gives nobody anything.
				for _, e := range connectortest.Edges(sgs, graph.EdgeGrants, "aws:200611803367:policy/fp2-allow-all", "aws:200611803367") {
					if e.Action == "*" && e.Privilege != graph.PrivNone {
						t.Errorf("fp2-allow-all * grant privilege = %s, want none", e.Privilege)
					}
				}
				u := connectortest.Find(t, sgs, "aws:200611803367:user/fp2-allow-and-deny-multiple-policies-user")
				if u.Attrs[attrEffective] != string(graph.PrivNone) {
					t.Errorf("fp2 user effective privilege = %s, want none", u.Attrs[attrEffective])
				}
			},
		},
		{
			file: "cloudsplaining-example-authz-details.json",
			// AdministratorAccess holders (SOURCES.md), plus the principals
			// cloudsplaining's own results for this export
			// (cloudsplaining-results-iam-results-example.json) find a
			// privilege escalation for: MyRole, MyOtherRole and biden hold
			// AWSLambdaFullAccess (iam:PassRole on *, PassExistingRoleToNewLambda),
			// OverprivilegedEC2's inline policy has iam:CreateAccessKey on *.
			admins: []string{"aws:012345678901:group/admin", "aws:012345678901:role/MyOtherRole", "aws:012345678901:role/MyRole",
				"aws:012345678901:role/OverprivilegedEC2", "aws:012345678901:user/biden",
				"aws:012345678901:user/obama", "aws:012345678901:user/userwithlotsofpermissions"},
			counts: map[string][3]int{"aws:012345678901": {3, 2, 3}},
		},
		{
			file:   "cloudsplaining-example_authz_details_for_overrides_complete.json",
			admins: []string{"aws:012345678901:group/GOATGroup", "aws:012345678901:role/GOATRole", "aws:012345678901:user/BlakeBortles"},
			counts: map[string][3]int{"aws:012345678901": {1, 1, 2}},
		},
		{
			// AdministratorAccess is attached but absent from Policies: it is
			// recognised by ARN. A group and a role are both named GOAT.
			file:   "cloudsplaining-example_authz_v2.json",
			admins: []string{"aws:012345678901:group/GOAT", "aws:012345678901:user/BlakeBortles"},
			counts: map[string][3]int{"aws:012345678901": {1, 1, 2}},
			check: func(t *testing.T, sgs []*graph.Subgraph) {
				connectortest.Find(t, sgs, "aws:012345678901:role/GOAT")
				p := connectortest.Find(t, sgs, "aws:012345678901:aws-managed-policy/AdministratorAccess")
				if p.Attrs[attrUnresolved] != "" {
					t.Error("AdministratorAccess marked unresolved")
				}
			},
		},
		{
			// The attached AWSLambdaReadOnlyAccess is not in Policies.
			file:   "cloudsplaining-managed_policy_mismatch.json",
			counts: map[string][3]int{"aws:123456789012": {0, 1, 0}},
			check: func(t *testing.T, sgs []*graph.Subgraph) {
				p := connectortest.Find(t, sgs, "aws:123456789012:aws-managed-policy/AWSLambdaReadOnlyAccess")
				if p.Attrs[attrUnresolved] != "true" {
					t.Error("unresolvable policy not marked unresolved")
				}
				if len(connectortest.Edges(sgs, graph.EdgeAttachedTo, p.ID, "aws:123456789012:group/anton-test")) != 1 {
					t.Error("attachment of the unresolved policy missing")
				}
			},
		},
		{
			file: "cloudsplaining-example_authz_details_for_overrides.json",
			check: func(t *testing.T, sgs []*graph.Subgraph) {
				if countKind(sgs, "", graph.KindPolicy) != 1 {
					t.Errorf("want the one customer-managed policy")
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			opts := connectors.Options{OptAuthorizationDetails: samples + tc.file}
			sgs := connectortest.Suite(t, func() connectors.Reader { return sampleReader(t, opts) }, nil)
			got := admins(sgs)
			if len(got) != len(tc.admins) {
				t.Errorf("admins = %v\nwant %v", got, tc.admins)
			} else {
				for i := range got {
					if got[i] != tc.admins[i] {
						t.Errorf("admins = %v\nwant %v", got, tc.admins)
						break
					}
				}
			}
			for src, c := range tc.counts {
				roles := countRoles(sgs, src)
				users := countKind(sgs, src, graph.KindUser, graph.KindServiceAccount) - roles
				groups := countKind(sgs, src, graph.KindGroup)
				if users != c[0] || groups != c[1] || roles != c[2] {
					t.Errorf("%s: users/groups/roles = %d/%d/%d, want %v", src, users, groups, roles, c)
				}
			}
			if tc.check != nil {
				tc.check(t, sgs)
			}
		})
	}
}

func TestCustodianCredentialReports(t *testing.T) {
	t.Run("test_account_credential_report", func(t *testing.T) {
		opts := connectors.Options{OptCredentialReport: samples + "cloud-custodian-credential-report-test_account_credential_report.csv"}
		sgs := connectortest.Suite(t, func() connectors.Reader { return sampleReader(t, opts) }, nil)
		src := "aws:644160558196"
		// 21 rows: root + 20 user rows, christopher twice.
		if n := countKind(sgs, src, graph.KindUser, graph.KindServiceAccount); n != 20 {
			t.Errorf("principals = %d, want 20 (root + 19 distinct users)", n)
		}
		active := map[string]int{}
		for _, e := range connectortest.Edges(sgs, graph.EdgeHasCredential, "", "") {
			for _, n := range sgs[0].Nodes {
				if n.ID == e.To && n.Subtype == subtypeAccessKey && n.Status == graph.StatusActive {
					active[e.From]++
				}
			}
		}
		if len(active) != 14 {
			t.Errorf("users with active keys = %d, want 14", len(active))
		}
		for _, u := range []string{"andrew", "kit"} {
			if active["aws:644160558196:user/"+u] != 2 {
				t.Errorf("%s active keys = %d, want 2", u, active["aws:644160558196:user/"+u])
			}
		}
		c7n := connectortest.Find(t, sgs, "aws:644160558196:user/c7n-iam-test")
		if c7n.Kind != graph.KindServiceAccount {
			t.Errorf("c7n-iam-test kind = %s, want service_account (keys, no password)", c7n.Kind)
		}
		root := connectortest.Find(t, sgs, "aws:644160558196:root")
		if root.Attrs[graph.AttrMFA] != "true" || len(connectortest.Edges(sgs, graph.EdgeHasCredential, root.ID, "")) != 0 {
			t.Errorf("root: mfa=%s, want true and no keys", root.Attrs[graph.AttrMFA])
		}
		noMFA := 0
		for _, n := range sgs[0].Nodes {
			if n.Attrs[attrConsole] == "true" && n.Attrs[graph.AttrMFA] == "false" {
				noMFA++
			}
		}
		// SOURCES.md counts 9 rows; christopher's two rows are one node.
		if noMFA != 8 {
			t.Errorf("console users without MFA = %d, want 8", noMFA)
		}
		for _, k := range []string{"andrew/slot-1", "c7n-iam-test/slot-1", "ryanwolfe/slot-1"} {
			n := connectortest.Find(t, sgs, "aws:644160558196:access-key/"+k)
			if n.Status != graph.StatusActive || !n.LastUsedAt.IsZero() {
				t.Errorf("%s: status=%s last used=%v, want active and never used", k, n.Status, n.LastUsedAt)
			}
		}
	})
	t.Run("test_iam_user_unused_keys", func(t *testing.T) {
		opts := connectors.Options{OptCredentialReport: samples + "cloud-custodian-credential-report-test_iam_user_unused_keys.csv"}
		sgs := connectortest.Suite(t, func() connectors.Reader { return sampleReader(t, opts) }, nil)
		rootKey := connectortest.Find(t, sgs, "aws:619193117841:access-key/<root_account>/slot-1")
		if rootKey.Status != graph.StatusActive || rootKey.Attrs[attrLastUsedService] != "s3" {
			t.Errorf("root key: %+v, want active, last used in s3", rootKey)
		}
		if len(connectortest.Edges(sgs, graph.EdgeHasCredential, "aws:619193117841:root", rootKey.ID)) != 1 {
			t.Error("root does not hold its access key")
		}
		var nhis []string
		for _, n := range sgs[0].Nodes {
			if n.Kind == graph.KindServiceAccount {
				nhis = append(nhis, n.Name)
			}
		}
		sort.Strings(nhis)
		want := []string{"Hazmat", "charmworld", "kapilt", "rome", "syracuse", "tyre"}
		if len(nhis) != len(want) {
			t.Fatalf("service accounts = %v, want %v", nhis, want)
		}
		for i := range want {
			if nhis[i] != want[i] {
				t.Fatalf("service accounts = %v, want %v", nhis, want)
			}
		}
		kaleb := connectortest.Find(t, sgs, "aws:619193117841:user/kaleb")
		if kaleb.Kind != graph.KindUser || kaleb.Attrs[graph.AttrMFA] != "false" || kaleb.Attrs[attrPasswordLastUsed] != "no_information" {
			t.Errorf("kaleb = %+v", kaleb)
		}
		for _, u := range []string{"charmworld", "Hazmat", "kaleb", "kapilt"} {
			if n := connectortest.Find(t, sgs, "aws:619193117841:access-key/"+u+"/slot-1"); !n.LastUsedAt.IsZero() {
				t.Errorf("%s key last used %v, want never", u, n.LastUsedAt)
			}
		}
	})
}
