// Package approval is the durable state machine every remediation passes
// through before an actuator changes anything: a proposal is approved by N
// distinct eligible people (never its requester) before its deadline, then
// executed action by action with a journal that makes a crash safe, and
// can be rolled back. Every transition writes an audit record.
//
// Proposals live in a Store: BoltStore (one embedded file, one process) or
// PGStore (PostgreSQL, several replicas). See README.md for the state
// diagram and the crash-safety rules.
package approval
