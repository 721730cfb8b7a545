package cloudtrail

import (
	"compress/gzip"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

const acct = "111122223333"

var quietEnv = connectors.Env{Logger: slog.New(slog.DiscardHandler)}

// Full key ids present in the fixtures; only masked forms and
// fingerprints may reach the graph.
var keyIDs = []string{"AKIAIOSFODNN7EXAMPLE", "AKIAEXAMPLENEWBOT001", "AKIAJEXAMPLEETLKEY01"}

func reader(t testing.TB, from string) connectors.Reader {
	t.Helper()
	return connectortest.New(t, "cloudtrail", connectors.Options{OptFrom: from}, quietEnv)
}

func id(s string) string { return "aws:" + acct + ":" + s }

func TestFixtures(t *testing.T) {
	sgs := connectortest.Suite(t, func() connectors.Reader { return reader(t, "testdata/fixtures") }, keyIDs)
	if len(sgs) != 1 || sgs[0].Source != "cloudtrail:"+acct {
		t.Fatalf("want one subgraph cloudtrail:%s, got %d", acct, len(sgs))
	}
	s3 := ServiceNodeID(acct, "s3.amazonaws.com")
	botKey := awsid.AccessKeyNodeID(acct, "deploy-bot", "AKIAIOSFODNN7EXAMPLE")
	tests := []struct {
		name, from, to, action string
		lastSeen               time.Time
		attrs                  map[string]string
	}{
		{"user, latest of three reads", id("user/deploy-bot"), s3, "s3:GetObject", time.Date(2026, 11, 23, 8, 15, 2, 0, time.UTC),
			map[string]string{graph.AttrSourceIP: "203.0.113.10", AttrCount: "3", AttrFirstSeen: "2026-11-20T08:15:00Z", graph.AttrUsedAction: "s3:GetObject"}},
		{"long-term key by fingerprint id", botKey, s3, "s3:GetObject", time.Date(2026, 11, 23, 8, 15, 2, 0, time.UTC), map[string]string{AttrCount: "3"}},
		{"write from a new address", botKey, s3, "s3:PutObject", time.Date(2026, 11, 23, 18, 42, 0, 0, time.UTC),
			map[string]string{graph.AttrSourceIP: "198.51.100.7", AttrSourceIPs: `{"198.51.100.7":"2026-11-23T18:42:00Z"}`}},
		{"denied call counted", id("user/deploy-bot"), ServiceNodeID(acct, "iam.amazonaws.com"), "iam:ListUsers", time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
			map[string]string{AttrDenied: "1"}},
		{"assumed role maps to the issuer role", id("role/github-deploy"), s3, "s3:PutObject", time.Date(2026, 11, 22, 16, 0, 9, 0, time.UTC), nil},
		{"role path kept from the issuer ARN (gzip file)", id("role/app/web-server"), ServiceNodeID(acct, "ec2.amazonaws.com"), "ec2:DescribeInstances",
			time.Date(2026, 11, 23, 23, 59, 1, 0, time.UTC), nil},
		{"lookup-events output", awsid.AccessKeyNodeID(acct, "etl", "AKIAJEXAMPLEETLKEY01"), ServiceNodeID(acct, "dynamodb.amazonaws.com"), "dynamodb:CreateTable",
			time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := connectortest.ActionEdges(sgs, graph.EdgeUsed, tc.from, tc.to, tc.action)
			if len(got) != 1 {
				t.Fatalf("want one used edge %s -> %s %s, got %d", tc.from, tc.to, tc.action, len(got))
			}
			if !got[0].LastSeen.Equal(tc.lastSeen) {
				t.Errorf("last seen = %v, want %v", got[0].LastSeen, tc.lastSeen)
			}
			connectortest.HasAttrs(t, got[0].Attrs, tc.attrs)
		})
	}
	created := []struct{ name, from string }{
		{"CreateUser", id("user/new-bot")},
		{"CreateAccessKey", awsid.AccessKeyNodeID(acct, "new-bot", "AKIAEXAMPLENEWBOT001")},
		{"CreateRole", id("role/service/lambda-exec")},
	}
	for _, tc := range created {
		t.Run("created_by "+tc.name, func(t *testing.T) {
			es := connectortest.Edges(sgs, graph.EdgeCreatedBy, tc.from, id("user/people/alice"))
			if len(es) != 1 || es[0].Attrs[AttrEvent] != tc.name {
				t.Fatalf("want one created_by edge from %s to alice with event %s, got %+v", tc.from, tc.name, es)
			}
		})
	}
	t.Run("temporary keys have no node", func(t *testing.T) {
		for _, e := range sgs[0].Edges {
			if e.Kind == graph.EdgeUsed && e.From != id("user/deploy-bot") && e.From != id("role/github-deploy") &&
				e.From != id("role/app/web-server") && e.From != id("user/etl") && e.From != botKey &&
				e.From != awsid.AccessKeyNodeID(acct, "etl", "AKIAJEXAMPLEETLKEY01") && e.From != id("user/people/alice") {
				t.Errorf("unexpected used edge from %s", e.From)
			}
		}
	})
}

func TestPublicSamples(t *testing.T) {
	// Copied unchanged from the public samples; provenance in
	// testdata/samples/SOURCES.md.
	const dir = "testdata/samples"
	sgs := connectortest.Suite(t, func() connectors.Reader { return reader(t, dir) }, nil)
	var sources []string
	for _, sg := range sgs {
		sources = append(sources, sg.Source)
	}
	// 101010101111's create-db and create-volume events carry malformed
	// ARNs and map to nobody; its s3 event (Sandbox_Dev) still counts.
	want := []string{"cloudtrail:101010101111", "cloudtrail:123456789123", "cloudtrail:619193117841", "cloudtrail:644160558196"}
	if len(sources) != len(want) {
		t.Fatalf("sources = %v, want %v", sources, want)
	}
	for i := range want {
		if sources[i] != want[i] {
			t.Fatalf("sources = %v, want %v", sources, want)
		}
	}
	tests := []struct {
		name, from, to, action string
		lastSeen               time.Time
		ip                     string
	}{
		{"IAM user", "aws:644160558196:user/c7nbot", "aws:644160558196:service/ec2.amazonaws.com", "ec2:RunInstances", time.Date(2016, 7, 24, 10, 57, 13, 0, time.UTC), "204.63.44.142"},
		{"root from EventBridge", "aws:619193117841:root", "aws:619193117841:service/s3.amazonaws.com", "s3:CreateBucket", time.Date(2016, 6, 4, 12, 19, 3, 0, time.UTC), "204.63.44.148"},
		{"root via autoscaling", "aws:619193117841:root", "aws:619193117841:service/ec2.amazonaws.com", "ec2:RunInstances", time.Date(2016, 5, 21, 16, 11, 14, 0, time.UTC), "autoscaling.amazonaws.com"},
		{"assumed role in EventBridge", "aws:123456789123:role/c7nbot", "aws:123456789123:service/elasticloadbalancing.amazonaws.com", "elasticloadbalancing:AddTags", time.Date(2022, 7, 13, 20, 7, 38, 0, time.UTC), "AWS Internal"},
		{"cross-account session lands in the recording account", "aws:03412312600:role/GR_Dev_Developer", "aws:644160558196:service/ec2.amazonaws.com", "ec2:RunInstances", time.Date(2016, 7, 24, 10, 57, 13, 0, time.UTC), "204.63.44.142"},
		{"assumed role without key", "aws:101010101111:role/Sandbox_Dev", "aws:101010101111:service/s3.amazonaws.com", "s3:CreateBucket", time.Date(2015, 11, 23, 7, 45, 25, 0, time.UTC), "101.244.214.105"},
		{"user with an e-mail name", "aws:644160558196:user/fake@fakeemail.com", "aws:644160558196:service/glue.amazonaws.com", "glue:PutResourcePolicy", time.Date(2020, 6, 4, 15, 18, 28, 0, time.UTC), "99.99.99.99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := connectortest.Edges(sgs, graph.EdgeUsed, tc.from, tc.to)
			if len(es) != 1 || es[0].Action != tc.action || !es[0].LastSeen.Equal(tc.lastSeen) || es[0].Attrs[graph.AttrSourceIP] != tc.ip {
				t.Fatalf("used %s -> %s: got %+v, want %s at %v from %s", tc.from, tc.to, es, tc.action, tc.lastSeen, tc.ip)
			}
		})
	}
	t.Run("ASIA keys of IAM users have no node", func(t *testing.T) {
		for _, sg := range sgs {
			for _, e := range sg.Edges {
				if e.Kind == graph.EdgeUsed && strings.Contains(e.From, "access-key/") {
					t.Errorf("used edge from key %s; all sample keys are temporary", e.From)
				}
			}
		}
	})
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadInput(t *testing.T) {
	gz := filepath.Join(t.TempDir(), "bad.json.gz")
	f, _ := os.Create(gz)
	zw := gzip.NewWriter(f)
	zw.Write([]byte(`{"Records":[{"eventName":"GetObject","eventSource":"s3.amazonaws.com","eventTime":"yesterday","userIdentity":{}}]}`))
	zw.Close()
	f.Close()
	tests := []struct {
		name, path string
		want       []string
	}{
		{"truncated JSON", write(t, "trunc.json", `{"Records":[{"eventName":"GetObject",`), []string{"trunc.json", "unexpected end"}},
		{"syntax error has offset", write(t, "syntax.json", `{"Records":[}`), []string{"syntax.json", "offset 13"}},
		{"record without eventSource", write(t, "nosrc.json", `{"Records":[{"eventName":"GetObject","eventTime":"2026-01-01T00:00:00Z"}]}`), []string{"nosrc.json", "$.Records[0]", "eventSource"}},
		{"bad time in gzip file", gz, []string{"bad.json.gz", "$.Records[0].eventTime", "yesterday"}},
		{"lookup-events entry without CloudTrailEvent", write(t, "lookup.json", `{"Events":[{"EventName":"X"}]}`), []string{"lookup.json", "$.Events[0].CloudTrailEvent"}},
		{"CloudTrailEvent is not a record", write(t, "lookup2.json", `{"Events":[{"CloudTrailEvent":"{\"eventName\":1}"}]}`), []string{"lookup2.json", "$.Events[0].CloudTrailEvent.eventName"}},
		{"unknown shape", write(t, "other.json", `{"Items":[]}`), []string{"other.json", "neither Records"}},
		{"other EventBridge event", write(t, "eb.json", `{"detail-type":"EC2 Instance State-change Notification","detail":{}}`), []string{"eb.json", "detail-type"}},
		{"missing path", "testdata/nope", []string{"testdata/nope"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			connectortest.Bad(t, reader(t, tc.path), tc.want...)
		})
	}
}

func TestAction(t *testing.T) {
	tests := []struct{ src, name, want string }{
		{"s3.amazonaws.com", "GetObject", "s3:GetObject"},
		{"elasticloadbalancing.amazonaws.com", "AddTags", "elasticloadbalancing:AddTags"},
		{"sts.amazonaws.com", "AssumeRole", "sts:AssumeRole"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := Action(tc.src, tc.name); got != tc.want {
				t.Errorf("Action = %q, want %q", got, tc.want)
			}
		})
	}
}
