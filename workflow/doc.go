// Package workflow joins the remediation pieces for `steward serve`: the
// agent's propose_remediation tool (Proposer), saved policies run after
// each sync (Finder, PolicyRunner), and the HTTP routes that let an API
// client read proposals, preview them, manage policies and correct owners.
//
// Every proposal, from the agent or a policy, snapshots its targets from
// the current graph index the same way (snapshot.go): id, display name
// (credentials by their masked id), kind, source, the owner's e-mail, why
// the target was selected (a summary of the query's evidence) and the
// state the source's actuator must still find (actuate.Expect), which
// approval copies into each action's params.
//
// The Slack app's `remediate` command builds its proposal here too
// (FromAnswer, answer.go): one action per row of the thread's previous
// answer, with the configured rule, so the Slack app only carries words.
//
// Approval rule of an analyst's proposal: the targets' active owners and
// the configured approver group may approve; 2 distinct approvals when any
// target holds admin privilege or the action deletes, 1 otherwise. A
// proposal only records: nothing here executes an action.
//
// Approving or rejecting over HTTP is deliberately not offered. Approval
// happens in Slack, where the approver is a known person with an e-mail;
// an API key names a machine, and letting it approve would let one key
// both propose and approve. The HTTP routes read proposals and dry-run
// them; the mutations they offer (policies, owner corrections) are each
// audited with the key's name as actor and "http" as where; a mutation
// whose audit record cannot be written is not made.
//
// `steward serve` wires one approval.Service into all of it: NewProposer
// (chat.Options.Proposer), NewPolicyRunner (RunAfterSync after each sync,
// Expire on a periodic tick), NewOwners (over the same overrides file the
// index derivation reads, with the inventory as Reloader) and NewAPI,
// whose Handlers go in server.Config.Workflow (server/routes.go mounts them).
package workflow
