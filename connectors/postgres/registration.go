package postgres

import (
	"fmt"
	"strings"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// words are how people name PostgreSQL in questions.
var words = []string{"postgres", "postgresql", "database", "db", "databases"}

// actuatorRegistration builds the role actuator for postgres or
// postgres:<name>.
var actuatorRegistration = &connectors.ActuatorRegistration{
	Options: []string{OptDSN, OptDSNFile, OptName},
	New: func(source string, o connectors.Options, env connectors.ActuatorEnv) (connectors.Actuator, error) {
		dsn, err := actuatorDSN(o, env.ReadFile)
		if err != nil {
			return nil, err
		}
		name := o[OptName]
		if full, ok := strings.CutPrefix(source, "postgres:"); ok {
			if name != "" && name != full {
				return nil, fmt.Errorf("options.%s: %q contradicts source %q", OptName, name, source)
			}
			name = full
		} else if source != "postgres" {
			return nil, fmt.Errorf("source: %q is not postgres or postgres:<name>", source)
		}
		return NewActuator(ActuatorConfig{DSN: dsn, Name: name})
	},
}

// actuatorDSN returns the dsn option or the trimmed content of dsn-file
// (exactly one); the value is never put in an error.
func actuatorDSN(o connectors.Options, readFile func(string) ([]byte, error)) (string, error) {
	v, f := o[OptDSN], o[OptDSNFile]
	switch {
	case v != "" && f != "":
		return "", fmt.Errorf("options: give %s or %s, not both", OptDSN, OptDSNFile)
	case v != "":
		return v, nil
	case f == "":
		return "", fmt.Errorf("options.%s: required (or %s)", OptDSNFile, OptDSN)
	}
	b, err := readFile(f)
	if err != nil {
		return "", fmt.Errorf("options.%s: %w", OptDSNFile, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("options.%s: %s is empty", OptDSNFile, f)
	}
	return s, nil
}

// expect is what the actuator re-reads before acting: whether the role
// can log in.
func expect(n *graph.Node) map[string]string {
	out := map[string]string{}
	if v, ok := n.Attrs[AttrCanLogin]; ok {
		out[ParamCanLogin] = v
	}
	return out
}
