package aws

import (
	"fmt"
	"strings"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// words are how people name AWS in questions.
var words = []string{"aws", "amazon", "iam"}

// actuatorRegistration builds the IAM actuator. The account comes from the
// source: an actuator acts on one account, with credentials from its own
// shared-config profile.
var actuatorRegistration = &connectors.ActuatorRegistration{
	Options: []string{OptProfile, OptRegion, OptEndpoint},
	New: func(source string, o connectors.Options, _ connectors.ActuatorEnv) (connectors.Actuator, error) {
		acct, ok := strings.CutPrefix(source, "aws:")
		if !ok || acct == "" {
			return nil, fmt.Errorf("source: %q is not aws:<account-id>", source)
		}
		if o[OptProfile] == "" {
			return nil, fmt.Errorf("options.%s: required (the actuator's own credentials, never the reader's)", OptProfile)
		}
		return NewActuator(ActuatorConfig{Account: acct, Profile: o[OptProfile], Region: o[OptRegion], Endpoint: o[OptEndpoint]})
	},
}

// expect is what the actuator re-reads before acting: the key's status
// and fingerprint.
func expect(n *graph.Node) map[string]string {
	out := map[string]string{}
	if n.Status != "" {
		out[ParamStatus] = n.Status
	}
	if v, ok := n.Attrs[graph.AttrFingerprint]; ok {
		out[ParamFingerprint] = v
	}
	return out
}
