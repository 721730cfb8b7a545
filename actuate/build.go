package actuate

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	awsconn "github.com/steward-oss/steward/connectors/aws"
	"github.com/steward-oss/steward/connectors/github"
	"github.com/steward-oss/steward/connectors/k8s"
	"github.com/steward-oss/steward/connectors/ldap"
	"github.com/steward-oss/steward/connectors/postgres"
)

// Env is what building actuators may need from the process.
type Env struct {
	// ReadFile reads secret files (DSNs, passwords, webhook secrets);
	// default os.ReadFile. Actuators never read environment variables.
	ReadFile func(path string) ([]byte, error)
	// HTTPClient is the webhook actuators' client; default one with a
	// 30s timeout.
	HTTPClient *http.Client
}

// Option names per actuator type: a public contract (keys of
// actuators[].options in steward.yaml).
const (
	OptDSN                = "dsn"
	OptDSNFile            = "dsn-file"
	OptName               = "name"
	OptURL                = "url"
	OptBaseDN             = "base-dn"
	OptBindDN             = "bind-dn"
	OptPasswordFile       = "password-file"
	OptCAFile             = "ca-file"
	OptStartTLS           = "start-tls"
	OptInsecureSkipVerify = "insecure-skip-verify"
	OptSecretFile         = "secret-file"
	OptCheck              = "check"
	OptTimeout            = "timeout"
	OptProfile            = "profile"
	OptRegion             = "region"
	OptEndpoint           = "endpoint"
	OptKubeconfig         = "kubeconfig"
	OptContext            = "context"
	OptInCluster          = "in-cluster"
	OptTokenFile          = "token-file"
	OptUserTokenFile      = "user-token-file"
)

var knownOptions = map[string][]string{
	"aws":      {OptProfile, OptRegion, OptEndpoint},
	"k8s":      {OptKubeconfig, OptContext, OptInCluster},
	"github":   {OptURL, OptTokenFile, OptUserTokenFile},
	"postgres": {OptDSN, OptDSNFile, OptName},
	"ldap":     {OptURL, OptBaseDN, OptBindDN, OptPasswordFile, OptCAFile, OptStartTLS, OptInsecureSkipVerify},
	"webhook":  {OptURL, OptSecretFile, OptCheck, OptTimeout},
}

// Types lists the actuator types Build knows.
func Types() []string {
	out := make([]string, 0, len(knownOptions))
	for t := range knownOptions {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Build makes an Executor from the actuators section of the
// configuration. Errors name the entry ("actuators[1].options.url: ...")
// and never quote a secret.
func Build(cfgs []config.Actuator, env Env) (*Executor, error) {
	if env.ReadFile == nil {
		env.ReadFile = os.ReadFile
	}
	if env.HTTPClient == nil {
		env.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	routes := make([]Route, 0, len(cfgs))
	for i, c := range cfgs {
		field := fmt.Sprintf("actuators[%d]", i)
		a, err := buildOne(c, env)
		if err != nil {
			return nil, fmt.Errorf("actuate: %s (%s for %s): %w", field, c.Type, c.Source, err)
		}
		routes = append(routes, Route{Source: c.Source, Type: c.Type, Actuator: a})
	}
	return NewExecutor(routes...)
}

func buildOne(c config.Actuator, env Env) (connectors.Actuator, error) {
	known, ok := knownOptions[c.Type]
	if !ok {
		return nil, fmt.Errorf("type: unknown actuator type %q (known: %s)", c.Type, strings.Join(Types(), ", "))
	}
	if strings.TrimSpace(c.Source) == "" {
		return nil, fmt.Errorf("source: required")
	}
	for k := range c.Options {
		if !contains(known, k) {
			return nil, fmt.Errorf("options.%s: unknown option for %s (known: %s)", k, c.Type, strings.Join(known, ", "))
		}
	}
	o := c.Options
	switch c.Type {
	case "aws":
		// The account comes from the source: an actuator acts on one
		// account, with credentials from its own shared-config profile.
		acct, ok := strings.CutPrefix(c.Source, "aws:")
		if !ok || acct == "" {
			return nil, fmt.Errorf("source: %q is not aws:<account-id>", c.Source)
		}
		if o[OptProfile] == "" {
			return nil, fmt.Errorf("options.%s: required (the actuator's own credentials, never the reader's)", OptProfile)
		}
		return awsconn.NewActuator(awsconn.ActuatorConfig{Account: acct, Profile: o[OptProfile], Region: o[OptRegion], Endpoint: o[OptEndpoint]})
	case "k8s":
		kc := k8s.ActuatorConfig{Kubeconfig: o[OptKubeconfig], Context: o[OptContext]}
		if v := o[OptInCluster]; v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("options.%s: %w", OptInCluster, err)
			}
			kc.InCluster = b
		}
		if cluster, ok := strings.CutPrefix(c.Source, "k8s:"); ok {
			kc.Cluster = cluster
		} else if c.Source != "k8s" {
			return nil, fmt.Errorf("source: %q is not k8s or k8s:<cluster>", c.Source)
		}
		return k8s.NewActuator(kc)
	case "github":
		org, ok := strings.CutPrefix(c.Source, "github:")
		if !ok || org == "" {
			return nil, fmt.Errorf("source: %q is not github:<org>", c.Source)
		}
		if o[OptTokenFile] == "" {
			return nil, fmt.Errorf("options.%s: required", OptTokenFile)
		}
		return github.NewActuator(github.ActuatorConfig{Org: org, BaseURL: o[OptURL], TokenFile: o[OptTokenFile],
			UserTokenFile: o[OptUserTokenFile], ReadFile: env.ReadFile, HTTPClient: env.HTTPClient})
	case "postgres":
		dsn, err := secretOption(o, OptDSN, OptDSNFile, env.ReadFile)
		if err != nil {
			return nil, err
		}
		name := o[OptName]
		if full, ok := strings.CutPrefix(c.Source, "postgres:"); ok {
			if name != "" && name != full {
				return nil, fmt.Errorf("options.%s: %q contradicts source %q", OptName, name, c.Source)
			}
			name = full
		} else if c.Source != "postgres" {
			return nil, fmt.Errorf("source: %q is not postgres or postgres:<name>", c.Source)
		}
		return postgres.NewActuator(postgres.ActuatorConfig{DSN: dsn, Name: name})
	case "ldap":
		lc := ldap.ActuatorConfig{URL: o[OptURL], BaseDN: o[OptBaseDN], BindDN: o[OptBindDN], PasswordFile: o[OptPasswordFile], ReadFile: env.ReadFile}
		if src, err := ldap.SourceName(lc.BaseDN); err == nil && c.Source != "ldap" && c.Source != src {
			return nil, fmt.Errorf("source: %q, but options.%s names source %q", c.Source, OptBaseDN, src)
		}
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if v := o[OptInsecureSkipVerify]; v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("options.%s: %w", OptInsecureSkipVerify, err)
			}
			tc.InsecureSkipVerify = b
		}
		if v := o[OptStartTLS]; v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("options.%s: %w", OptStartTLS, err)
			}
			lc.StartTLS = b
		}
		if f := o[OptCAFile]; f != "" {
			pem, err := env.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("options.%s: %w", OptCAFile, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("options.%s: %s holds no PEM certificate", OptCAFile, f)
			}
			tc.RootCAs = pool
		}
		lc.TLS = tc
		return ldap.NewActuator(lc)
	default: // webhook
		wc := WebhookConfig{URL: o[OptURL], Source: c.Source, Client: env.HTTPClient}
		f := o[OptSecretFile]
		if f == "" {
			return nil, fmt.Errorf("options.%s: required (the HMAC key the receiver verifies)", OptSecretFile)
		}
		b, err := env.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("options.%s: %w", OptSecretFile, err)
		}
		wc.Secret = []byte(strings.TrimSpace(string(b)))
		if v := o[OptCheck]; v != "" {
			if wc.Check, err = strconv.ParseBool(v); err != nil {
				return nil, fmt.Errorf("options.%s: %w", OptCheck, err)
			}
		}
		if v := o[OptTimeout]; v != "" {
			d, err := config.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("options.%s: want a positive duration, got %q", OptTimeout, v)
			}
			cl := *wc.Client
			cl.Timeout = d
			wc.Client = &cl
		}
		return NewWebhook(wc)
	}
}

// secretOption returns the value of opt or the trimmed content of
// optFile (exactly one); the value is never put in an error.
func secretOption(o map[string]string, opt, optFile string, readFile func(string) ([]byte, error)) (string, error) {
	v, f := o[opt], o[optFile]
	switch {
	case v != "" && f != "":
		return "", fmt.Errorf("options: give %s or %s, not both", opt, optFile)
	case v != "":
		return v, nil
	case f == "":
		return "", fmt.Errorf("options.%s: required (or %s)", optFile, opt)
	}
	b, err := readFile(f)
	if err != nil {
		return "", fmt.Errorf("options.%s: %w", optFile, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("options.%s: %s is empty", optFile, f)
	}
	return s, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
