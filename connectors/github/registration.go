package github

import (
	"fmt"
	"strings"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// words are how people name GitHub in questions.
var words = []string{"github", "gh"}

// Actuator option names (keys of actuators[].options in steward.yaml).
const (
	optURL           = "url"
	optTokenFile     = "token-file"
	optUserTokenFile = "user-token-file"
)

// actuatorRegistration builds the actuator for github:<org>.
var actuatorRegistration = &connectors.ActuatorRegistration{
	Options: []string{optURL, optTokenFile, optUserTokenFile},
	New: func(source string, o connectors.Options, env connectors.ActuatorEnv) (connectors.Actuator, error) {
		org, ok := strings.CutPrefix(source, "github:")
		if !ok || org == "" {
			return nil, fmt.Errorf("source: %q is not github:<org>", source)
		}
		if o[optTokenFile] == "" {
			return nil, fmt.Errorf("options.%s: required", optTokenFile)
		}
		return NewActuator(ActuatorConfig{Org: org, BaseURL: o[optURL], TokenFile: o[optTokenFile],
			UserTokenFile: o[optUserTokenFile], ReadFile: env.ReadFile, HTTPClient: env.HTTPClient})
	},
}

// expect is what the actuator re-reads before deleting a deploy key,
// removing an installation's repository or revoking a PAT.
func expect(n *graph.Node) map[string]string {
	out := map[string]string{}
	for param, attr := range map[string]string{ParamRepo: "repo", ParamFingerprint: graph.AttrFingerprint,
		ParamReadOnly: "read_only", ParamInstallationID: "installation_id", ParamGrantID: "grant_id",
		ParamOwner: "owner"} {
		if v, ok := n.Attrs[attr]; ok {
			out[param] = v
		}
	}
	if n.Subtype == "deploy_key" && n.Name != "" {
		out[ParamTitle] = n.Name
	}
	if n.Status != "" {
		out[ParamStatus] = n.Status
	}
	return out
}
