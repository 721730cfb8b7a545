package review

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/steward-oss/steward/remediation"
)

// ErrInvalid is wrapped by every validation error of a campaign.
var ErrInvalid = errors.New("invalid campaign")

// Rule kinds of the reviewer chain.
const (
	RuleOwner   = "owner"
	RuleManager = "manager"
	RuleGroup   = "group"
)

// Default decisions at the deadline.
const (
	DefaultKeep   = "keep"
	DefaultRevoke = "revoke"
	DefaultNone   = "none"
)

// Justification requirements for a Keep.
const (
	JustifyPrivilegedOrIdle = "privileged_or_idle"
	JustifyAlways           = "always"
	JustifyNever            = "never"
)

// Schedules.
const (
	ScheduleOnce      = "once"
	ScheduleQuarterly = "quarterly"
	ScheduleEvery     = "every"
)

// Rule is one link of the reviewer chain.
type Rule struct {
	Kind string `json:"kind"`
	// Group and Members for a group rule; Members, when set, are the
	// group (a self-contained campaign), else the configured approver
	// group of that name.
	Group   string   `json:"group,omitempty"`
	Members []string `json:"members,omitempty"`
}

func (r Rule) String() string {
	if r.Kind == RuleGroup {
		return "group " + r.Group
	}
	return r.Kind
}

// Approvers says who approves the proposals a campaign's Revoke and
// Modify decisions open.
type Approvers struct {
	Group    string `json:"group,omitempty" yaml:"group"`
	Required int    `json:"required" yaml:"required"`
}

// Campaign is a review definition, from a file or over HTTP.
type Campaign struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Question or Plan is the scope; Plan is set at launch from the
	// question by the planner.
	Question string          `json:"question,omitempty"`
	Plan     json.RawMessage `json:"plan,omitempty"`
	Schedule string          `json:"schedule"`
	// Every is the period of schedule "every".
	Every                time.Duration   `json:"every,omitempty"`
	Duration             time.Duration   `json:"duration,omitempty"`
	Due                  time.Time       `json:"due,omitzero"`
	Reviewers            []Rule          `json:"reviewers"`
	OwnerMayReview       bool            `json:"owner_may_review"`
	RequireJustification string          `json:"require_justification"`
	IdleDays             int             `json:"idle_days"`
	EscalateAfter        time.Duration   `json:"escalate_after,omitempty"`
	RemindBefore         []time.Duration `json:"remind_before,omitempty"`
	DefaultDecision      string          `json:"default_decision"`
	KeepFor              time.Duration   `json:"keep_for,omitempty"`
	Approvers            Approvers       `json:"approvers"`
	// File is where the campaign was read from ("" over HTTP).
	File string `json:"file,omitempty"`
}

// Defaults.
const (
	DefaultDuration = 14 * 24 * time.Hour
	DefaultIdleDays = 90
	DefaultKeepFor  = 90 * 24 * time.Hour
	quarter         = 91 * 24 * time.Hour
)

type campaignYAML struct {
	Name                 string                 `yaml:"name"`
	Description          string                 `yaml:"description"`
	Scope                scopeYAML              `yaml:"scope"`
	Schedule             yaml.Node              `yaml:"schedule"`
	Duration             remediation.Duration   `yaml:"duration"`
	Due                  string                 `yaml:"due"`
	Reviewers            []yaml.Node            `yaml:"reviewers"`
	OwnerMayReview       *bool                  `yaml:"owner_may_review"`
	RequireJustification string                 `yaml:"require_justification"`
	IdleDays             *int                   `yaml:"idle_days"`
	EscalateAfter        remediation.Duration   `yaml:"escalate_after"`
	RemindBefore         []remediation.Duration `yaml:"remind_before"`
	DefaultDecision      string                 `yaml:"default_decision"`
	KeepFor              remediation.Duration   `yaml:"keep_for"`
	Approvers            *Approvers             `yaml:"approvers"`
}

type scopeYAML struct {
	Question string    `yaml:"question"`
	Plan     yaml.Node `yaml:"plan"`
}

type groupRuleYAML struct {
	Group   string   `yaml:"group"`
	Members []string `yaml:"members"`
}

type everyYAML struct {
	Every remediation.Duration `yaml:"every"`
}

var campaignName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

var yamlTypeNames = strings.NewReplacer(
	"review.campaignYAML", "the campaign",
	"review.scopeYAML", "scope",
	"review.groupRuleYAML", "a group rule",
	"review.everyYAML", "schedule",
	"review.Approvers", "approvers",
)

// yamlErr turns a yaml.v3 decode error into the file's terms, keeping its
// line numbers.
func yamlErr(err error) string {
	msg := yamlTypeNames.Replace(err.Error())
	msg = strings.ReplaceAll(msg, " not found in type ", " is unknown in ")
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n")
	msg = strings.TrimPrefix(msg, "yaml: ")
	lines := strings.Split(msg, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}

// ParseCampaign decodes and validates one campaign file; file names it in
// errors, which also carry the line of the bad value.
func ParseCampaign(file string, data []byte) (*Campaign, error) {
	fail := func(field string, line int, err error) error {
		if line > 0 {
			return fmt.Errorf("review: %s: line %d: %s: %w: %w", file, line, field, ErrInvalid, err)
		}
		return fmt.Errorf("review: %s: %s: %w: %w", file, field, ErrInvalid, err)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("review: %s: %w: empty file", file, ErrInvalid)
		}
		return nil, fmt.Errorf("review: %s: %w: %s", file, ErrInvalid, yamlErr(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("review: %s: %w: more than one YAML document", file, ErrInvalid)
	}
	var y campaignYAML
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&y); err != nil {
		return nil, fmt.Errorf("review: %s: %w: %s", file, ErrInvalid, yamlErr(err))
	}
	line := func(key string) int { return keyLine(&root, key) }

	c := &Campaign{Name: y.Name, Description: y.Description, Question: strings.TrimSpace(y.Scope.Question),
		Duration: time.Duration(y.Duration), RequireJustification: y.RequireJustification,
		EscalateAfter: time.Duration(y.EscalateAfter), DefaultDecision: y.DefaultDecision,
		KeepFor: time.Duration(y.KeepFor), File: file, OwnerMayReview: true, IdleDays: DefaultIdleDays}
	if y.OwnerMayReview != nil {
		c.OwnerMayReview = *y.OwnerMayReview
	}
	if y.IdleDays != nil {
		c.IdleDays = *y.IdleDays
	}
	if y.Approvers != nil {
		c.Approvers = *y.Approvers
	}
	for _, d := range y.RemindBefore {
		c.RemindBefore = append(c.RemindBefore, time.Duration(d))
	}
	if y.Scope.Plan.Kind != 0 {
		plan, err := planJSON(&y.Scope.Plan)
		if err != nil {
			return nil, fail("scope.plan", y.Scope.Plan.Line, err)
		}
		c.Plan = plan
	}
	if y.Due != "" {
		t, err := parseDue(y.Due)
		if err != nil {
			return nil, fail("due", line("due"), err)
		}
		c.Due = t
	}
	switch n := &y.Schedule; {
	case n.Kind == 0:
	case n.Kind == yaml.ScalarNode:
		c.Schedule = n.Value
	case n.Kind == yaml.MappingNode:
		var e everyYAML
		if err := decodeStrict(n, &e); err != nil {
			return nil, fail("schedule", n.Line, err)
		}
		c.Schedule, c.Every = ScheduleEvery, time.Duration(e.Every)
	default:
		return nil, fail("schedule", n.Line, errors.New("want once, quarterly or {every: 30d}"))
	}
	for i := range y.Reviewers {
		n := &y.Reviewers[i]
		f := fmt.Sprintf("reviewers[%d]", i)
		switch n.Kind {
		case yaml.ScalarNode:
			c.Reviewers = append(c.Reviewers, Rule{Kind: n.Value})
		case yaml.MappingNode:
			var g groupRuleYAML
			if err := decodeStrict(n, &g); err != nil {
				return nil, fail(f, n.Line, err)
			}
			c.Reviewers = append(c.Reviewers, Rule{Kind: RuleGroup, Group: g.Group, Members: g.Members})
		default:
			return nil, fail(f, n.Line, errors.New("want owner, manager or {group: NAME}"))
		}
	}
	if err := c.validate(func(field string) int {
		top, _, _ := strings.Cut(field, ".")
		top, _, _ = strings.Cut(top, "[")
		if strings.HasPrefix(field, "reviewers[") {
			var i int
			if _, err := fmt.Sscanf(field, "reviewers[%d]", &i); err == nil && i < len(y.Reviewers) {
				return y.Reviewers[i].Line
			}
		}
		if top == "question" || top == "plan" {
			top = "scope"
		}
		return line(top)
	}); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return nil, fail(fe.field, fe.line, fe.err)
		}
		return nil, err
	}
	return c, nil
}

func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(v); err != nil {
		return errors.New(yamlErr(err))
	}
	return nil
}

// keyLine is the line of a top-level key, 0 if absent.
func keyLine(root *yaml.Node, key string) int {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == key {
			return doc.Content[i].Line
		}
	}
	return 0
}

func parseDue(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02) or an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// planJSON converts a plan node (a YAML mapping, or a string holding
// JSON) to a JSON object.
func planJSON(n *yaml.Node) (json.RawMessage, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		var obj map[string]any
		if err := json.Unmarshal([]byte(n.Value), &obj); err != nil {
			return nil, fmt.Errorf("a string plan must be a JSON object: %w", err)
		}
		return json.Marshal(obj)
	}
	if n.Kind != yaml.MappingNode {
		return nil, errors.New("must be a mapping (the query plan)")
	}
	var v map[string]any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

type fieldError struct {
	field string
	line  int
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }

// Validate checks c and fills its defaults; errors name the field. It is
// what a campaign posted over HTTP goes through.
func (c *Campaign) Validate() error {
	if err := c.validate(nil); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return fmt.Errorf("review: campaign %s: %w: %w", fe.field, ErrInvalid, fe.err)
		}
		return err
	}
	return nil
}

func (c *Campaign) validate(lineOf func(string) int) error {
	bad := func(field, format string, args ...any) error {
		l := 0
		if lineOf != nil {
			l = lineOf(field)
		}
		return &fieldError{field: field, line: l, err: fmt.Errorf(format, args...)}
	}
	if !campaignName.MatchString(c.Name) {
		return bad("name", "%q must be lower-case letters, digits, - or _", c.Name)
	}
	switch {
	case c.Question == "" && len(c.Plan) == 0:
		return bad("scope", "needs a question or a plan")
	case c.Question != "" && len(c.Plan) > 0:
		return bad("scope", "give a question or a plan, not both")
	case len(c.Plan) > 0 && !json.Valid(c.Plan):
		return bad("plan", "not valid JSON")
	}
	switch c.Schedule {
	case "":
		c.Schedule = ScheduleOnce
	case ScheduleOnce, ScheduleQuarterly:
	case ScheduleEvery:
		if c.Every <= 0 {
			return bad("schedule", "every needs a positive period such as 30d")
		}
	default:
		return bad("schedule", "%q is not once, quarterly or {every: 30d}", c.Schedule)
	}
	if c.Schedule == ScheduleQuarterly {
		c.Every = quarter
	}
	if c.Duration < 0 {
		return bad("duration", "negative")
	}
	if c.Duration > 0 && !c.Due.IsZero() {
		return bad("duration", "give duration or due, not both")
	}
	if c.Duration == 0 && c.Due.IsZero() {
		c.Duration = DefaultDuration
	}
	if len(c.Reviewers) == 0 {
		return bad("reviewers", "empty: name at least one rule (owner, manager, {group: NAME})")
	}
	for i, r := range c.Reviewers {
		f := fmt.Sprintf("reviewers[%d]", i)
		switch r.Kind {
		case RuleOwner, RuleManager:
			if r.Group != "" || len(r.Members) > 0 {
				return bad(f, "%s takes no group or members", r.Kind)
			}
		case RuleGroup:
			if strings.TrimSpace(r.Group) == "" {
				return bad(f, "group: empty name")
			}
			for j, m := range r.Members {
				if !strings.Contains(m, "@") {
					return bad(f, "members[%d]: %q is not an e-mail address", j, m)
				}
				c.Reviewers[i].Members[j] = strings.ToLower(strings.TrimSpace(m))
			}
		default:
			return bad(f, "%q is not owner, manager or {group: NAME}", r.Kind)
		}
	}
	switch c.RequireJustification {
	case "":
		c.RequireJustification = JustifyPrivilegedOrIdle
	case JustifyPrivilegedOrIdle, JustifyAlways, JustifyNever:
	default:
		return bad("require_justification", "%q is not privileged_or_idle, always or never", c.RequireJustification)
	}
	if c.IdleDays <= 0 {
		return bad("idle_days", "must be positive")
	}
	if c.EscalateAfter < 0 {
		return bad("escalate_after", "negative")
	}
	for i, d := range c.RemindBefore {
		if d <= 0 {
			return bad("remind_before", "[%d] must be positive", i)
		}
	}
	sort.Slice(c.RemindBefore, func(i, j int) bool { return c.RemindBefore[i] > c.RemindBefore[j] })
	switch c.DefaultDecision {
	case "":
		c.DefaultDecision = DefaultNone
	case DefaultKeep, DefaultRevoke, DefaultNone:
	default:
		return bad("default_decision", "%q is not keep, revoke or none", c.DefaultDecision)
	}
	if c.KeepFor < 0 {
		return bad("keep_for", "negative")
	}
	if c.KeepFor == 0 {
		c.KeepFor = DefaultKeepFor
	}
	if c.Approvers.Required < 0 {
		return bad("approvers", "required is negative")
	}
	if c.Approvers.Required == 0 {
		c.Approvers.Required = 1
	}
	return nil
}

// LoadCampaigns reads every *.yaml and *.yml file in dir, in name order.
// Any bad file fails the whole load, naming the file, line and field.
func LoadCampaigns(dir string) ([]*Campaign, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("review: read campaigns: %w", err)
	}
	var out []*Campaign
	byName := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		f := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("review: read campaign: %w", err)
		}
		c, err := ParseCampaign(f, b)
		if err != nil {
			return nil, err
		}
		if other, dup := byName[c.Name]; dup {
			return nil, fmt.Errorf("review: %s: name: %w: %q is also the name of %s", f, ErrInvalid, c.Name, other)
		}
		byName[c.Name] = f
		out = append(out, c)
	}
	return out, nil
}
