// Package action names the changes Steward can propose and carry out: the
// one declaration of each action kind that proposals, policies, the
// agent's propose tool, approval and every actuator share. It imports
// nothing, so the agent's tools can name a kind without reaching an
// actuator or the approval executor.
package action

import "slices"

// Kind is an action's type, "disable_credential", as written in proposals,
// policies and audit records (a JSON and YAML string).
type Kind string

// The action kinds. Actuators declare which they support; NotifyOwner
// changes nothing in a source and is the only one that runs without
// approval.
const (
	DisableCredential  Kind = "disable_credential"
	DeactivateIdentity Kind = "deactivate_identity"
	RevokeGrant        Kind = "revoke_grant"
	RemoveMembership   Kind = "remove_membership"
	RotateCredential   Kind = "rotate_credential"
	NotifyOwner        Kind = "notify_owner"
	Delete             Kind = "delete"
)

// Kinds lists every kind, in the order help text shows them.
var Kinds = []Kind{DisableCredential, DeactivateIdentity, RevokeGrant, RemoveMembership, RotateCredential, NotifyOwner, Delete}

// Names lists every kind as a string, for validation messages.
func Names() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = string(k)
	}
	return out
}

// Known reports whether k is one of Kinds.
func (k Kind) Known() bool { return slices.Contains(Kinds, k) }
