package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strconv"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// words are how people name the directory in questions.
var words = []string{"ldap", "active directory", "ad", "directory"}

// actuatorRegistration builds the directory actuator; the source must
// agree with base-dn when both name one.
var actuatorRegistration = &connectors.ActuatorRegistration{
	Options: []string{OptURL, OptBaseDN, OptBindDN, OptPasswordFile, OptCAFile, OptStartTLS, OptInsecureSkipVerify},
	New: func(source string, o connectors.Options, env connectors.ActuatorEnv) (connectors.Actuator, error) {
		lc := ActuatorConfig{URL: o[OptURL], BaseDN: o[OptBaseDN], BindDN: o[OptBindDN], PasswordFile: o[OptPasswordFile], ReadFile: env.ReadFile}
		if src, err := SourceName(lc.BaseDN); err == nil && source != "ldap" && source != src {
			return nil, fmt.Errorf("source: %q, but options.%s names source %q", source, OptBaseDN, src)
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
		return NewActuator(lc)
	},
}

// expect is what the actuator re-reads before acting: the account
// control flags and the status.
func expect(n *graph.Node) map[string]string {
	out := map[string]string{}
	if v, ok := n.Attrs[AttrUserAccountControl]; ok {
		out[ParamUserAccountControl] = v
	}
	if n.Status == graph.StatusActive || n.Status == graph.StatusDisabled {
		out[ParamStatus] = n.Status
	}
	return out
}
