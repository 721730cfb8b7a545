// Package vault reads HashiCorp Vault's machine identities and what they
// may do: auth methods and their roles (AppRole, Kubernetes, JWT/OIDC,
// AWS), ACL policies parsed into path grants, and token accessors.
//
// It reads a directory of recorded Vault HTTP API responses or the live
// API through github.com/hashicorp/vault/api; both paths decode the same
// response envelope (api.Secret) and share one builder.
package vault
