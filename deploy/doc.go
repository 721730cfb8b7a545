// Package deploy holds Steward's deployment files — docker-compose.yaml
// (Steward and PostgreSQL as the shared store), the Helm chart under
// helm/steward and the Grafana dashboard under grafana/ — and the tests
// that check them: the compose file loaded as `docker compose config`
// loads it, the chart rendered by Helm's own engine and every manifest
// decoded as a Kubernetes object, and (with -tags imagetest) the
// Dockerfile's final stage built and run with buildah.
package deploy
