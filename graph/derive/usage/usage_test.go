package usage

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
)

var now = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

func day(n int) time.Time { return now.AddDate(0, 0, -n) }

func sg(nodes []string, edges ...graph.Edge) []*graph.Subgraph {
	g := &graph.Subgraph{Source: "aws:111122223333"}
	for _, n := range nodes {
		g.AddNode(graph.Node{ID: n, Kind: graph.KindServiceAccount, Name: n})
	}
	for _, e := range edges {
		g.AddEdge(e)
	}
	return []*graph.Subgraph{g}
}

func grant(from, action, resource string, p graph.Privilege) graph.Edge {
	return graph.Edge{From: from, To: "acct", Kind: graph.EdgeGrants, Action: action, Resource: resource, Effect: graph.EffectAllow, Privilege: p}
}

func used(from, action string, at time.Time, attrs map[string]string) graph.Edge {
	return graph.Edge{From: from, To: "svc", Kind: graph.EdgeUsed, Action: action, LastSeen: at, Attrs: attrs}
}

func TestUnusedPermissions(t *testing.T) {
	deny := grant("bot", "s3:DeleteObject", "*", graph.PrivWrite)
	deny.Effect = graph.EffectDeny
	cond := grant("bot", "kms:Decrypt", "*", graph.PrivWrite)
	cond.Conditional = true
	cond.Attrs = map[string]string{attrCondition: `{"StringEquals":{"aws:RequestedRegion":["eu-west-1"]}}`}
	tests := []struct {
		name                   string
		sgs                    []*graph.Subgraph
		id                     string
		window                 time.Duration
		wantUsed, wantUnused   []string
		wantNotGranted         []string
		wantStatements         []statement
		wantErr                error
		wantGrantedLen         int
		wantPolicyEmpty        bool
		wantUsedGrantedActions map[string]bool
	}{
		{
			name: "inline grants, one used by the identity, one by its key",
			sgs: sg([]string{"bot", "key"},
				grant("bot", "s3:GetObject", "arn:aws:s3:::b/*", graph.PrivRead),
				grant("bot", "s3:PutObject", "arn:aws:s3:::b/*", graph.PrivWrite),
				grant("bot", "ec2:Describe*", "*", graph.PrivRead),
				graph.Edge{From: "bot", To: "key", Kind: graph.EdgeHasCredential},
				used("bot", "s3:GetObject", day(2), nil),
				used("key", "s3:PutObject", day(10), nil)),
			id: "bot", window: 30 * 24 * time.Hour,
			wantUsed: []string{"s3:GetObject", "s3:PutObject"}, wantUnused: []string{"ec2:Describe*"},
			wantStatements: []statement{{Sid: "UsedInWindow1", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject"}, Resource: []string{"arn:aws:s3:::b/*"}}},
			wantGrantedLen: 3,
		},
		{
			name: "use outside the window does not count",
			sgs: sg([]string{"bot"},
				grant("bot", "s3:GetObject", "*", graph.PrivRead),
				used("bot", "s3:GetObject", day(40), nil)),
			id: "bot", window: 30 * 24 * time.Hour,
			wantUsed: []string{}, wantUnused: []string{"s3:GetObject"}, wantPolicyEmpty: true, wantGrantedLen: 1,
		},
		{
			name: "group (nested) and attached policies; wildcard partly used; case-insensitive",
			sgs: sg([]string{"bot", "g1", "g2", "pol"},
				graph.Edge{From: "bot", To: "g1", Kind: graph.EdgeMemberOf},
				graph.Edge{From: "g1", To: "g2", Kind: graph.EdgeMemberOf},
				graph.Edge{From: "pol", To: "g2", Kind: graph.EdgeAttachedTo},
				grant("pol", "S3:*", "*", graph.PrivWrite),
				grant("g1", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:q", graph.PrivWrite),
				used("bot", "s3:ListBucket", day(1), nil)),
			id: "bot", window: 7 * 24 * time.Hour,
			wantUsed: []string{"s3:ListBucket"}, wantUnused: []string{"sqs:SendMessage"},
			wantStatements: []statement{{Sid: "UsedInWindow1", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{"*"}}},
			wantGrantedLen: 2,
		},
		{
			name: "NotAction grant covers what it does not exclude",
			sgs: sg([]string{"bot"},
				grant("bot", "NotAction:iam:*,organizations:*", "*", graph.PrivWrite),
				used("bot", "lambda:InvokeFunction", day(1), nil),
				used("bot", "iam:CreateUser", day(1), nil)),
			id: "bot", window: 7 * 24 * time.Hour,
			wantUsed: []string{"lambda:InvokeFunction"}, wantNotGranted: []string{"iam:CreateUser"}, wantUnused: []string{},
			wantStatements: []statement{{Sid: "UsedInWindow1", Effect: "Allow", Action: []string{"lambda:InvokeFunction"}, Resource: []string{"*"}}},
			wantGrantedLen: 1,
		},
		{
			name: "deny and fully-denied grants are not grants; denied-only calls are not use",
			sgs: sg([]string{"bot"},
				deny,
				grant("bot", "dynamodb:*", "*", graph.PrivNone),
				grant("bot", "iam:ListUsers", "*", graph.PrivRead),
				used("bot", "iam:ListUsers", day(1), map[string]string{attrCount: "2", attrDenied: "2"})),
			id: "bot", window: 7 * 24 * time.Hour,
			wantUsed: []string{}, wantUnused: []string{"iam:ListUsers"}, wantPolicyEmpty: true, wantGrantedLen: 1,
		},
		{
			name: "condition carried into the tighter policy",
			sgs:  sg([]string{"bot"}, cond, used("bot", "kms:Decrypt", day(3), nil)),
			id:   "bot", window: 7 * 24 * time.Hour,
			wantUsed: []string{"kms:Decrypt"}, wantUnused: []string{},
			wantStatements: []statement{{Sid: "UsedInWindow1", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{"*"},
				Condition: json.RawMessage(`{"StringEquals":{"aws:RequestedRegion":["eu-west-1"]}}`)}},
			wantGrantedLen: 1,
		},
		{name: "unknown identity", sgs: sg([]string{"bot"}), id: "nobody", window: time.Hour, wantErr: ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := UnusedPermissions(tc.sgs, tc.id, tc.window, now)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rep.Used, tc.wantUsed) {
				t.Errorf("used = %v, want %v", rep.Used, tc.wantUsed)
			}
			if !reflect.DeepEqual(rep.Unused, tc.wantUnused) {
				t.Errorf("unused = %v, want %v", rep.Unused, tc.wantUnused)
			}
			if !reflect.DeepEqual(rep.UsedNotGranted, tc.wantNotGranted) {
				t.Errorf("used not granted = %v, want %v", rep.UsedNotGranted, tc.wantNotGranted)
			}
			if len(rep.Granted) != tc.wantGrantedLen {
				t.Errorf("granted = %d, want %d", len(rep.Granted), tc.wantGrantedLen)
			}
			if tc.wantPolicyEmpty {
				if rep.Policy != "" {
					t.Errorf("policy = %s, want none", rep.Policy)
				}
				return
			}
			var doc policyDoc
			if err := json.Unmarshal([]byte(rep.Policy), &doc); err != nil {
				t.Fatalf("policy is not JSON: %v\n%s", err, rep.Policy)
			}
			if doc.Version != "2012-10-17" {
				t.Errorf("policy version = %q", doc.Version)
			}
			if len(doc.Statement) != len(tc.wantStatements) {
				t.Fatalf("statements = %+v, want %+v", doc.Statement, tc.wantStatements)
			}
			for i := range doc.Statement {
				got, want := doc.Statement[i], tc.wantStatements[i]
				if compact(got.Condition) != compact(want.Condition) {
					t.Errorf("statement %d condition = %s, want %s", i, got.Condition, want.Condition)
				}
				got.Condition, want.Condition = nil, nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("statement %d = %+v, want %+v", i, got, want)
				}
			}
		})
	}
	t.Run("non-positive window", func(t *testing.T) {
		if _, err := UnusedPermissions(sg([]string{"bot"}), "bot", 0, now); err == nil {
			t.Fatal("want error")
		}
	})
}

func ips(m map[string]time.Time) string {
	s := map[string]string{}
	for k, v := range m {
		s[k] = v.Format(time.RFC3339)
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func TestAnomalies(t *testing.T) {
	d := func(n, h int) time.Time { return time.Date(2026, 11, n, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		sgs  []*graph.Subgraph
		want []Anomaly
	}{
		{
			name: "new IP and user agent on the latest day",
			sgs: sg([]string{"key"},
				used("key", "s3:GetObject", d(22, 8), map[string]string{
					attrSourceIPs:  ips(map[string]time.Time{"203.0.113.10": d(20, 8)}),
					attrUserAgents: ips(map[string]time.Time{"aws-cli/2.15": d(20, 8)})}),
				used("key", "s3:PutObject", d(23, 18), map[string]string{
					attrSourceIPs:  ips(map[string]time.Time{"198.51.100.7": d(23, 18), "203.0.113.10": d(21, 9)}),
					attrUserAgents: ips(map[string]time.Time{"Boto3/1.34": d(23, 18)})})),
			want: []Anomaly{
				{Subject: "key", Kind: NewSourceIP, Value: "198.51.100.7", FirstSeen: d(23, 18), Known: []string{"203.0.113.10"}},
				{Subject: "key", Kind: NewUserAgent, Value: "Boto3/1.34", FirstSeen: d(23, 18), Known: []string{"aws-cli/2.15"}},
			},
		},
		{
			name: "no history before the latest day, no baseline",
			sgs: sg([]string{"key"}, used("key", "s3:GetObject", d(23, 8), map[string]string{
				attrSourceIPs: ips(map[string]time.Time{"203.0.113.10": d(23, 1), "198.51.100.7": d(23, 8)})})),
			want: nil,
		},
		{
			name: "seen before on another action is not new",
			sgs: sg([]string{"key"},
				used("key", "s3:GetObject", d(20, 8), map[string]string{attrSourceIPs: ips(map[string]time.Time{"203.0.113.10": d(20, 8)})}),
				used("key", "s3:PutObject", d(23, 8), map[string]string{attrSourceIPs: ips(map[string]time.Time{"203.0.113.10": d(23, 8)})})),
			want: nil,
		},
		{
			name: "edges with only the latest address use first_seen",
			sgs: sg([]string{"bot"},
				used("bot", "s3:GetObject", d(21, 8), map[string]string{graph.AttrSourceIP: "203.0.113.10", attrFirstSeen: d(19, 8).Format(time.RFC3339)}),
				used("bot", "s3:PutObject", d(23, 8), map[string]string{graph.AttrSourceIP: "192.0.2.1"})),
			want: []Anomaly{{Subject: "bot", Kind: NewSourceIP, Value: "192.0.2.1", FirstSeen: d(23, 8), Known: []string{"203.0.113.10"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Anomalies(tc.sgs)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Anomalies =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func compact(b json.RawMessage) string {
	var buf bytes.Buffer
	if len(b) == 0 {
		return ""
	}
	if err := json.Compact(&buf, b); err != nil {
		return "invalid: " + err.Error()
	}
	return buf.String()
}

// Issue 13 item 1: use of an identity's credentials is its use, grants it
// holds through groups and assumable roles are its grants, and the action
// may be recorded in the used edge's attributes (as the demo and the k8s
// audit connector write it) rather than in Edge.Action.
func TestUnusedThroughGroupsRolesAndAttrs(t *testing.T) {
	attrsOnly := func(from, to, action string, at time.Time) graph.Edge {
		return graph.Edge{From: from, To: to, Kind: graph.EdgeUsed, LastSeen: at, Attrs: map[string]string{graph.AttrUsedAction: action}}
	}
	pgrant := func(from, to, action, resource string, p graph.Privilege) graph.Edge {
		return graph.Edge{From: from, To: to, Kind: graph.EdgeGrants, Action: action, Resource: resource, Effect: graph.EffectAllow, Privilege: p}
	}
	aws := sg([]string{"ci", "key", "group", "role", "polA", "polD", "bucketA", "bucketB", "cluster"},
		graph.Edge{From: "ci", To: "key", Kind: graph.EdgeHasCredential},
		graph.Edge{From: "ci", To: "group", Kind: graph.EdgeMemberOf},
		graph.Edge{From: "ci", To: "role", Kind: graph.EdgeCanAssume},
		graph.Edge{From: "polA", To: "group", Kind: graph.EdgeAttachedTo},
		graph.Edge{From: "polD", To: "role", Kind: graph.EdgeAttachedTo},
		pgrant("polA", "bucketA", "s3:GetObject", "arn:aws:s3:::a/*", graph.PrivRead),
		pgrant("polA", "bucketA", "s3:PutObject", "arn:aws:s3:::a/*", graph.PrivWrite),
		pgrant("polD", "bucketB", "s3:PutObject", "arn:aws:s3:::b/*", graph.PrivWrite),
		pgrant("polD", "cluster", "ecs:UpdateService", "arn:aws:ecs:us-east-1:1:service/prod/api", graph.PrivWrite),
		attrsOnly("key", "bucketA", "s3:PutObject", day(1)),
		attrsOnly("key", "cluster", "ecs:UpdateService", day(4)))
	rep, err := UnusedPermissions(aws, "ci", 30*24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ecs:UpdateService", "s3:PutObject"}; !reflect.DeepEqual(rep.Used, want) {
		t.Errorf("aws used = %v, want %v", rep.Used, want)
	}
	if len(rep.Granted) != 4 {
		t.Errorf("aws granted = %d, want 4 (group policy 2 + assumable role policy 2)", len(rep.Granted))
	}
	if want := []string{"s3:GetObject"}; !reflect.DeepEqual(rep.Unused, want) {
		t.Errorf("aws unused = %v, want %v", rep.Unused, want)
	}
	var doc policyDoc
	if err := json.Unmarshal([]byte(rep.Policy), &doc); err != nil {
		t.Fatalf("policy %q: %v", rep.Policy, err)
	}
	// The put went to bucket a: the grant on bucket b is not kept.
	want := []statement{
		{Sid: "UsedInWindow1", Effect: "Allow", Action: []string{"ecs:UpdateService"}, Resource: []string{"arn:aws:ecs:us-east-1:1:service/prod/api"}},
		{Sid: "UsedInWindow2", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{"arn:aws:s3:::a/*"}},
	}
	if !reflect.DeepEqual(doc.Statement, want) {
		t.Errorf("aws policy statements = %+v, want %+v", doc.Statement, want)
	}

	k8s := sg([]string{"sa", "view", "cluster", "ns"},
		graph.Edge{From: "view", To: "sa", Kind: graph.EdgeAttachedTo},
		pgrant("view", "cluster", "get,list,watch", "secrets", graph.PrivRead),
		pgrant("view", "cluster", "get,list,watch", "apps/deployments", graph.PrivRead),
		graph.Edge{From: "sa", To: "ns", Kind: graph.EdgeUsed, Action: "get", Resource: "secrets", LastSeen: day(2),
			Attrs: map[string]string{graph.AttrUsedAction: "get secrets"}})
	k8s[0].Source = "k8s:prod"
	for i := range k8s[0].Nodes {
		k8s[0].Nodes[i].Source = "k8s:prod"
	}
	rep, err = UnusedPermissions(k8s, "sa", 30*24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"get secrets"}; !reflect.DeepEqual(rep.Used, want) {
		t.Errorf("k8s used = %v, want %v", rep.Used, want)
	}
	if want := []string{"get,list,watch apps/deployments"}; !reflect.DeepEqual(rep.Unused, want) {
		t.Errorf("k8s unused = %v, want %v", rep.Unused, want)
	}
	var role struct {
		Kind  string `json:"kind"`
		Rules []struct {
			APIGroups []string `json:"apiGroups"`
			Resources []string `json:"resources"`
			Verbs     []string `json:"verbs"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(rep.Role), &role); err != nil || len(role.Rules) != 1 ||
		!reflect.DeepEqual(role.Rules[0].Resources, []string{"secrets"}) || !reflect.DeepEqual(role.Rules[0].Verbs, []string{"get"}) ||
		!reflect.DeepEqual(role.Rules[0].APIGroups, []string{""}) {
		t.Errorf("k8s role = %s (%v), want one rule get secrets in the core group", rep.Role, err)
	}
}

// Issue 13 item 8: anomalies need a window and a baseline, and a client
// address or agent the same source's other identities already use is not
// new to the organisation.
func TestAnomalyFilters(t *testing.T) {
	d := func(n, h int) time.Time { return time.Date(2026, 11, n, h, 0, 0, 0, time.UTC) }
	ip := func(v string) map[string]string { return map[string]string{graph.AttrSourceIP: v} }
	sgs := sg([]string{"k1", "k2", "k3"},
		// k1: history on the 10th and 12th, then a new address on the 23rd.
		used("k1", "s3:GetObject", d(10, 8), ip("203.0.113.10")),
		used("k1", "s3:ListBucket", d(12, 8), ip("203.0.113.10")),
		used("k1", "s3:PutObject", d(23, 8), ip("198.51.100.7")),
		// k2: its new address is one k3 has used for weeks.
		used("k2", "s3:GetObject", d(11, 8), ip("203.0.113.10")),
		used("k2", "s3:ListBucket", d(12, 8), ip("203.0.113.10")),
		used("k2", "s3:PutObject", d(23, 9), ip("192.0.2.50")),
		used("k3", "s3:GetObject", d(1, 8), ip("192.0.2.50")),
		// k3 also: one sighting before a new address; too thin a baseline.
		used("k3", "sqs:SendMessage", d(22, 8), ip("192.0.2.99")))
	opts := Options{Now: d(24, 0), Window: 7 * 24 * time.Hour, MinBaseline: 2, SourceWide: true}
	var got []string
	for _, a := range AnomaliesIn(sgs, opts) {
		got = append(got, a.Subject+" "+a.Value)
	}
	if want := []string{"k1 198.51.100.7"}; !reflect.DeepEqual(got, want) {
		t.Errorf("anomalies = %v, want %v", got, want)
	}
	opts.Now = d(31, 12) // k1's new address is older than the window
	if got := AnomaliesIn(sgs, opts); len(got) != 0 {
		t.Errorf("outside the window: %+v", got)
	}
}
