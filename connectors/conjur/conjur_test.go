package conjur

import (
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

const src = "conjur:acme"

func reader(t *testing.T, path string, extra connectors.Options) connectors.Reader {
	t.Helper()
	opts := connectors.Options{"from": path, "account": "acme"}
	for k, v := range extra {
		opts[k] = v
	}
	return connectortest.New(t, "conjur", opts, connectors.Env{})
}

func TestRootPolicy(t *testing.T) {
	sgs := connectortest.Suite(t, func() connectors.Reader { return reader(t, "testdata/root.yml", nil) }, nil)
	nodes := []struct {
		id      string
		kind    graph.Kind
		subtype string
	}{
		{src + ":host/payments/api", graph.KindServiceAccount, "conjur_host"},
		{src + ":host/payments/batch/nightly", graph.KindServiceAccount, "conjur_host"},
		{src + ":layer/payments/app", graph.KindGroup, "layer"},
		{src + ":layer/database", graph.KindGroup, "layer"},
		{src + ":group/operations", graph.KindGroup, "conjur_group"},
		{src + ":user/kevin", graph.KindUser, "conjur_user"},
		{src + ":user/ops-bot@payments", graph.KindUser, "conjur_user"},
		{src + ":variable/database/password", graph.KindResource, "secret"},
		{src + ":variable/payments/stripe/api-key", graph.KindResource, "secret"},
		{src + ":webservice/payments/billing", graph.KindResource, "webservice"},
		{src + ":policy/payments/batch", graph.KindPolicy, "conjur_policy"},
		{src + ":host/retired", graph.KindServiceAccount, "conjur_host"},
		{src + ":host-factory/payments/app-factory", graph.KindResource, "host_factory"},
	}
	for _, tt := range nodes {
		t.Run("node "+tt.id, func(t *testing.T) {
			n := connectortest.Find(t, sgs, tt.id)
			if n.Kind != tt.kind || n.Subtype != tt.subtype {
				t.Errorf("kind/subtype %s/%s", n.Kind, n.Subtype)
			}
		})
	}
	t.Run("annotations are tags", func(t *testing.T) {
		n := connectortest.Find(t, sgs, src+":host/payments/api")
		if n.Tags["owner"] != "alice@example.com" || n.Attrs["restricted_to"] != "10.20.0.0/16" || n.Attrs["conjur_id"] != "acme:host:payments/api" {
			t.Errorf("%+v", n)
		}
	})
	grants := []struct {
		name     string
		from, to string
		action   string
		effect   string
		priv     graph.Privilege
	}{
		{"execute on a variable fetches it", src + ":layer/payments/app", src + ":variable/payments/stripe/api-key", "execute", graph.EffectAllow, graph.PrivRead},
		{"update on a variable is write", src + ":host/payments/worker", src + ":variable/payments/stripe/api-key", "read,update", graph.EffectAllow, graph.PrivWrite},
		{"anchored variables via alias", src + ":layer/database", src + ":variable/database/username", "execute,read", graph.EffectAllow, graph.PrivRead},
		{"execute on a webservice", src + ":user/ops-bot@payments", src + ":webservice/payments/billing", "execute", graph.EffectAllow, graph.PrivWrite},
		{"deny", src + ":host/payments/worker", src + ":webservice/payments/billing", "execute", graph.EffectDeny, graph.PrivNone},
		{"policy owner", src + ":group/operations", src + ":policy/payments", "owner", graph.EffectAllow, graph.PrivWrite},
		{"record owner", src + ":group/security_admin", src + ":group/operations", "owner", graph.EffectAllow, graph.PrivWrite},
	}
	for _, tt := range grants {
		t.Run(tt.name, func(t *testing.T) {
			es := connectortest.Edges(sgs, graph.EdgeGrants, tt.from, tt.to)
			if len(es) != 1 || es[0].Action != tt.action || es[0].Effect != tt.effect || es[0].Privilege != tt.priv {
				t.Fatalf("got %+v", es)
			}
		})
	}
	members := []struct{ name, from, to string }{
		{"members list", src + ":host/payments/worker", src + ":layer/payments/app"},
		{"absolute role", src + ":layer/payments/app", src + ":layer/database"},
		{"!member form", src + ":user/kevin", src + ":group/security_admin"},
		{"nested policy absolute ref", src + ":host/payments/batch/nightly", src + ":layer/payments/app"},
	}
	for _, tt := range members {
		t.Run(tt.name, func(t *testing.T) {
			if len(connectortest.Edges(sgs, graph.EdgeMemberOf, tt.from, tt.to)) != 1 {
				t.Errorf("no member_of %s -> %s", tt.from, tt.to)
			}
		})
	}
}

func TestAmendments(t *testing.T) {
	sgs := connectortest.Read(t, reader(t, "testdata/root.yml", nil))
	t.Run("revoke undoes the grant", func(t *testing.T) {
		if n := len(connectortest.Edges(sgs, graph.EdgeMemberOf, src+":host/retired", "")); n != 0 {
			t.Errorf("%d member_of edges left", n)
		}
	})
	t.Run("delete removes the record", func(t *testing.T) {
		for _, n := range sgs[0].Nodes {
			if n.ID == src+":host/temp" {
				t.Error("deleted host still present")
			}
		}
		if n := len(connectortest.Edges(sgs, graph.EdgeInAccount, src+":host/temp", "")); n != 0 {
			t.Error("edges of the deleted host left")
		}
	})
	t.Run("host factory layers", func(t *testing.T) {
		if n := connectortest.Find(t, sgs, src+":host-factory/payments/app-factory"); n.Attrs["layers"] != "/payments/app" {
			t.Errorf("layers %q", n.Attrs["layers"])
		}
	})
}

func TestBranch(t *testing.T) {
	sgs := connectortest.Suite(t, func() connectors.Reader {
		return reader(t, "testdata/branch.yml", connectors.Options{"branch": "apps/ci"})
	}, nil)
	connectortest.Find(t, sgs, src+":host/apps/ci/jenkins")
	if len(connectortest.Edges(sgs, graph.EdgeMemberOf, src+":host/apps/ci/jenkins", src+":layer/apps/ci")) != 1 {
		t.Error("id-less layer in a branch is the branch's layer")
	}
	es := connectortest.Edges(sgs, graph.EdgeGrants, src+":layer/apps/ci", src+":variable/apps/ci/deploy-key")
	if len(es) != 1 || es[0].Privilege != graph.PrivRead {
		t.Errorf("got %+v", es)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"not a list", "host: x\n", []string{"bad.yml:1:1", "list of records"}},
		{"untagged record", "- !host a\n- id: b\n", []string{"bad.yml:2:3", "without a tag"}},
		{"unknown record", "- !hots a\n", []string{"bad.yml:1:3", "unknown record !hots"}},
		{"duplicate", "- !host a\n- !host a\n", []string{"bad.yml:2:3", "already defined on line 1"}},
		{"permit without resource", "- !permit\n  role: !host a\n  privileges: [read]\n", []string{"bad.yml:1:3", "without resources"}},
		{"untagged role", "- !permit\n  role: a\n  privileges: [read]\n  resource: !variable x\n", []string{"bad.yml:2:9", "without a kind tag"}},
		{"grant without member", "- !grant\n  role: !layer a\n", []string{"bad.yml:1:3", "member"}},
		{"root host without id", "- !host\n", []string{"bad.yml:1:3", "without an id"}},
		{"bad yaml", "- !host a\n  - b: [\n", []string{"bad.yml", "yaml"}},
		{"policy body not a list", "- !policy\n  id: p\n  body: !host x\n", []string{"bad.yml:3:9", "body"}},
		{"empty", "", []string{"bad.yml:1:1", "empty policy"}},
		{"revoke without member", "- !revoke\n  role: !layer a\n", []string{"bad.yml:1:3", "!revoke without member"}},
		{"delete without record", "- !delete\n  id: x\n", []string{"bad.yml:1:3", "!delete without record"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := connectortest.WriteTemp(t, "bad.yml", tt.body)
			connectortest.Bad(t, reader(t, path, nil), tt.want...)
		})
	}
}
