package cli

import (
	"bufio"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
	nhiusage "github.com/steward-oss/steward/graph/derive/usage"
	"github.com/steward-oss/steward/internal/demo"
)

// exportLine is one line of `steward export` (JSON lines).
type exportLine struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	From  string `json:"from"`
	To    string `json:"to"`
	Props struct {
		Action    string            `json:"action"`
		Resource  string            `json:"resource"`
		Effect    string            `json:"effect"`
		Privilege string            `json:"privilege"`
		LastSeen  time.Time         `json:"last_seen"`
		Attrs     map[string]string `json:"attrs"`
	} `json:"props"`
	Source string `json:"source"`
}

// TestUnusedAgainstExport checks `unused` against an independent
// computation over `steward export --demo`: an identity's grants are the
// allow grants of every node reachable over member_of and can_assume and
// of the policies attached to them; its use is what it and its
// credentials were recorded doing in the 90 days before the demo's
// reference time.
func TestUnusedAgainstExport(t *testing.T) {
	code, out, errs := run(t, "export", "--demo", "--owners", "")
	if code != 0 {
		t.Fatalf("export: %d %s", code, errs)
	}
	out2 := map[string][]exportLine{}
	in := map[string][]exportLine{}
	kind := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l exportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		switch l.Type {
		case "node":
			kind[l.ID] = l.Kind
		case "edge":
			out2[l.From] = append(out2[l.From], l)
			in[l.To] = append(in[l.To], l)
		}
	}
	now := demo.Reference
	from := now.Add(-90 * 24 * time.Hour)
	type want struct {
		grants int
		used   []string
	}
	independent := func(id string) want {
		holders := map[string]bool{id: true}
		queue := []string{id}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, e := range out2[cur] {
				if (e.Kind == "member_of" || e.Kind == "can_assume") && !holders[e.To] {
					holders[e.To] = true
					queue = append(queue, e.To)
				}
			}
		}
		for h := range holders {
			for _, e := range in[h] {
				if e.Kind == "attached_to" {
					holders[e.From] = true
				}
			}
		}
		grants := map[string]bool{}
		for h := range holders {
			for _, e := range out2[h] {
				if e.Kind == "grants" && e.Props.Effect == "allow" && e.Props.Privilege != "none" {
					grants[e.From+"|"+e.To+"|"+e.Props.Action+"|"+e.Props.Resource] = true
				}
			}
		}
		actors := []string{id}
		for _, e := range out2[id] {
			if e.Kind == "has_credential" {
				actors = append(actors, e.To)
			}
		}
		used := map[string]bool{}
		for _, a := range actors {
			for _, e := range out2[a] {
				if e.Kind == "used" && !e.Props.LastSeen.Before(from) && !e.Props.LastSeen.After(now) {
					used[e.Props.Attrs[graph.AttrUsedAction]] = true
				}
			}
		}
		w := want{grants: len(grants)}
		for a := range used {
			w.used = append(w.used, a)
		}
		sort.Strings(w.used)
		return w
	}

	inv := openGraph(t, graphFlags{demo: true, seed: defaultDemoSeed, size: defaultDemoSize})

	// A spread of the identities with recorded use (every 25th by id:
	// each report re-indexes the whole demo), across sources.
	var ids []string
	for id, k := range kind {
		if graph.Kind(k).IsIdentity() {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	withUse := map[string]want{}
	var sample []string
	for _, id := range ids {
		if w := independent(id); len(w.used) > 0 {
			withUse[id] = w
			if len(withUse)%25 == 1 {
				sample = append(sample, id)
			}
		}
	}
	if len(sample) < 20 {
		t.Fatalf("only %d identities sampled from the demo", len(sample))
	}
	checked := 0
	for _, id := range sample {
		w := withUse[id]
		rep, err := nhiusage.UnusedPermissions(inv.All(), id, 90*24*time.Hour, now)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if len(rep.Granted) != w.grants {
			t.Errorf("%s: %d granted, independent count %d", id, len(rep.Granted), w.grants)
		}
		var got []string
		for _, a := range append(append([]string(nil), rep.Used...), rep.UsedNotGranted...) {
			// The report names Kubernetes use "verb resource"; the demo
			// records it "resource:verb".
			if v, r, ok := strings.Cut(a, " "); ok && strings.HasPrefix(id, "k8s:") {
				a = r + ":" + v
			}
			got = append(got, a)
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, w.used) {
			t.Errorf("%s: used %v, independent %v", id, got, w.used)
		}
		checked++
	}
	t.Logf("%d identities checked", checked)

	// The case, by hand from the demo generator: ci-deployer's key
	// put an object into acme-prod-artifacts and updated the prod
	// payments-api service; it holds 8 grants through group ci and its two
	// assumable deploy roles.
	code, out, errs = run(t, "unused", "--demo", "--owners", "", "--format", "json", "ci-deployer")
	if code != 0 {
		t.Fatalf("unused: %d %s", code, errs)
	}
	var rep nhiusage.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if want := []string{"ecs:UpdateService", "s3:PutObject"}; !reflect.DeepEqual(rep.Used, want) || len(rep.Granted) != 8 {
		t.Errorf("ci-deployer: used %v of %d grants, want %v of 8", rep.Used, len(rep.Granted), want)
	}
	var doc struct {
		Statement []struct {
			Action   []string
			Resource []string
		}
	}
	if err := json.Unmarshal([]byte(rep.Policy), &doc); err != nil {
		t.Fatalf("policy %q: %v", rep.Policy, err)
	}
	var kept []string
	for _, s := range doc.Statement {
		for _, a := range s.Action {
			kept = append(kept, a+" "+strings.Join(s.Resource, ","))
		}
	}
	sort.Strings(kept)
	if want := []string{"ecs:UpdateService arn:aws:ecs:us-east-1:111111111111:service/acme-prod/payments-api",
		"s3:PutObject arn:aws:s3:::acme-prod-artifacts/*"}; !reflect.DeepEqual(kept, want) {
		t.Errorf("ci-deployer policy keeps %v, want %v", kept, want)
	}
}
