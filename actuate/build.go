package actuate

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	_ "github.com/steward-oss/steward/connectors/all" // every connector registers its actuator
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

// Option names of the webhook actuator: a public contract (keys of
// actuators[].options in steward.yaml). A connector's actuator declares
// its own in its connectors.ActuatorRegistration.
const (
	OptURL        = "url"
	OptSecretFile = "secret-file"
	OptCheck      = "check"
	OptTimeout    = "timeout"
)

// webhookOptions are the options of the one actuator type that belongs to
// no connector: the signed webhook any receiver can implement.
var webhookOptions = []string{OptURL, OptSecretFile, OptCheck, OptTimeout}

// actuatorTypes are the registered connectors that can act, by name.
func actuatorTypes() map[string]*connectors.ActuatorRegistration {
	out := map[string]*connectors.ActuatorRegistration{}
	for _, r := range connectors.All() {
		if r.Actuator != nil {
			out[r.Name] = r.Actuator
		}
	}
	return out
}

// Types lists the actuator types Build knows.
func Types() []string {
	out := []string{"webhook"}
	for t := range actuatorTypes() {
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
	reg, isConnector := actuatorTypes()[c.Type]
	known := webhookOptions
	if isConnector {
		known = reg.Options
	} else if c.Type != "webhook" {
		return nil, fmt.Errorf("type: unknown actuator type %q (known: %s)", c.Type, strings.Join(Types(), ", "))
	}
	if strings.TrimSpace(c.Source) == "" {
		return nil, fmt.Errorf("source: required")
	}
	for k := range c.Options {
		if !slices.Contains(known, k) {
			return nil, fmt.Errorf("options.%s: unknown option for %s (known: %s)", k, c.Type, strings.Join(known, ", "))
		}
	}
	o := c.Options
	if isConnector {
		return reg.New(c.Source, o, connectors.ActuatorEnv{ReadFile: env.ReadFile, HTTPClient: env.HTTPClient})
	}
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
