// Package all imports every connector so that each registers itself; this
// file is the one list of the sources Steward knows.
package all

import (
	_ "github.com/steward-oss/steward/connectors/graphfile"
)
