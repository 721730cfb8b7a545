package actuate

import (
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// Expect is the approved state of a target that its source's actuator
// re-checks before acting: the graph facts the actuator compares with the
// live system, as the source's connectors.Registration.Expect says. A
// proposal copies it into each action's params, so an actuator refuses
// (connectors.ErrTargetChanged) when the target moved on since the
// approver looked. Sources whose actuator checks nothing of the
// graph (webhook) get the node's status, which the receiver may check.
func Expect(n *graph.Node) map[string]string {
	out := map[string]string{}
	if r, ok := connectors.Lookup(graph.SourceType(n.Source)); ok && r.Expect != nil {
		out = r.Expect(n)
	} else if n.Status != "" {
		out["status"] = n.Status
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
