package graph

// Attribute names shared between connectors and the derivation steps that
// read them. Source-specific facts may use other keys; these are the ones
// other packages rely on.
const (
	AttrEmail         = "email"         // a person's or owner's e-mail, lower-case
	AttrTeam          = "team"          // HR team, or a team named by a tag
	AttrManager       = "manager"       // e-mail of a person's manager (HR)
	AttrEndDate       = "end_date"      // RFC 3339 date a person left (HR)
	AttrARN           = "arn"           // AWS ARN
	AttrKeyIDMasked   = "key_id_masked" // "AKIA…WXYZ"; never the full key id of a secret
	AttrFingerprint   = "fingerprint"   // hex SHA-256 of a credential's public id, for leak matching
	AttrTokenPrefix   = "token_prefix"  // non-secret prefix, e.g. "ghp_" or "xoxb-"
	AttrManagedBy     = "managed_by"    // owner hint from the source: e-mail, DN or node id
	AttrInstalledBy   = "installed_by"  // owner hint: who installed/created an app (login or e-mail)
	AttrNamespace     = "namespace"     // Kubernetes namespace
	AttrReason        = "reason"        // on owns edges: why this owner was inferred
	AttrConfidence    = "confidence"    // on owns edges: 0..1 as a decimal string
	AttrVia           = "via"           // on grants/can_assume: binding or statement that produced it
	AttrSourceIP      = "source_ip"     // on used edges
	AttrUserAgent     = "user_agent"    // on used edges
	AttrUsedAction    = "action"        // on used edges: the API action seen
	AttrPasswordNever = "password_never_expires"
	AttrMFA           = "mfa"
	AttrEnvironment   = "environment" // "prod", "staging", "dev" where the source says so
	// AttrEffectivePrivilege is set by a connector that evaluated its
	// source's policies exactly for this principal (denies, boundaries);
	// the derived privilege never exceeds it.
	AttrEffectivePrivilege = "effective_privilege"
	// AttrReadsSecrets on a grants edge is "true" or "false" when the
	// connector knows whether the grant reads a secret store (AWS Secrets
	// Manager, SSM parameters); "who can read secrets" then follows it
	// instead of matching the word against resource patterns.
	AttrReadsSecrets = "reads_secrets"
)

// SourceType returns the connector type of a source name: "aws" for
// "aws:123456789012". Sources are named "<type>" or "<type>:<scope>".
func SourceType(source string) string {
	for i := 0; i < len(source); i++ {
		if source[i] == ':' {
			return source[:i]
		}
	}
	return source
}

// HumanID is the node id of the person with the given e-mail.
func HumanID(email string) string { return "human:" + lower(email) }

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
