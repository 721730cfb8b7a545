package demo

import (
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/secret"
)

// leak is a credential the secret scanner will find.
type leak struct {
	fingerprint, masked, subtype, rule string
	created                            time.Time // the credential's; the commit comes later
}

var leakFiles = []string{".env", "config/prod.env", "deploy/values.yaml", "scripts/backup.sh", "README.md",
	"terraform/providers.tf", ".github/workflows/deploy.yml", "docker-compose.yml"}

// strayLeaks are findings that match no credential Steward knows (a key
// of a deleted user, a test token), as real scans always have.
const strayLeaks = 3

// gitleaks is the secret scanner's report: one finding per leaked
// credential, carrying the same fingerprint and masked id, found in a
// file of a GitHub repository. Steward joins findings to credentials by
// fingerprint; nothing here names the credential's node.
func (w *world) gitleaks() *graph.Subgraph {
	e := w.newEmitter("gitleaks:demo")
	pfx := e.sg.Source + ":"
	all := w.leaks
	for range strayLeaks {
		tok := e.token("AKIA", 16, upper32)
		all = append(all, leak{fingerprint: fingerprint(tok), masked: secret.Mask(tok), subtype: "access_key",
			rule: "aws-access-token", created: Reference.Add(-700 * day)})
	}
	for i, l := range all {
		repo := w.repos[e.rng.IntN(len(w.repos))]
		file := leakFiles[e.rng.IntN(len(leakFiles))]
		line := itoa(1 + e.rng.IntN(120))
		commit := e.token("", 40, lowerHex)
		id := pfx + "finding/" + itoa(i+1)
		e.node(graph.Node{ID: id, Kind: graph.KindCredential, Subtype: l.subtype,
			Name:      l.masked + " (" + l.rule + ") in " + githubOrg + "/" + repo + "/" + file + ":" + line,
			CreatedAt: e.between(maxTime(l.created, Reference.Add(-400*day)), Reference.Add(-time.Hour)),
			Attrs: map[string]string{graph.AttrFingerprint: l.fingerprint, graph.AttrKeyIDMasked: l.masked,
				"rule": l.rule, "commit": commit, "file": file, "line": line, "repo": githubOrg + "/" + repo}})
		e.sg.AddEdge(graph.Edge{From: id, To: "github:" + githubOrg + ":repo/" + repo, Kind: graph.EdgeLeaked,
			Attrs: map[string]string{"rule": l.rule, "commit": commit, "file": file, "line": line}})
	}
	return e.sg
}

// plan lists the source generators in emission order after "hr".
func (w *world) plan() []func() *graph.Subgraph {
	var out []func() *graph.Subgraph
	nAWS := scopesFor(w.counts[famAWSUser]+w.counts[famAWSWorkload], 3, 20000)
	for i, a := range awsAccounts(nAWS) {
		out = append(out, func() *graph.Subgraph { return w.aws(a, i, nAWS) })
	}
	nGCP := scopesFor(w.counts[famGCP], 3, 20000)
	for i, p := range gcpProjects(nGCP) {
		out = append(out, func() *graph.Subgraph { return w.gcp(p, i, nGCP) })
	}
	out = append(out, w.entra)
	nK8s := scopesFor(w.counts[famK8s], 2, 25000)
	for i, c := range k8sClusters(nK8s) {
		out = append(out, func() *graph.Subgraph { return w.k8s(c, i, nK8s) })
	}
	out = append(out, w.github, w.okta, w.ldap)
	nPG := scopesFor(w.counts[famPG], 4, 10000)
	for i, d := range pgDatabases(nPG) {
		out = append(out, func() *graph.Subgraph { return w.postgres(d, i, nPG) })
	}
	return out
}
