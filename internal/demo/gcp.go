package demo

import (
	"fmt"

	"github.com/steward-oss/steward/graph"
)

type gcpProject struct{ id, env string }

func gcpProjects(n int) []gcpProject {
	out := []gcpProject{{"acme-prod", "prod"}, {"acme-staging", "staging"}, {"acme-data", "prod"}}
	for k := 3; k < n; k++ {
		env := envs[k%3]
		out = append(out, gcpProject{fmt.Sprintf("acme-%s-%d", env, k/3+1), env})
	}
	return out
}

var gcpActions = actions{
	read: []string{"storage.objects.get", "storage.objects.list", "bigquery.tables.list",
		"compute.instances.list", "secretmanager.versions.get"},
	write: []string{"storage.objects.create", "bigquery.tables.updateData", "compute.instances.setMetadata",
		"iam.serviceAccountKeys.create", "storage.objects.delete"},
}

// gcp builds one project. IAM bindings become grants from the service
// account to the project, bucket or dataset they apply to, with the
// role as the action: roles/owner is admin, roles/editor write.
func (w *world) gcp(proj gcpProject, idx, nProj int) *graph.Subgraph {
	src := "gcp:" + proj.id
	e := w.newEmitter(src, "google-api-go-client/0.5", "gcloud/470.0.0", "google-cloud-sdk python/3.11")
	pfx := src + ":"
	created := Reference.Add(-900 * day)
	projID := pfx + "projects/" + proj.id
	e.accountNode(graph.Node{ID: projID, Name: "projects/" + proj.id, Subtype: "project",
		Attrs: map[string]string{graph.AttrEnvironment: proj.env, "project_id": proj.id}})
	buckets := make([]string, len(teams))
	datasets := make([]string, len(teams))
	for i, t := range teams {
		buckets[i] = pfx + "bucket/" + proj.id + "-" + t
		e.node(graph.Node{ID: buckets[i], Kind: graph.KindResource, Subtype: "gcs_bucket", Name: proj.id + "-" + t, CreatedAt: created})
		datasets[i] = pfx + "bigquery/" + t + "_warehouse"
		e.node(graph.Node{ID: datasets[i], Kind: graph.KindResource, Subtype: "bigquery_dataset", Name: t + "_warehouse", CreatedAt: created})
	}
	binding := "projects/" + proj.id + " IAM policy"
	n := split(w.counts[famGCP], nProj, idx)
	e.reserve(n)
	for j := range n {
		name, a := appAt(j)
		t := indexOf(teams, a.team)
		p := e.draw(a.team, true)
		email := name + "@" + proj.id + ".iam.gserviceaccount.com"
		id := pfx + "serviceAccounts/" + email
		sa := graph.Node{ID: id, Kind: graph.KindServiceAccount, Name: email, CreatedAt: p.created, LastUsedAt: p.lastUse,
			Attrs: map[string]string{graph.AttrEmail: email, "display_name": name + " service account"}}
		e.own(&sa, p, "", "google.iam.admin.v1.CreateServiceAccount")
		e.node(sa)
		if p.admin {
			e.grant(id, projID, "roles/owner", "*", graph.PrivAdmin, binding)
		} else {
			switch e.rng.IntN(5) {
			case 0:
				e.grant(id, projID, "roles/viewer", "*", graph.PrivRead, binding)
			case 1:
				e.grant(id, buckets[t], "roles/storage.objectViewer", "gs://"+proj.id+"-"+a.team, graph.PrivRead, "bucket IAM policy")
			case 2:
				e.grant(id, buckets[t], "roles/storage.objectAdmin", "gs://"+proj.id+"-"+a.team, graph.PrivWrite, "bucket IAM policy")
			case 3:
				e.grant(id, datasets[t], "roles/bigquery.dataEditor", a.team+"_warehouse", graph.PrivWrite, "dataset IAM policy")
			default:
				e.grant(id, projID, "roles/editor", "*", graph.PrivWrite, binding)
			}
		}
		// User-managed keys; the rest authenticate with attached or
		// workload identity and have none.
		keys := 0
		switch u := e.rng.Float64(); {
		case u < 0.15:
			keys = 2
		case u < 0.65:
			keys = 1
		}
		for k := 1; k <= keys; k++ {
			kid := id + "/keys/" + itoa(k)
			c := graph.Node{ID: kid, Kind: graph.KindCredential, Subtype: "sa_key", Name: name + " key " + itoa(k)}
			c.CreatedAt, c.LastUsedAt = e.credTimes(p, k == 1)
			// An org policy limits key lifetime in some projects.
			if e.chance(0.3) {
				e.expiry(&c)
			}
			e.secretCred(&c, e.token("", 40, lowerHex), "gcp-service-account", false)
			e.node(c)
			e.edge(id, kid, graph.EdgeHasCredential)
		}
		e.used(id, p, gcpActions, buckets[t], datasets[t], projID)
	}
	return e.sg
}
