package aws

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// authzDetails is one page of `aws iam get-account-authorization-details`
// (or GetAccountAuthorizationDetails) output. Policy documents stay raw
// until build time so that a bad one is reported with its JSON path.
type authzDetails struct {
	UserDetailList  []userDetail    `json:"UserDetailList"`
	GroupDetailList []groupDetail   `json:"GroupDetailList"`
	RoleDetailList  []roleDetail    `json:"RoleDetailList"`
	Policies        []managedPolicy `json:"Policies"`
	IsTruncated     bool            `json:"IsTruncated"`
	Marker          string          `json:"Marker"`
}

type userDetail struct {
	Path                    string           `json:"Path"`
	UserName                string           `json:"UserName"`
	UserID                  string           `json:"UserId"`
	Arn                     string           `json:"Arn"`
	CreateDate              awsTime          `json:"CreateDate"`
	GroupList               []string         `json:"GroupList"`
	AttachedManagedPolicies []attachedPolicy `json:"AttachedManagedPolicies"`
	UserPolicyList          []inlinePolicy   `json:"UserPolicyList"`
	PermissionsBoundary     *boundaryRef     `json:"PermissionsBoundary"`
	Tags                    []tag            `json:"Tags"`
}

type groupDetail struct {
	Path                    string           `json:"Path"`
	GroupName               string           `json:"GroupName"`
	GroupID                 string           `json:"GroupId"`
	Arn                     string           `json:"Arn"`
	CreateDate              awsTime          `json:"CreateDate"`
	GroupPolicyList         []inlinePolicy   `json:"GroupPolicyList"`
	AttachedManagedPolicies []attachedPolicy `json:"AttachedManagedPolicies"`
}

type roleDetail struct {
	Path                     string            `json:"Path"`
	RoleName                 string            `json:"RoleName"`
	RoleID                   string            `json:"RoleId"`
	Arn                      string            `json:"Arn"`
	CreateDate               awsTime           `json:"CreateDate"`
	AssumeRolePolicyDocument json.RawMessage   `json:"AssumeRolePolicyDocument"`
	InstanceProfileList      []instanceProfile `json:"InstanceProfileList"`
	RolePolicyList           []inlinePolicy    `json:"RolePolicyList"`
	AttachedManagedPolicies  []attachedPolicy  `json:"AttachedManagedPolicies"`
	PermissionsBoundary      *boundaryRef      `json:"PermissionsBoundary"`
	Tags                     []tag             `json:"Tags"`
	RoleLastUsed             *roleLastUsed     `json:"RoleLastUsed"`
}

type roleLastUsed struct {
	LastUsedDate awsTime `json:"LastUsedDate"`
	Region       string  `json:"Region"`
}

type instanceProfile struct {
	Path                string  `json:"Path"`
	InstanceProfileName string  `json:"InstanceProfileName"`
	InstanceProfileID   string  `json:"InstanceProfileId"`
	Arn                 string  `json:"Arn"`
	CreateDate          awsTime `json:"CreateDate"`
	Tags                []tag   `json:"Tags"`
}

type managedPolicy struct {
	PolicyName                    string          `json:"PolicyName"`
	PolicyID                      string          `json:"PolicyId"`
	Arn                           string          `json:"Arn"`
	Path                          string          `json:"Path"`
	DefaultVersionID              string          `json:"DefaultVersionId"`
	AttachmentCount               int             `json:"AttachmentCount"`
	PermissionsBoundaryUsageCount int             `json:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool            `json:"IsAttachable"`
	Description                   string          `json:"Description"`
	CreateDate                    awsTime         `json:"CreateDate"`
	UpdateDate                    awsTime         `json:"UpdateDate"`
	PolicyVersionList             []policyVersion `json:"PolicyVersionList"`
}

type policyVersion struct {
	Document         json.RawMessage `json:"Document"`
	VersionID        string          `json:"VersionId"`
	IsDefaultVersion bool            `json:"IsDefaultVersion"`
	CreateDate       awsTime         `json:"CreateDate"`
}

type attachedPolicy struct {
	PolicyName string `json:"PolicyName"`
	PolicyArn  string `json:"PolicyArn"`
}

type inlinePolicy struct {
	PolicyName     string          `json:"PolicyName"`
	PolicyDocument json.RawMessage `json:"PolicyDocument"`
}

type boundaryRef struct {
	PermissionsBoundaryType string `json:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `json:"PermissionsBoundaryArn"`
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// awsTime accepts the timestamp spellings seen in IAM exports: RFC 3339
// ("2019-12-18T19:10:08Z"), the AWS CLI's Python form with a space
// ("2019-12-18 19:10:08+00:00"), and epoch seconds.
type awsTime struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05.999999Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
}

func parseAWSTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised timestamp %q", s)
}

func (t *awsTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		var sec float64
		if err := json.Unmarshal(b, &sec); err != nil {
			return err
		}
		t.Time = time.Unix(int64(sec), 0).UTC()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		return nil
	}
	v, err := parseAWSTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// decodeAuthzDetails reads an authorization-details file: one JSON object,
// a JSON array of pages, or several page objects one after another (what
// `--no-paginate` loops and `jq -c` produce). name is used in errors.
func decodeAuthzDetails(r io.Reader, name string) ([]authzDetails, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	dec := json.NewDecoder(br)
	first, err := firstByte(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("aws: authorization-details %q: empty file", name)
		}
		return nil, fmt.Errorf("aws: authorization-details %q: %w", name, err)
	}
	var pages []authzDetails
	switch first {
	case '[':
		if err := dec.Decode(&pages); err != nil {
			return nil, jsonErr(name, "$", dec, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("aws: authorization-details %q: offset %d: data after the page array", name, dec.InputOffset())
		}
	case '{':
		for i := 0; ; i++ {
			var p authzDetails
			err := dec.Decode(&p)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, jsonErr(name, fmt.Sprintf("page[%d]", i), dec, err)
			}
			pages = append(pages, p)
		}
	default:
		return nil, fmt.Errorf("aws: authorization-details %q: offset 0: expected a JSON object or array, found %q", name, first)
	}
	return pages, nil
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b == ' ' || b == '\n' || b == '\r' || b == '\t' {
			continue
		}
		if b == 0xEF { // UTF-8 byte order mark
			if _, err := br.Discard(2); err != nil {
				return 0, err
			}
			continue
		}
		return b, br.UnreadByte()
	}
}

// jsonErr turns a decoding error into one naming the file, the page, the
// JSON path of the bad field when known, and the byte offset.
func jsonErr(name, page string, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("aws: authorization-details %q: %s: offset %d: %w", name, page, se.Offset, err)
	case errors.As(err, &te):
		return fmt.Errorf("aws: authorization-details %q: %s: %s: offset %d: %w", name, page, jsonPath(te), te.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("aws: authorization-details %q: %s: offset %d: truncated JSON: %w", name, page, dec.InputOffset(), err)
	}
	return fmt.Errorf("aws: authorization-details %q: %s: offset %d: %w", name, page, dec.InputOffset(), err)
}

func jsonPath(te *json.UnmarshalTypeError) string {
	p := te.Field
	if te.Struct != "" && p == "" {
		p = te.Struct
	}
	if p == "" {
		return "$"
	}
	return "$." + strings.TrimPrefix(p, ".")
}

// merge concatenates pages into one.
func mergePages(pages []authzDetails) authzDetails {
	var out authzDetails
	for _, p := range pages {
		out.UserDetailList = append(out.UserDetailList, p.UserDetailList...)
		out.GroupDetailList = append(out.GroupDetailList, p.GroupDetailList...)
		out.RoleDetailList = append(out.RoleDetailList, p.RoleDetailList...)
		out.Policies = append(out.Policies, p.Policies...)
	}
	return out
}
