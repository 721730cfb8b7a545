package remediation

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
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/remediation/action"
)

// Policy is a saved remediation: a query plan whose matches go through a
// sequence of stages, each opening one proposal per target. See the
// package documentation for the file format and stage rules.
type Policy struct {
	Name        string
	Description string
	// Plan is the query plan as JSON, opaque here; the caller's Finder runs
	// it and LoadPolicies' validate function checks it.
	Plan          json.RawMessage
	Justification string
	Stages        []Stage
	OnExpiry      approval.OnExpiry
	// Expiry is how long approvers have to answer a stage's proposal
	// (and, after an escalation, the escalation group).
	Expiry time.Duration
	// RestartAfter, when positive, lets a finished or stopped chain start
	// again at stage 0 once its last proposal has been closed this long
	// and the target still matches.
	RestartAfter time.Duration
	// File is where the policy was loaded from, for messages.
	File string
}

// Stage is one step of a policy.
type Stage struct {
	// After is how long the previous stage's proposal must have been done
	// (with no answer: the target still matches and nobody rejected)
	// before this stage opens. Zero for the first stage.
	After  time.Duration
	Action action.Kind
	Params map[string]string
	// Approvers is the effective rule after inheritance (see package doc).
	Approvers Approvers
}

// DefaultExpiry is how long a stage's proposal waits when the policy
// does not say.
const DefaultExpiry = 7 * 24 * time.Hour

// Trigger selects a policy's targets from a findings check instead of a
// plan: every identity the check reports ("trigger: {finding: ESC}").
type Trigger struct {
	Finding string `yaml:"finding" json:"finding"`
}

// TriggerPlan returns the trigger a policy's plan document carries, if it
// is one.
func TriggerPlan(plan json.RawMessage) (*Trigger, bool) {
	var doc struct {
		Trigger *Trigger `json:"trigger"`
	}
	if err := json.Unmarshal(plan, &doc); err != nil || doc.Trigger == nil {
		return nil, false
	}
	return doc.Trigger, true
}

// The YAML shapes, decoded strictly.
type policyYAML struct {
	Name          string      `yaml:"name"`
	Description   string      `yaml:"description"`
	Plan          yaml.Node   `yaml:"plan"`
	Trigger       *Trigger    `yaml:"trigger"`
	Justification string      `yaml:"justification"`
	Stages        []stageYAML `yaml:"stages"`
	OnExpiry      string      `yaml:"on_expiry"`
	EscalateTo    string      `yaml:"escalate_to"`
	Expiry        Duration    `yaml:"expiry"`
	RestartAfter  Duration    `yaml:"restart_after"`
	Approvers     *Approvers  `yaml:"approvers"`
}

type stageYAML struct {
	After     Duration          `yaml:"after"`
	Action    action.Kind       `yaml:"action"`
	Params    map[string]string `yaml:"params"`
	Approvers *Approvers        `yaml:"approvers"`
}

// Duration is a YAML duration that also takes days and weeks ("7d",
// "2w", "1d12h"), since policies count in days.
type Duration time.Duration

var durPart = regexp.MustCompile(`^(\d+)(w|d|h|m|s)`)

// ParseDuration parses "30d", "2w", "36h", "1d12h", "90m".
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New("empty duration")
	}
	if in == "0" {
		return 0, nil
	}
	units := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}
	var total time.Duration
	rest := in
	for rest != "" {
		m := durPart.FindStringSubmatch(rest)
		if m == nil {
			return 0, fmt.Errorf("bad duration %q (use e.g. 7d, 2w, 36h, 1d12h)", s)
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > 1<<20 {
			return 0, fmt.Errorf("bad duration %q: number out of range", s)
		}
		total += time.Duration(n) * units[m[2]]
		rest = rest[len(m[0]):]
	}
	return total, nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: duration must be a string like 7d", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// LoadPolicies reads every *.yaml and *.yml file in dir, in name order.
// validatePlan, if not nil, checks each plan (the query package's
// validator). Any bad file fails the whole load, naming the file and the
// field; nothing is half-loaded.
func LoadPolicies(dir string, validatePlan func(json.RawMessage) error) ([]*Policy, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("remediation: read policies: %w", err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	var out []*Policy
	byName := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("remediation: read policy: %w", err)
		}
		p, err := ParsePolicy(f, b, validatePlan)
		if err != nil {
			return nil, err
		}
		if other, dup := byName[p.Name]; dup {
			return nil, fmt.Errorf("remediation: %s: name: %w: %q is also the name of %s", f, ErrInvalid, p.Name, other)
		}
		byName[p.Name] = f
		out = append(out, p)
	}
	return out, nil
}

var policyName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// yamlTypeNames turns yaml.v3's Go type names into the file's terms.
var yamlTypeNames = strings.NewReplacer(
	"remediation.policyYAML", "the policy",
	"remediation.stageYAML", "a stage",
	"remediation.Approvers", "approvers",
)

// ParsePolicy decodes and validates one policy file; file names it in
// errors.
func ParsePolicy(file string, data []byte, validatePlan func(json.RawMessage) error) (*Policy, error) {
	fail := func(field string, err error) error {
		return fmt.Errorf("remediation: %s: %s: %w: %w", file, field, ErrInvalid, err)
	}
	var y policyYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("remediation: %s: %w: empty file", file, ErrInvalid)
		}
		msg := yamlTypeNames.Replace(err.Error())
		msg = strings.ReplaceAll(msg, " not found in type ", " is unknown in ")
		msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n")
		msg = strings.TrimPrefix(msg, "yaml: ")
		lines := strings.Split(msg, "\n")
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		msg = strings.Join(lines, "; ")
		return nil, fmt.Errorf("remediation: %s: %w: %s", file, ErrInvalid, msg)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("remediation: %s: %w: more than one YAML document", file, ErrInvalid)
	}

	p := &Policy{
		Name: y.Name, Description: y.Description, Justification: y.Justification,
		OnExpiry: approval.OnExpiry(y.OnExpiry), Expiry: time.Duration(y.Expiry),
		RestartAfter: time.Duration(y.RestartAfter), File: file,
	}
	if !policyName.MatchString(p.Name) {
		return nil, fail("name", fmt.Errorf("%q must be lower-case letters, digits, - or _", p.Name))
	}
	var plan json.RawMessage
	var err error
	switch {
	case y.Trigger != nil && y.Plan.Kind != 0:
		return nil, fail("trigger", errors.New("plan and trigger are exclusive: a policy selects its targets one way"))
	case y.Trigger != nil:
		if y.Trigger.Finding == "" {
			return nil, fail("trigger.finding", errors.New("missing (a findings check id: NHI1..NHI10, ESC, SOD)"))
		}
		// The trigger travels as the plan document, so the Finder (which
		// knows the checks) runs it; see TriggerPlan.
		plan, _ = json.Marshal(map[string]any{"trigger": y.Trigger})
	default:
		if plan, err = planJSON(&y.Plan); err != nil {
			return nil, fail("plan", err)
		}
	}
	if validatePlan != nil {
		if err := validatePlan(plan); err != nil {
			return nil, fail("plan", err)
		}
	}
	p.Plan = plan
	if p.Justification == "" {
		p.Justification = "policy " + p.Name
		if p.Description != "" {
			p.Justification += ": " + p.Description
		}
	}
	switch p.OnExpiry {
	case "":
		p.OnExpiry = approval.ExpiryCancel
	case approval.ExpiryCancel, approval.ExpiryEscalate:
	default:
		return nil, fail("on_expiry", fmt.Errorf("%q is not escalate or cancel", y.OnExpiry))
	}
	if p.Expiry == 0 {
		p.Expiry = DefaultExpiry
	}
	if p.Expiry < 0 || p.RestartAfter < 0 {
		return nil, fail("expiry", errors.New("negative"))
	}
	if len(y.Stages) == 0 {
		return nil, fail("stages", errors.New("empty"))
	}
	inherited := Approvers{Required: 1}
	if y.Approvers != nil {
		inherited = *y.Approvers
	}
	for i, s := range y.Stages {
		f := fmt.Sprintf("stages[%d]", i)
		st := Stage{After: time.Duration(s.After), Action: s.Action, Params: s.Params}
		switch {
		case !s.Action.Known():
			return nil, fail(f+".action", fmt.Errorf("unknown action %q (known: %s)", s.Action, strings.Join(ActionTypes, ", ")))
		case i == 0 && st.After != 0:
			return nil, fail(f+".after", errors.New("the first stage opens on a match; it takes no after"))
		case i > 0 && st.After <= 0:
			return nil, fail(f+".after", errors.New("required for every stage but the first"))
		}
		if s.Action == ActionNotifyOwner {
			if s.Approvers != nil {
				return nil, fail(f+".approvers", errors.New("notify_owner changes nothing and needs no approval"))
			}
			p.Stages = append(p.Stages, st)
			continue
		}
		if s.Approvers != nil {
			inherited = *s.Approvers
		}
		a := inherited
		if a.EscalateTo == "" {
			a.EscalateTo = y.EscalateTo
		}
		switch {
		case a.Required < 1:
			return nil, fail(f+".approvers.required", fmt.Errorf("%s changes the source and needs at least 1 approver", s.Action))
		case !a.owner() && a.Group == "":
			return nil, fail(f+".approvers", errors.New("neither the owner nor a group may approve"))
		case p.OnExpiry == approval.ExpiryEscalate && a.EscalateTo == "" && a.Group == "":
			return nil, fail("escalate_to", fmt.Errorf("on_expiry escalate needs escalate_to or a group for %s", f))
		}
		st.Approvers = a
		p.Stages = append(p.Stages, st)
	}
	return p, nil
}

// planJSON converts the plan node (a YAML mapping, or a string holding
// JSON) to a JSON object.
func planJSON(n *yaml.Node) (json.RawMessage, error) {
	if n.Kind == 0 {
		return nil, errors.New("missing")
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		raw := json.RawMessage(n.Value)
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("line %d: a string plan must be a JSON object: %w", n.Line, err)
		}
		return json.Marshal(obj)
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: must be a mapping (the query plan)", n.Line)
	}
	var v map[string]any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("line %d: not representable as JSON: %w", n.Line, err)
	}
	return b, nil
}
