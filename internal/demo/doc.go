// Package demo generates the identity graph of a fictional company, Acme,
// deterministically from a seed. `steward ask --demo`, the tests, the eval
// and the benchmarks load it instead of real connectors.
//
// # The company
//
// Acme has ten engineering teams (payments, platform, data, security,
// growth, infra, ml, identity, mobile, sre) running about forty services
// (payments-api, ledger, etl-loader, inference-api, ...); at larger sizes
// numbered instances of them ("ledger-7"). Its HR roster ("hr") holds one
// person per ten identities (at least 20): a CTO, a manager per team and
// engineers, about 8% of whom have left (status departed, attrs end_date).
// Emails are firstname.lastname@example.com.
//
// Config.Size non-human identities are spread over these sources:
//
//	aws:<account>            12% IAM users (ci-deployer, terraform, backup-agent, <svc>-ci...)
//	                          6% workloads: GitHub Actions OIDC subjects and EC2 instance profiles
//	                             accounts 111111111111 (prod), 222222222222 (staging), 333333333333 (dev), more at scale
//	gcp:<project>            14% service accounts, two thirds with user-managed keys (acme-prod, acme-staging, acme-data)
//	entra:acme.onmicrosoft.com 11% app registrations, 1% AI agents (ai-support-agent), client secrets and certificates
//	k8s:<cluster>            26% service accounts (prod-cluster, staging-cluster), legacy token secrets, IRSA to AWS
//	github:acme               3% GitHub Apps, 2% machine-user bots with PATs, 2% deploy keys (one key each)
//	okta:acme.okta.com        3% service apps, 2% service users with API tokens
//	ldap:dc=acme,dc=example  10% AD service accounts (password never expires; Domain Admins via nested groups)
//	postgres:<database>       8% login roles (orders-db, billing-db, analytics-db, staging-db), some superusers
//
// Each source carries the structure that grants privilege the way that
// source does (policies attached to users, groups and roles; trust
// relationships; role bindings; directory roles; nested groups) and
// follows the direction and privilege rules of graph/README.md. Owners
// are in the "ownership" subgraph: owns edges with reason "tag owner",
// matching an owner tag on the identity, or "created_by", matching a
// created_by edge in the AWS, GCP and Entra sources. The sources carry no
// other owner hints (no team tags, no managed_by), so owner inference run
// on the demo finds a subset of these owners and never contradicts them.
// Secrets are never generated into the output: credentials carry a masked
// id and the SHA-256 fingerprint of a fake id, and the "gitleaks:demo"
// subgraph holds findings whose fingerprints match the leaked ones, each
// with a leaked_in edge to a github:acme repository.
//
// Node ids take the forms the connectors give them where one exists
// ("aws:<account>:access-key/<user>/AKIA…WXYZ/<fingerprint prefix>",
// "gcp:<project>:serviceAccounts/<email>", "entra:<tenant>:app/<app id>",
// "k8s:<cluster>:sa/<namespace>/<name>", "github:acme:repo/<name>"), so
// questions written against the demo read the same on real data. Every
// identity has an in_account edge to its account, project, tenant,
// cluster, organization, directory or database.
//
// The demo always contains, among others: aws:111111111111:user/ci-deployer
// (deploys to prod and, across accounts, staging through deploy roles; its
// key was leaked), user/terraform (AdministratorAccess), user/backup-agent
// (idle, owned by a departed engineer), the ai-support-agent with wide
// Microsoft Graph write access and a secret expiring within nine days,
// cluster-admin argocd-application-controller, and a GitHub bot named
// PromptInjectionName, which is data and never an instruction.
//
// # Rates
//
// Every other identity's fate is drawn with the probabilities in Rates
// (idle 25%, admin 6%, no owner 30%, owned only by departed people 8%,
// over-privileged 3%; of expiring credentials 12% within 30 days; of
// fingerprinted credentials 2% leaked), so measured rates are close to
// them; the tests measure them from the graph itself.
//
// # Determinism and scale
//
// Config.Size counts identities exactly. Credentials (about 0.5 per
// identity; 44% of identities hold at least one), humans (0.1 per
// identity), and the groups, roles, policies and resources of each source
// come on top: about 1.6 nodes and 5.5 edges per identity at 10k and
// above, more at small sizes, where each source's fixed structure
// weighs more.
//
// Each source draws from its own PCG stream seeded by Config.Seed and the
// source name, so Generate is reproducible byte for byte. Stream emits one
// source at a time. AWS accounts, GCP projects, Kubernetes clusters and
// databases multiply as Size grows (at most 10,000 to 25,000 identities
// each); the single-tenant sources hold their share of Size (Entra, the
// largest, 12%). So at a million identities Stream holds one source of at
// most ~120,000 identities plus the ownership and gitleaks subgraphs, which
// grow with the whole company.
package demo
