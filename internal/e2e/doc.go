// Package e2e is the acceptance test of remediation: real PostgreSQL and
// OpenLDAP servers (internal/pgtest, internal/ldaptest) read by their
// connectors, a question and "remediate" in a Slack thread served by the
// slackbot's HTTP endpoints against a local Slack Web API, an approver's
// signed click, the actuators changing the real servers, the result in
// the thread, rollback, refused clicks that change nothing, process-level
// crash and resume, and the audit log's chain; and of access reviews
// (review_test.go): a campaign launched on a fixed plan over the same
// servers, reviewers' direct messages and clicks, a Revoke carried
// through approval to the PostgreSQL actuator, escalation, the default at
// the deadline and the report. It holds only tests.
package e2e
