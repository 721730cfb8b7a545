// Package acceptance holds Steward's end-to-end acceptance tests. They drive
// the real command line in-process (cli.Run): connector fixtures in their
// source's own export formats (and a live PostgreSQL server) are loaded into
// one bolt graph with `steward load`, and the analysts' questions from the
// cloud and SaaS connector issues are asked with `steward ask` — or, where
// the offline planner cannot map a question yet, with an explicit
// `steward query --plan` whose plan lives in testdata/plans. Every answer is
// checked against ids worked out by hand from the fixtures, and every row
// against the evidence that makes it true.
//
// The package has no code of its own; everything is in its tests.
package acceptance
