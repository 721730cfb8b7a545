package eval_test

// The steward binary links every connector, so each source's words and
// flags (package graph/sources) are registered; the tests link them too.
import _ "github.com/steward-oss/steward/connectors/all"
