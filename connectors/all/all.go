// Package all imports every connector so that each registers itself; this
// file is the one list of the sources Steward knows. A connector's
// connectors.Registration carries everything the rest of Steward needs of
// it (reader, actuator, expected state, question words, scanner and
// people-feed flags), so adding one is its directory plus one line here;
// registration_test.go shows it with testdata/acme.
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
