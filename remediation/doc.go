// Package remediation turns query results into proposals for the approval
// state machine: a Proposal carries the query plan that selected its
// targets, a snapshot of each target with its evidence and the state the
// actuator must still find, the actions, the justification and the
// approval rule. Preview is the dry run (the exact calls each actuator
// would make); Submit opens the proposal.
//
// Saved policies are YAML files, one per file, decoded strictly (an
// unknown key is an error naming the file, line and key):
//
//	name: idle-admin-keys            # [a-z0-9_-], unique in the directory
//	description: admin keys idle 90 days
//	plan: {version: 1, kinds: [credential], filters: [...]}  # query plan (YAML or a JSON string)
//	expiry: 3d                       # how long each stage's proposal waits (default 7d)
//	on_expiry: escalate              # or cancel (default)
//	escalate_to: security-leads      # group that takes over on escalation
//	restart_after: 90d               # optional: re-run a finished or stopped chain
//	approvers: {group: secops, required: 1, owner: true}  # default for stages
//	stages:
//	  - action: notify_owner         # first stage: opens on a match, needs no approval
//	  - after: 7d                    # 7 days after the notice, target still matching
//	    action: disable_credential
//	    approvers: {group: secops, required: 2}
//	  - after: 30d                   # 30 more days disabled
//	    action: delete               # inherits the previous stage's approvers
//	    params: {}                   # optional extra action params
//
// Durations take w, d, h, m, s ("1d12h"). A stage's approvers are, in
// order: its own, else the previous changing stage's, else the policy's,
// else the target's owner alone (required 1). owner defaults to true: the
// target's owner is eligible to approve or reject alongside the group,
// which is how an owner answers "still needed". notify_owner stages take
// no approvers.
//
// RunPolicies is the scheduler's pass over the policies; see its doc for
// how stages advance. It keeps no state of its own: the proposals are the
// state, so several replicas may run it (the approval store allows one
// open proposal per policy, stage and target). Because of that it cannot
// see a target that stopped matching between two runs and matched again;
// a stage opens only if the target matches on the run when it is due.
package remediation
