// Package all imports every connector so that each registers itself; this
// file is the one list of the sources Steward knows.
package all

import (
	_ "github.com/steward-oss/steward/connectors/aws"
	_ "github.com/steward-oss/steward/connectors/cloudtrail"
	_ "github.com/steward-oss/steward/connectors/conjur"
	_ "github.com/steward-oss/steward/connectors/entra"
	_ "github.com/steward-oss/steward/connectors/gcp"
	_ "github.com/steward-oss/steward/connectors/github"
	_ "github.com/steward-oss/steward/connectors/graphfile"
	_ "github.com/steward-oss/steward/connectors/hr"
	_ "github.com/steward-oss/steward/connectors/k8s"
	_ "github.com/steward-oss/steward/connectors/ldap"
	_ "github.com/steward-oss/steward/connectors/okta"
	_ "github.com/steward-oss/steward/connectors/opengraph"
	_ "github.com/steward-oss/steward/connectors/postgres"
	_ "github.com/steward-oss/steward/connectors/secretscan"
	_ "github.com/steward-oss/steward/connectors/vault"
)
