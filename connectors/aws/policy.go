package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/steward-oss/steward/internal/glob"
)

// Document is a parsed IAM policy document (identity, boundary or trust
// policy).
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement. The Not* forms are kept apart from
// the positive ones because their meaning is the complement, and a nil
// slice means the element was absent.
type Statement struct {
	Sid          string     `json:"Sid,omitempty"`
	Effect       string     `json:"Effect"`
	Principal    *Principal `json:"Principal,omitempty"`
	NotPrincipal *Principal `json:"NotPrincipal,omitempty"`
	Action       strList    `json:"Action,omitempty"`
	NotAction    strList    `json:"NotAction,omitempty"`
	Resource     strList    `json:"Resource,omitempty"`
	NotResource  strList    `json:"NotResource,omitempty"`
	Condition    Condition  `json:"Condition,omitempty"`
}

// Condition maps operator -> condition key -> values, as written.
type Condition map[string]map[string]strList

// Principal is a trust-policy principal: either "*" or a map of principal
// type ("AWS", "Service", "Federated", "CanonicalUser") to values.
type Principal struct {
	Any   bool
	Typed map[string]strList
}

// UnmarshalJSON accepts "*" or an object of string-or-array values.
func (p *Principal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s != "*" {
			return fmt.Errorf("principal string %q is not \"*\"", s)
		}
		p.Any = true
		return nil
	}
	return json.Unmarshal(b, &p.Typed)
}

// MarshalJSON writes the principal back in its source form.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.Any {
		return []byte(`"*"`), nil
	}
	return json.Marshal(p.Typed)
}

// strList is a policy element that may be a single string or an array.
// Scalars that are not strings (true, 3600) become their JSON text, which
// is how IAM compares them.
type strList []string

func (l *strList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '[':
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		out := make(strList, 0, len(raw))
		for _, r := range raw {
			s, err := scalar(r)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		*l = out
		return nil
	default:
		s, err := scalar(b)
		if err != nil {
			return err
		}
		*l = strList{s}
		return nil
	}
}

func scalar(b json.RawMessage) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	}
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		return "", fmt.Errorf("expected a string, got %.20s", b)
	}
	return string(b), nil
}

// UnmarshalJSON accepts a single statement object or an array of them.
func (d *Document) UnmarshalJSON(b []byte) error {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	d.Version = raw.Version
	st := bytes.TrimSpace(raw.Statement)
	switch {
	case len(st) == 0 || string(st) == "null":
		return fmt.Errorf("policy has no Statement")
	case st[0] == '{':
		var s Statement
		if err := json.Unmarshal(st, &s); err != nil {
			return fmt.Errorf("Statement: %w", err)
		}
		d.Statement = []Statement{s}
	default:
		if err := json.Unmarshal(st, &d.Statement); err != nil {
			return fmt.Errorf("Statement: %w", err)
		}
	}
	for i, s := range d.Statement {
		if err := s.validate(); err != nil {
			//lint:ignore ST1005 the message starts with the policy document's field name, spelt as IAM spells it
			return fmt.Errorf("Statement[%d]: %w", i, err)
		}
	}
	return nil
}

func (s Statement) validate() error {
	switch {
	case !strings.EqualFold(s.Effect, "Allow") && !strings.EqualFold(s.Effect, "Deny"):
		//lint:ignore ST1005 the message starts with the policy document's field name, spelt as IAM spells it
		return fmt.Errorf("Effect %q is neither Allow nor Deny", s.Effect)
	case s.Action == nil && s.NotAction == nil:
		return fmt.Errorf("neither Action nor NotAction")
	case s.Action != nil && s.NotAction != nil:
		return fmt.Errorf("both Action and NotAction")
	case s.Resource != nil && s.NotResource != nil:
		return fmt.Errorf("both Resource and NotResource")
	}
	return nil
}

// ParseDocument decodes a policy document as the IAM API returns it: a JSON
// object, or (API and SDK output) a URL-encoded JSON string.
func ParseDocument(raw []byte) (*Document, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("policy document is missing")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return parseEncodedDocument(s)
	}
	var d Document
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// parseEncodedDocument decodes the RFC 3986 percent-encoding IAM applies to
// policy documents. A document that is already plain JSON is accepted too,
// because some tools decode before writing.
func parseEncodedDocument(s string) (*Document, error) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") {
		dec, err := url.PathUnescape(t)
		if err != nil {
			return nil, fmt.Errorf("url-decode policy document: %w", err)
		}
		t = dec
	}
	var d Document
	if err := json.Unmarshal([]byte(t), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func (s Statement) allow() bool { return strings.EqualFold(s.Effect, "Allow") }

// conditional reports whether the statement only applies in some request
// contexts.
func (s Statement) conditional() bool { return len(s.Condition) > 0 }

// normAction maps the equivalent spellings of "every action" to "*".
func normAction(a string) string {
	if a == "*:*" {
		return "*"
	}
	return a
}

// matchesAction reports whether the statement's Action/NotAction element
// matches a concrete action.
func (s Statement) matchesAction(action string) bool {
	match := func(p string) bool { return glob.Match(normAction(p), action, true) }
	if s.NotAction != nil {
		return !slices.ContainsFunc(s.NotAction, match)
	}
	return slices.ContainsFunc(s.Action, match)
}

// matchesResource reports whether the Resource/NotResource element matches
// a concrete resource. A statement with neither (trust policies) matches.
func (s Statement) matchesResource(res string) bool {
	match := func(p string) bool { return glob.Match(p, res, false) }
	if s.NotResource != nil {
		return !slices.ContainsFunc(s.NotResource, match)
	}
	return s.Resource == nil || slices.ContainsFunc(s.Resource, match)
}

// coversAction reports whether the statement's action element matches
// every action the pattern a matches.
func (s Statement) coversAction(a string) bool {
	a = normAction(a)
	if s.NotAction != nil {
		return !slices.ContainsFunc(s.NotAction, func(p string) bool { return glob.Overlaps(normAction(p), a, true) })
	}
	return slices.ContainsFunc(s.Action, func(p string) bool { return glob.Covers(normAction(p), a, true) })
}

// coversResource is coversAction for resources.
func (s Statement) coversResource(r string) bool {
	if s.NotResource != nil {
		return !slices.ContainsFunc(s.NotResource, func(p string) bool { return glob.Overlaps(p, r, false) })
	}
	return s.Resource == nil || slices.ContainsFunc(s.Resource, func(p string) bool { return glob.Covers(p, r, false) })
}

// allowsEverything reports whether s is an Allow of every action on every
// resource, conditions aside.
func (s Statement) allowsEverything() bool {
	return s.allow() && s.NotAction == nil && s.NotResource == nil &&
		s.coversAction("*") && s.coversResource("*")
}

// conditionJSON renders a condition block deterministically for attrs.
func conditionJSON(c Condition) string {
	if len(c) == 0 {
		return ""
	}
	b, err := json.Marshal(c) // map keys are sorted by encoding/json
	if err != nil {
		return ""
	}
	return string(b)
}

// readVerbs are the action-name prefixes that only read.
var readVerbs = []string{"get", "list", "describe", "head", "view", "search", "query", "select", "scan", "lookup",
	"batchget", "batchdescribe", "batchread", "read", "retrieve", "validate", "detect", "estimate", "preview",
	"simulate", "filter", "verify", "evaluate", "download", "contains", "classify", "check", "discover"}

// readOnlyActions are the action patterns AWS's read-only managed policies
// (ReadOnlyAccess, SecurityAudit) grant although their names start with no
// read verb: AWS ships them as read access, so they rate read.
var readOnlyActions = map[string]bool{
	"athena:batch*": true, "codecommit:gitpull": true, "cognito-idp:adminget*": true, "cognito-idp:adminlist*": true,
	"comprehend:batchdetect*": true, "config:deliver*": true, "devops-guru:startcostestimation": true,
	"dynamodb:partiqlselect": true, "ecr-public:batchchecklayeravailability": true, "ecr:batchcheck*": true,
	"elasticbeanstalk:request*": true, "es:eshttpget": true, "es:eshttphead": true, "gamelift:resolvealias": true,
	"iam:generate*": true, "iotanalytics:samplechanneldata": true, "lightsail:is*": true, "logs:startquery": true,
	"logs:stopquery": true, "polly:synthesizespeech": true, "rekognition:comparefaces": true, "sqs:receive*": true,
	"swf:count*": true, "codedeploy:batch*": true, "sdb:domainmetadata": true,
	"dms:test*": true, "events:test*": true, "evidently:testsegmentpattern": true, "logs:testmetricfilter": true,
	"route53:test*": true, "transfer:testidentityprovider": true,
}

// actionPrivilege classifies one action pattern: read when the part after
// the service prefix starts with a read verb, write otherwise. "*" and
// service wildcards ("s3:*") include writes.
func actionIsRead(a string) bool {
	_, name, ok := strings.Cut(a, ":")
	if !ok {
		return false
	}
	name = strings.ToLower(name)
	la := strings.ToLower(a)
	for p := range readOnlyActions {
		if p == la || glob.Match(p, la, true) {
			return true
		}
	}
	for _, v := range readVerbs {
		if strings.HasPrefix(name, v) {
			return true
		}
	}
	return false
}

func sortedUnique(in []string) []string {
	sort.Strings(in)
	out := in[:0]
	for i, s := range in {
		if i > 0 && s == in[i-1] {
			continue
		}
		out = append(out, s)
	}
	return out
}
