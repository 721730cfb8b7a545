// Package actuate carries out approved remediation actions. An Executor
// routes each connectors.Action to the Actuator configured for the
// target's source (the longest configured source that prefixes the
// target's node id), built from the actuators section of the
// configuration — credentials of their own, never the readers'. It is the
// approval package's Executor, Undoer and Checker, and the remediation
// package's Planner (the dry run).
//
// Besides the connectors' own actuators (postgres, ldap) it offers a
// generic webhook actuator for SOAR tools: each action is POSTed as a JSON
// body signed with HMAC-SHA256, and a rollback posts the undo. See
// webhook.go for the wire format.
package actuate
