// Package config loads steward.yaml: what Steward does (connectors,
// policies, approvers, Slack, the model, API keys). Flags set process
// facts and win over the file; STEWARD_* environment variables sit between
// them. Loading is: defaults, a strict decode (an unknown key is an error
// naming it), the environment overlay, then Validate, whose errors name the
// field. The result is read-only and passed down, never global.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/steward-oss/steward/internal/secret"
	"gopkg.in/yaml.v3"
)

// Config is the whole file.
type Config struct {
	Graph    string `yaml:"graph"`
	Listen   string `yaml:"listen"`
	AuditLog string `yaml:"audit_log"`
	// AuditKeyFile holds the audit key (hex, at least 32 bytes) that MACs
	// every audit record; STEWARD_AUDIT_KEY (the key itself) wins over it.
	AuditKeyFile string `yaml:"audit_key_file"`
	// AuditAnchor is where the log writes its signed checkpoint after
	// every record (default: the log's path + ".anchor"); keep it on
	// other storage than the log.
	AuditAnchor string              `yaml:"audit_anchor"`
	Sync        Sync                `yaml:"sync"`
	Connectors  []Connector         `yaml:"connectors"`
	Agent       Agent               `yaml:"agent"`
	APIKeys     []APIKey            `yaml:"api_keys"`
	Slack       Slack               `yaml:"slack"`
	Remediation Remediation         `yaml:"remediation"`
	Ownership   Ownership           `yaml:"ownership"`
	Actuators   []Actuator          `yaml:"actuators"`
	Approvers   map[string][]string `yaml:"approvers"`
	Reviews     Reviews             `yaml:"reviews"`
	Changes     Changes             `yaml:"changes"`
	Input       Input               `yaml:"input"`

	auditKey secret.Secret // STEWARD_AUDIT_KEY, never from the file
}

// Input bounds what one file a connector reads may hold (0: the default,
// 512 MiB per file and 1 MiB per field).
type Input struct {
	MaxFileBytes  int64 `yaml:"max_file_bytes"`
	MaxFieldBytes int64 `yaml:"max_field_bytes"`
}

// Changes configures change tracking between syncs (findings/changes).
type Changes struct {
	Dir          string   `yaml:"dir"`           // snapshot and history (default ./steward-changes)
	AlertChannel string   `yaml:"alert_channel"` // Slack channel for change alerts (serve); empty: no alerts
	AlertOn      []string `yaml:"alert_on"`      // change types alerted on (default: new_admin, new_escalation_path, new_long_lived_admin_key, owner_departed)
}

// Reviews configures access reviews in `steward serve`.
type Reviews struct {
	Dir     string `yaml:"dir"`     // campaign files (*.yaml), launched on their schedule
	Store   string `yaml:"store"`   // bolt file or postgres:// (default ./steward-reviews.db)
	Channel string `yaml:"channel"` // Slack channel where Revoke/Modify proposals are posted
}

// Sync schedules connector runs inside `steward serve`.
type Sync struct {
	Interval Duration `yaml:"interval"` // 0: only on `steward sync`
}

// Connector is one configured source.
type Connector struct {
	Name    string            `yaml:"name"`
	Type    string            `yaml:"type"`
	Options map[string]string `yaml:"options"`
}

// Actuator is a connector's write side, configured with its own
// credentials: Steward's reads never use them.
type Actuator struct {
	Source  string            `yaml:"source"` // the source (type or full name) it acts on
	Type    string            `yaml:"type"`
	Options map[string]string `yaml:"options"`
}

// Agent selects the model behind questions. Empty provider: the offline
// planner.
type Agent struct {
	Provider  string   `yaml:"provider"`
	BaseURL   string   `yaml:"base_url"`
	Model     string   `yaml:"model"`
	APIKeyEnv string   `yaml:"api_key_env"`
	MaxSteps  int      `yaml:"max_steps"`
	MaxTokens int      `yaml:"max_tokens"`
	Timeout   Duration `yaml:"timeout"`
}

// APIKey is one HTTP API key, stored as the hex SHA-256 of the key.
// Role is reader (the default), approver or admin; Email is the person
// who holds the key, so that requests made with it act as that person
// (the same principal as their Slack user), which keeps separation of
// duties across channels. A key without an e-mail acts as "api:<name>"
// and cannot propose remediation.
type APIKey struct {
	Name   string `yaml:"name"`
	SHA256 string `yaml:"sha256"`
	Role   string `yaml:"role"`
	Email  string `yaml:"email"`
}

// API key roles, weakest first: each includes the ones before it.
const (
	RoleReader   = "reader"
	RoleApprover = "approver"
	RoleAdmin    = "admin"
)

// Slack configures the Slack app. Tokens are read from the named
// environment variables, never written in the file.
type Slack struct {
	Mode             string `yaml:"mode"` // "socket" (default) or "http"
	BotTokenEnv      string `yaml:"bot_token_env"`
	AppTokenEnv      string `yaml:"app_token_env"`
	SigningSecretEnv string `yaml:"signing_secret_env"`
	APIURL           string `yaml:"api_url"` // override for tests
	ApproverGroup    string `yaml:"approver_group"`
	// Users maps Slack user ids to e-mails, for deciding who may approve
	// when the Slack profile has no e-mail.
	Users map[string]string `yaml:"users"`
}

// Remediation configures proposals.
type Remediation struct {
	PoliciesDir string   `yaml:"policies_dir"`
	Store       string   `yaml:"store"` // bolt file or postgres:// for approvals
	Expiry      Duration `yaml:"expiry"`
}

// Ownership configures owner corrections.
type Ownership struct {
	Overrides string `yaml:"overrides"`
}

// Duration is a time.Duration written as "90s", "1h", or "7d".
type Duration time.Duration

// UnmarshalYAML accepts Go durations and a days suffix.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses "7d", "36h", "90m".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n float64
		if _, err := fmt.Sscanf(days, "%g", &n); err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return v, nil
}

// Defaults are the values before the file is read.
func Defaults() Config {
	return Config{
		Graph:       "./steward.db",
		Listen:      "127.0.0.1:8080",
		AuditLog:    "./steward-audit.log",
		Agent:       Agent{MaxSteps: 8, MaxTokens: 20000, Timeout: Duration(60 * time.Second)},
		Slack:       Slack{Mode: "socket"},
		Remediation: Remediation{Expiry: Duration(7 * 24 * time.Hour)},
	}
}

// Load reads path (strict), overlays the environment and validates.
func Load(path string, getenv func(string) string) (*Config, error) {
	cfg := Defaults()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	cfg.overlayEnv(getenv)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return &cfg, nil
}

// FromEnv is the configuration without a file: defaults plus environment.
func FromEnv(getenv func(string) string) (*Config, error) {
	cfg := Defaults()
	cfg.overlayEnv(getenv)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &cfg, nil
}

func (c *Config) overlayEnv(getenv func(string) string) {
	if getenv == nil {
		return
	}
	for name, dst := range map[string]*string{
		"STEWARD_GRAPH": &c.Graph, "STEWARD_LISTEN": &c.Listen, "STEWARD_AUDIT_LOG": &c.AuditLog,
		"STEWARD_LLM_PROVIDER": &c.Agent.Provider, "STEWARD_LLM_BASE_URL": &c.Agent.BaseURL, "STEWARD_LLM_MODEL": &c.Agent.Model,
		"STEWARD_LLM_API_KEY_ENV": &c.Agent.APIKeyEnv,
		"STEWARD_AUDIT_KEY_FILE":  &c.AuditKeyFile, "STEWARD_AUDIT_ANCHOR": &c.AuditAnchor,
	} {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	if v := getenv("STEWARD_AUDIT_KEY"); v != "" {
		c.auditKey = secret.New(v)
	}
	// STEWARD_API_KEYS holds plain keys for local use; only their hashes
	// are kept.
	if v := getenv("STEWARD_API_KEYS"); v != "" {
		for i, k := range strings.Split(v, ",") {
			k = strings.TrimSpace(k)
			if k == "" {
				continue
			}
			c.APIKeys = append(c.APIKeys, APIKey{Name: fmt.Sprintf("env-%d", i+1), SHA256: HashKey(k)})
		}
	}
}

// AuditKey returns the audit key: STEWARD_AUDIT_KEY, else the contents of
// audit_key_file, else nil (records are then hash-chained but not MACed).
func (c *Config) AuditKey(readFile func(string) ([]byte, error)) ([]byte, error) {
	var raw []byte
	switch {
	case !c.auditKey.IsZero():
		raw = []byte(c.auditKey.Reveal())
	case c.AuditKeyFile != "":
		b, err := readFile(c.AuditKeyFile)
		if err != nil {
			return nil, fmt.Errorf("config: audit_key_file: %w", err)
		}
		raw = b
	default:
		return nil, nil
	}
	k, err := parseAuditKey(raw)
	if err != nil {
		return nil, fmt.Errorf("config: audit key: %w", err)
	}
	return k, nil
}

// AuditAnchorPath is where the audit checkpoint is written.
func (c *Config) AuditAnchorPath() string {
	if c.AuditAnchor != "" {
		return c.AuditAnchor
	}
	return c.AuditLog + ".anchor"
}

// parseAuditKey mirrors audit.ParseKey (config does not import audit):
// hex when all hex digits, else the raw bytes, at least 32 bytes.
func parseAuditKey(b []byte) ([]byte, error) {
	s := strings.TrimSpace(string(b))
	key := []byte(s)
	if len(s)%2 == 0 {
		if h, err := hex.DecodeString(s); err == nil {
			key = h
		}
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("%d bytes, want at least 32 (e.g. 64 hex digits from `openssl rand -hex 32`)", len(key))
	}
	return key, nil
}

// HashKey is the stored form of an API key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// FieldError names the bad field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks the configuration; errors name the field.
func (c *Config) Validate() error {
	switch {
	case c.Input.MaxFileBytes < 0:
		return &FieldError{"input.max_file_bytes", "must not be negative (0 is the default, 512 MiB)"}
	case c.Input.MaxFieldBytes < 0:
		return &FieldError{"input.max_field_bytes", "must not be negative (0 is the default, 1 MiB)"}
	case c.Input.MaxFileBytes > 0 && c.Input.MaxFieldBytes > c.Input.MaxFileBytes:
		return &FieldError{"input.max_field_bytes", "larger than input.max_file_bytes"}
	}
	names := map[string]bool{}
	for i, cn := range c.Connectors {
		f := fmt.Sprintf("connectors[%d]", i)
		if cn.Type == "" {
			return &FieldError{f + ".type", "required"}
		}
		if cn.Name == "" {
			c.Connectors[i].Name = cn.Type
			cn.Name = cn.Type
		}
		if names[cn.Name] {
			return &FieldError{f + ".name", fmt.Sprintf("duplicate connector name %q", cn.Name)}
		}
		names[cn.Name] = true
	}
	for i, k := range c.APIKeys {
		if len(k.SHA256) != 64 {
			return &FieldError{fmt.Sprintf("api_keys[%d].sha256", i), "want 64 hex characters (sha256 of the key)"}
		}
		if _, err := hex.DecodeString(k.SHA256); err != nil {
			return &FieldError{fmt.Sprintf("api_keys[%d].sha256", i), "not hex"}
		}
		switch k.Role {
		case "":
			c.APIKeys[i].Role = RoleReader
		case RoleReader, RoleApprover, RoleAdmin:
		default:
			return &FieldError{fmt.Sprintf("api_keys[%d].role", i), fmt.Sprintf("want reader, approver or admin, got %q", k.Role)}
		}
		if k.Email != "" && (!strings.Contains(k.Email, "@") || strings.ContainsAny(k.Email, " \t,")) {
			return &FieldError{fmt.Sprintf("api_keys[%d].email", i), fmt.Sprintf("%q is not an e-mail address", k.Email)}
		}
		c.APIKeys[i].Email = strings.ToLower(strings.TrimSpace(k.Email))
		if k.Name == "" {
			return &FieldError{fmt.Sprintf("api_keys[%d].name", i), "required"}
		}
	}
	switch c.Slack.Mode {
	case "socket", "http":
	default:
		return &FieldError{"slack.mode", fmt.Sprintf("want socket or http, got %q", c.Slack.Mode)}
	}
	switch c.Agent.Provider {
	case "", "offline", "openai", "azure", "anthropic", "bedrock", "gemini", "ollama":
	default:
		return &FieldError{"agent.provider", fmt.Sprintf("unknown provider %q", c.Agent.Provider)}
	}
	if c.Agent.MaxSteps <= 0 {
		return &FieldError{"agent.max_steps", "must be positive"}
	}
	if c.Sync.Interval < 0 {
		return &FieldError{"sync.interval", "negative"}
	}
	for i, a := range c.Actuators {
		if a.Type == "" || a.Source == "" {
			return &FieldError{fmt.Sprintf("actuators[%d]", i), "type and source are required"}
		}
	}
	return nil
}
