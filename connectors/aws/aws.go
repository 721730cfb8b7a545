// Package aws reads AWS IAM into the Steward graph: users, groups, roles,
// managed and inline policies, permissions boundaries, instance profiles,
// access keys and role trust, from `aws iam get-account-authorization-details`
// and credential-report exports or live through aws-sdk-go-v2. Grants carry
// the privilege that IAM policy evaluation gives (Deny and boundaries
// applied), and a role's trust policy becomes can_assume edges.
//
// See README.md for the formats read, the permissions the live path needs
// and how identities are classified.
package aws

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	inputfile "github.com/steward-oss/steward/connectors/input"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/connectors/cloudtrail"
	"github.com/steward-oss/steward/graph"
)

// Option names; they are CLI flags of `steward load aws` and keys in the
// sync config, so they are a public contract.
const (
	OptAuthorizationDetails = "authorization-details"
	OptCredentialReport     = "credential-report"
	OptCloudTrail           = "cloudtrail"
	OptLive                 = "live"
	OptProfile              = "profile"
	OptRegion               = "region"
	OptEndpoint             = "endpoint"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:     "aws",
		Summary:  "AWS IAM users, roles, groups, policies, access keys and role trust",
		Actuator: actuatorRegistration,
		Expect:   expect,
		Words:    words,
		Options: []connectors.Option{
			{Name: OptAuthorizationDetails, Usage: "file of `aws iam get-account-authorization-details` JSON (one object, an array of pages, or pages one after another)"},
			{Name: OptCredentialReport, Usage: "IAM credential report CSV file"},
			{Name: OptCloudTrail, Usage: "CloudTrail file or directory; adds used and created_by edges"},
			{Name: OptLive, Usage: "read live through the AWS API instead of files", Bool: true},
			{Name: OptProfile, Usage: "shared-config profile for --live"},
			{Name: OptRegion, Usage: "region for --live (IAM is global; default us-east-1)"},
			{Name: OptEndpoint, Usage: "IAM endpoint URL override for --live"},
		},
		New: New,
	})
}

// Reader reads IAM from files or the live API.
type Reader struct {
	opts   connectors.Options
	live   bool
	logger *slog.Logger
	// newClient builds the IAM client; tests keep the default, which
	// honours the endpoint option.
	newClient func(ctx context.Context) (iamAPI, error)
	// reportPoll is the wait between GenerateCredentialReport calls.
	reportPoll time.Duration
}

var _ connectors.Reader = (*Reader)(nil)

// New builds a Reader from options.
func New(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
	r := &Reader{opts: opts, logger: env.Logger}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	if v := opts[OptLive]; v != "" {
		live, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("aws: option %q: %q is not a boolean", OptLive, v)
		}
		r.live = live
	}
	if !r.live && opts[OptAuthorizationDetails] == "" && opts[OptCredentialReport] == "" {
		return nil, fmt.Errorf("aws: give --%s and/or --%s, or --%s", OptAuthorizationDetails, OptCredentialReport, OptLive)
	}
	if r.live && (opts[OptAuthorizationDetails] != "" || opts[OptCredentialReport] != "") {
		return nil, fmt.Errorf("aws: --%s reads the API; do not combine it with --%s or --%s", OptLive, OptAuthorizationDetails, OptCredentialReport)
	}
	r.newClient = r.defaultClient
	r.reportPoll = defaultReportPoll
	return r, nil
}

// Read loads everything and returns one subgraph per AWS account.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	var in *input
	var err error
	if r.live {
		in, err = r.readLive(ctx)
	} else {
		in, err = r.readFiles()
	}
	if err != nil {
		return nil, err
	}
	if p := r.opts[OptCloudTrail]; p != "" {
		events, err := cloudtrail.ReadPath(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("aws: option %q: %w", OptCloudTrail, err)
		}
		in.extra = cloudtrail.Build(events, awsid.SourceName)
	}
	sgs, err := build(in)
	if err != nil {
		return nil, err
	}
	r.logger.Info("aws: read", "accounts", len(sgs), "live", r.live)
	return sgs, nil
}

func (r *Reader) readFiles() (*input, error) {
	in := &input{}
	if p := r.opts[OptAuthorizationDetails]; p != "" {
		data, err := inputfile.ReadFile(p, inputfile.JSON)
		if err != nil {
			return nil, fmt.Errorf("aws: authorization-details: %w", err)
		}
		pages, err := decodeAuthzDetails(bytes.NewReader(data), p)
		if err != nil {
			return nil, err
		}
		if !hasAuthzLists(data) {
			return nil, fmt.Errorf("aws: authorization-details: %w", inputfile.Empty(p, "UserDetailList, GroupDetailList, RoleDetailList or Policies"))
		}
		in.details, in.detailsName = mergePages(pages), p
	}
	if p := r.opts[OptCredentialReport]; p != "" {
		data, err := inputfile.ReadFile(p, inputfile.CSVUnterminated) // IAM writes no final newline
		if err != nil {
			return nil, fmt.Errorf("aws: credential-report: %w", err)
		}
		rows, err := parseCredentialReport(bytes.NewReader(data), p)
		if err != nil {
			return nil, err
		}
		in.report, in.reportName = rows, p
	}
	return in, nil
}

// hasAuthzLists reports whether an authorization-details file names at
// least one of its lists: JSON of another shape (list-users output, a
// policy document) decodes into nothing and must not load as an empty
// account.
func hasAuthzLists(data []byte) bool {
	for _, k := range []string{`"UserDetailList"`, `"GroupDetailList"`, `"RoleDetailList"`, `"Policies"`} {
		if bytes.Contains(data, []byte(k)) {
			return true
		}
	}
	return false
}
