// Package graph is Steward's identity–permission graph: the node and edge
// model every connector emits (model.go), the derived facts computed when a
// source is loaded (privilege, owner status, idleness, each with the path
// that justifies it), and the query-plan executor that answers questions.
//
// See README.md for the model, with a diagram, written for connector
// authors.
package graph
