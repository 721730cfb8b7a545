package usage

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/steward-oss/steward/connectors"
	_ "github.com/steward-oss/steward/connectors/aws" // registers "aws"
	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/connectors/cloudtrail"
)

// The attribute names this package reads are the ones the connectors
// write.
func TestAttrNamesMatchConnectors(t *testing.T) {
	pairs := [][2]string{
		{attrSourceIPs, cloudtrail.AttrSourceIPs}, {attrUserAgents, cloudtrail.AttrUserAgents},
		{attrFirstSeen, cloudtrail.AttrFirstSeen}, {attrCount, cloudtrail.AttrCount}, {attrDenied, cloudtrail.AttrDenied},
	}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("usage reads %q, cloudtrail writes %q", p[0], p[1])
		}
	}
}

// End to end on the connectors' fixtures: IAM from connectors/aws and
// events from connectors/cloudtrail.
func TestOnConnectorFixtures(t *testing.T) {
	r, err := connectors.New("aws", connectors.Options{
		"authorization-details": "../../../connectors/aws/testdata/authz-details.json",
		"credential-report":     "../../../connectors/aws/testdata/credential-report.csv",
		"cloudtrail":            "../../../connectors/cloudtrail/testdata/fixtures",
	}, connectors.Env{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sgs, err := r.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const bot = "aws:111122223333:user/deploy-bot"
	t.Run("unused permissions of deploy-bot", func(t *testing.T) {
		rep, err := UnusedPermissions(sgs, bot, 30*24*time.Hour, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"s3:GetObject", "s3:PutObject"}; !reflect.DeepEqual(rep.Used, want) {
			t.Errorf("used = %v, want %v", rep.Used, want)
		}
		if want := []string{"cloudwatch:Get*", "cloudwatch:List*", "ec2:Describe*", "s3:ListAllMyBuckets"}; !reflect.DeepEqual(rep.Unused, want) {
			t.Errorf("unused = %v, want %v", rep.Unused, want)
		}
		var doc policyDoc
		if err := json.Unmarshal([]byte(rep.Policy), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Statement) != 1 || !reflect.DeepEqual(doc.Statement[0].Resource, []string{"arn:aws:s3:::example-artifacts/*"}) {
			t.Errorf("policy = %s", rep.Policy)
		}
	})
	t.Run("anomalies", func(t *testing.T) {
		key := awsid.AccessKeyNodeID("111122223333", "deploy-bot", "AKIAIOSFODNN7EXAMPLE")
		var got []string
		for _, a := range Anomalies(sgs) {
			got = append(got, a.Subject+" "+a.Kind+" "+a.Value)
		}
		ua := "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.1 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.0"
		// Sorted by subject: the key's id sorts before the user's.
		want := []string{
			key + " " + NewSourceIP + " 198.51.100.7",
			key + " " + NewUserAgent + " " + ua,
			bot + " " + NewSourceIP + " 198.51.100.7",
			bot + " " + NewUserAgent + " " + ua,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("anomalies =\n%v\nwant\n%v", got, want)
		}
		// The default filters (7 days, 2 earlier uses, source-wide
		// baseline) keep this real departure.
		got = nil
		for _, a := range AnomaliesIn(sgs, DefaultOptions(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))) {
			got = append(got, a.Subject+" "+a.Kind+" "+a.Value)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("default-filtered anomalies =\n%v\nwant\n%v", got, want)
		}
	})
}
