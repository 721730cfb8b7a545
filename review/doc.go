// Package review runs access reviews (certification campaigns) of
// non-human identities: a campaign's scope is a question or a query plan;
// launching it snapshots every matching identity (grants, evidence, owner,
// last use, credential age, leaks, unused permissions) into items, so a
// later sync does not change what is being reviewed; each item gets a
// reviewer from the campaign's rule chain; reviewers decide Keep (until a
// date, with a justification where the campaign requires one), Revoke,
// Modify (down to the permissions actually used) or Reassign; Tick sends
// reminders, escalates items whose reviewer did not act to the next rule
// and applies the default decision at the deadline.
//
// Revoke and Modify never act: they open remediation proposals through
// the approval service, with the reviewer as requester (so a reviewer can
// never approve their own decision), and the campaign follows each
// proposal to executed, failed or rolled back. Every launch, decision,
// refusal, reminder, escalation and outcome is an audit record.
//
// Campaign files (reviews/*.yaml) are decoded strictly: an unknown key is
// an error naming the file, line and key.
//
//	name: quarterly-privileged        # [a-z0-9_-]
//	description: admin NHIs, every quarter
//	scope:
//	  question: "admins idle 90 days" # or plan: {version: 1, ...}
//	schedule: quarterly               # once (default), quarterly, or every: 30d
//	duration: 14d                     # or due: 2026-12-31T00:00:00Z
//	reviewers:                        # the rule chain, first match wins
//	  - owner                         # the identity's active owner
//	  - manager                       # the owner's manager (HR roster)
//	  - group: secops                 # fallback group (config approvers,
//	    members: [a@example.com]      #  or members listed here)
//	owner_may_review: false           # false: the owner is skipped and may never decide
//	require_justification: privileged_or_idle  # or always, never
//	idle_days: 90                     # what counts as idle for justification
//	escalate_after: 7d                # no decision this long: next rule
//	remind_before: [3d, 1d]           # reminders before the deadline
//	default_decision: revoke          # keep, revoke or none, at the deadline
//	keep_for: 90d                     # how long a Keep lasts when no date is given
//	approvers: {group: secops, required: 1}  # who approves Revoke/Modify proposals
//
// Reviewer rule chain: "owner" yields the identity's most confident owner
// who has not left; "manager" yields the HR manager of the identity's
// owner (a departed owner's manager answers for them) if that manager is
// active; "group" yields the group. A rule that yields nobody — no owner,
// the owner left, the manager left or is the owner when owners may not
// review — is skipped, and the skip is recorded on the item. Escalation
// moves an item to the next rule of its chain; the last rule does not
// escalate further.
//
// Instances live in a Store: BoltStore (one bbolt file) or PGStore
// (PostgreSQL, several replicas), one JSON document per launched campaign,
// changed only inside Store.Update, like the approval package.
package review
