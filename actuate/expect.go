package actuate

import (
	awsconn "github.com/steward-oss/steward/connectors/aws"
	"github.com/steward-oss/steward/connectors/github"
	"github.com/steward-oss/steward/connectors/ldap"
	"github.com/steward-oss/steward/connectors/postgres"
	"github.com/steward-oss/steward/graph"
)

// Expect is the approved state of a target that its source's actuator
// re-checks before acting: the graph facts the actuator compares with the
// live system. A proposal copies it into each action's params, so an
// actuator refuses (connectors.ErrTargetChanged) when the target moved on
// since the approver looked. Sources whose actuator checks nothing of the
// graph (webhook) get the node's status, which the receiver may check.
func Expect(n *graph.Node) map[string]string {
	out := map[string]string{}
	switch graph.SourceType(n.Source) {
	case "postgres":
		if v, ok := n.Attrs[postgres.AttrCanLogin]; ok {
			out[postgres.ParamCanLogin] = v
		}
	case "ldap":
		if v, ok := n.Attrs[ldap.AttrUserAccountControl]; ok {
			out[ldap.ParamUserAccountControl] = v
		}
		if n.Status == graph.StatusActive || n.Status == graph.StatusDisabled {
			out[ldap.ParamStatus] = n.Status
		}
	case "github":
		// What the GitHub actuator re-reads before deleting a deploy key,
		// removing an installation's repository or revoking a PAT.
		for param, attr := range map[string]string{github.ParamRepo: "repo", github.ParamFingerprint: graph.AttrFingerprint,
			github.ParamReadOnly: "read_only", github.ParamInstallationID: "installation_id", github.ParamGrantID: "grant_id",
			github.ParamOwner: "owner"} {
			if v, ok := n.Attrs[attr]; ok {
				out[param] = v
			}
		}
		if n.Subtype == "deploy_key" && n.Name != "" {
			out[github.ParamTitle] = n.Name
		}
		if n.Status != "" {
			out[github.ParamStatus] = n.Status
		}
	case "aws":
		if n.Status != "" {
			out[awsconn.ParamStatus] = n.Status
		}
		if v, ok := n.Attrs[graph.AttrFingerprint]; ok {
			out[awsconn.ParamFingerprint] = v
		}
	default:
		if n.Status != "" {
			out["status"] = n.Status
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
