package planner

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

func filter(field, op string, v any) query.Filter {
	return query.Filter{Field: field, Op: op, Value: v}
}

var svc = []graph.Kind{graph.KindServiceAccount, graph.KindWorkload, graph.KindOAuthApp}

func mustPlan(t *testing.T, q string, prev *query.Plan) *query.Plan {
	t.Helper()
	p, err := Plan(q, prev)
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	return p
}

func findFilter(p *query.Plan, field string) (query.Filter, bool) {
	for _, f := range p.Filters {
		if f.Field == field {
			return f, true
		}
	}
	return query.Filter{}, false
}

func TestDurations(t *testing.T) {
	tests := []struct {
		q    string
		days float64
	}{
		{"idle identities for 30 days", 30},
		{"dormant bots for a month", 30},
		{"inactive for a month", 30},
		{"unused for two weeks", 14},
		{"stale for 90d", 90},
		{"idle 2 wks", 14},
		{"idle 30+ days", 30},
		{"idle for a quarter", 90},
		{"idle for a year", 365},
		{"idle for six months", 180},
		{"not used since last quarter", 90},
		{"no activity in the past week", 7},
		{"idle identities", 90}, // the default
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			f, ok := findFilter(mustPlan(t, tt.q, nil), "idle_days")
			if !ok || f.Op != "gte" || f.Value != tt.days {
				t.Fatalf("idle filter %+v, want gte %v", f, tt.days)
			}
		})
	}
}

func TestSynonyms(t *testing.T) {
	tests := []struct {
		q       string
		kinds   []graph.Kind
		sources []string
		filters []query.Filter
	}{
		{"admins", nil, nil, []query.Filter{filter("privilege", "eq", "admin")}},
		{"identities with full access", nil, nil, []query.Filter{filter("privilege", "eq", "admin")}},
		{"privileged NHIs", nil, nil, []query.Filter{filter("privilege", "eq", "admin")}},
		{"admins in okta", nil, []string{"okta"}, []query.Filter{filter("privilege", "eq", "admin")}},
		{"machine identities in okta", nil, []string{"okta"}, nil},
		{"service principals with no owner", svc, nil, []query.Filter{filter("owner_status", "eq", "absent")}},
		{"ownerless bots", []graph.Kind{graph.KindBot}, nil, []query.Filter{filter("owner_status", "eq", "absent")}},
		{"orphaned bots", []graph.Kind{graph.KindBot}, nil, []query.Filter{filter("owner_status", "eq", "departed")}},
		{"access keys older than 90 days", []graph.Kind{graph.KindCredential}, nil, []query.Filter{filter("subtype", "eq", "access_key"), filter("age_days", "gte", 90.0)}},
		{"postgres login roles", []graph.Kind{graph.KindServiceAccount}, []string{"postgres"}, nil},
		{"expired certificates", []graph.Kind{graph.KindCredential}, nil, []query.Filter{filter("subtype", "eq", "certificate"), filter("expires_in_days", "lt", 0.0)}},
		{"leaked keys still active", []graph.Kind{graph.KindCredential}, nil, []query.Filter{filter("leaked", "eq", true), filter("status", "eq", "active")}},
		{"idle identities excluding kubernetes", nil, nil, []query.Filter{{Field: "source_type", Op: "not_in", Values: []any{"k8s"}}, filter("idle_days", "gte", 90.0)}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			p := mustPlan(t, tt.q, nil)
			if !reflect.DeepEqual(p.Kinds, tt.kinds) || !reflect.DeepEqual(p.Sources, tt.sources) || !reflect.DeepEqual(p.Filters, tt.filters) {
				t.Fatalf("got kinds %v sources %v filters %+v\nwant kinds %v sources %v filters %+v", p.Kinds, p.Sources, p.Filters, tt.kinds, tt.sources, tt.filters)
			}
		})
	}
}

func TestAccessQuestions(t *testing.T) {
	tests := []struct {
		q    string
		want query.Plan
	}{
		{"what can ci-deployer access", query.Plan{Reach: &query.Reach{From: "ci-deployer", MaxDepth: query.DefaultMaxDepth}}},
		{"what can terraform touch in prod", query.Plan{Reach: &query.Reach{From: "terraform", MaxDepth: query.DefaultMaxDepth},
			Filters: []query.Filter{filter("environment", "eq", "prod")}}},
		{"blast radius of backup-agent", query.Plan{Reach: &query.Reach{From: "backup-agent", MaxDepth: query.DefaultMaxDepth}}},
		{"who has write access to the checkout repo", query.Plan{WhoCan: &query.WhoCan{Privilege: graph.PrivWrite, Resource: "checkout", MaxDepth: query.DefaultMaxDepth}}},
		// Actions match case-insensitively, so normalising case is harmless.
		{"who can s3:GetObject on acme-prod-ledger", query.Plan{WhoCan: &query.WhoCan{Action: "s3:getobject", Resource: "acme-prod-ledger", MaxDepth: query.DefaultMaxDepth}}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			p := mustPlan(t, tt.q, nil)
			tt.want.Version, tt.want.Limit = query.Version, query.DefaultLimit
			if !reflect.DeepEqual(*p, tt.want) {
				t.Fatalf("got %s\nwant %s", js(p), js(&tt.want))
			}
		})
	}
}

func TestFollowUps(t *testing.T) {
	admins30 := mustPlan(t, "admins idle 30 days", nil)
	tests := []struct {
		q     string
		check func(*query.Plan) bool
	}{
		{"only the AWS ones", func(p *query.Plan) bool {
			return reflect.DeepEqual(p.Sources, []string{"aws"}) && len(p.Filters) == 2
		}},
		{"and which of those are in prod?", func(p *query.Plan) bool {
			f, ok := findFilter(p, "environment")
			_, idle := findFilter(p, "idle_days")
			return ok && f.Value == "prod" && idle
		}},
		{"how many of them?", func(p *query.Plan) bool { return len(p.GroupBy) == 1 && len(p.Filters) == 2 }},
		{"break them down by source", func(p *query.Plan) bool { return reflect.DeepEqual(p.GroupBy, []string{"source_type"}) }},
		{"how many are there by team", func(p *query.Plan) bool {
			return reflect.DeepEqual(p.GroupBy, []string{"team"}) && len(p.Filters) == 2
		}},
		{"sort by last use", func(p *query.Plan) bool {
			return reflect.DeepEqual(p.Sort, []query.Sort{{Field: "last_used_at"}}) && len(p.Filters) == 2
		}},
		{"and idle 90 days", func(p *query.Plan) bool {
			f, _ := findFilter(p, "idle_days")
			return f.Value == 90.0 && len(p.Filters) == 2
		}},
		{"remove the gcp ones", func(p *query.Plan) bool {
			f, ok := findFilter(p, "source_type")
			return ok && f.Op == "not_in" && reflect.DeepEqual(f.Values, []any{"gcp"})
		}},
		{"exclude gcp", func(p *query.Plan) bool {
			f, ok := findFilter(p, "source_type")
			return ok && f.Op == "not_in" && reflect.DeepEqual(f.Values, []any{"gcp"})
		}},
		// A fresh subject starts a fresh question.
		{"count identities by source", func(p *query.Plan) bool { return len(p.Filters) == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			prev := *admins30
			prev.Filters = append([]query.Filter(nil), admins30.Filters...)
			p := mustPlan(t, tt.q, &prev)
			if !tt.check(p) {
				t.Fatalf("plan %s", js(p))
			}
			if !reflect.DeepEqual(prev.Filters, admins30.Filters) {
				t.Fatal("follow-up changed the previous plan")
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	for _, q := range []string{
		"", "what is the capital of France", "tell me a joke",
		"delete all idle service accounts", "rotate all leaked keys now", "disable the terraform user", "please revoke the old keys",
	} {
		t.Run(q, func(t *testing.T) {
			p, err := Plan(q, nil)
			var um *UnmappedError
			if !errors.As(err, &um) || !errors.Is(err, ErrUnmapped) || p != nil {
				t.Fatalf("got plan %v, err %v; want a refusal", p, err)
			}
		})
	}
}

// TestActionsInConversation: a follow-up that asks to act is still refused.
func TestActionsInConversation(t *testing.T) {
	prev := mustPlan(t, "leaked keys still active", nil)
	for _, q := range []string{"rotate those", "disable them", "delete the aws ones", "remove them"} {
		t.Run(q, func(t *testing.T) {
			if p, err := Plan(q, prev); !errors.Is(err, ErrUnmapped) {
				t.Fatalf("got plan %s, err %v; want a refusal", js(p), err)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	for _, q := range []string{"admins idle for last month", "credentials expiring next week", "count identities by source", "who can read secrets"} {
		t.Run(q, func(t *testing.T) {
			first := js(mustPlan(t, q, nil))
			for range 50 {
				if got := js(mustPlan(t, q, nil)); got != first {
					t.Fatalf("plan changed between runs:\n%s\n%s", first, got)
				}
			}
		})
	}
}

func TestExamplesPlan(t *testing.T) {
	for _, q := range Examples {
		t.Run(q, func(t *testing.T) {
			p := mustPlan(t, q, nil)
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func js(p *query.Plan) string {
	b, _ := json.Marshal(p)
	return string(b)
}

// TestParaphrases pins whole plans for paraphrases the planner learned
// beyond its first phrasing of each intent.
func TestParaphrases(t *testing.T) {
	tests := []struct{ q, want string }{
		{"NHIs that haven't authenticated in 60 days", `{"version":1,"filters":[{"field":"idle_days","op":"gte","value":60}],"sort":[{"field":"last_used_at"}]}`},
		{"service accounts with no login for 3 months", `{"version":1,"kinds":["service_account","workload","oauth_app"],"filters":[{"field":"idle_days","op":"gte","value":90}],"sort":[{"field":"last_used_at"}]}`},
		{"admins with no recent activity", `{"version":1,"filters":[{"field":"idle_days","op":"gte","value":90},{"field":"privilege","op":"eq","value":"admin"}],"sort":[{"field":"last_used_at"}]}`},
		{"which tokens are past their expiration date", `{"version":1,"kinds":["credential"],"filters":[{"field":"expires_in_days","op":"lt","value":0}],"sort":[{"field":"expires_at"}]}`},
		{"identities with admin-level access", `{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}]}`},
		{"apps with elevated privileges", `{"version":1,"kinds":["oauth_app"],"filters":[{"field":"privilege","op":"eq","value":"admin"}]}`},
		{"bots without an accountable owner", `{"version":1,"kinds":["bot"],"filters":[{"field":"owner_status","op":"eq","value":"absent"}]}`},
		{"how many identities does each team own", `{"version":1,"group_by":["team"]}`},
		{"what permissions does ci-deployer have", `{"version":1,"reach":{"from":"ci-deployer","max_depth":6}}`},
		{"what is ci-deployer allowed to do", `{"version":1,"reach":{"from":"ci-deployer","max_depth":6}}`},
		{"which service accounts can write to orders-db", `{"version":1,"kinds":["service_account","workload","oauth_app"],"who_can":{"privilege":"write","resource":"orders-db","max_depth":6}}`},
		{"which bots have write access to the checkout repo", `{"version":1,"kinds":["bot"],"who_can":{"privilege":"write","resource":"checkout","max_depth":6}}`},
		{"identities that can assume legacy-ec2-admin", `{"version":1,"kinds":["user","service_account","oauth_app","bot","ai_agent","workload","role","account"],"who_can":{"action":"assume","resource":"legacy-ec2-admin","max_depth":6}}`},
		{"github deploy keys older than a year", `{"version":1,"kinds":["credential"],"sources":["github"],"filters":[{"field":"subtype","op":"eq","value":"deploy_key"},{"field":"age_days","op":"gte","value":365}]}`},
		{"list k8s SAs in prod", `{"version":1,"kinds":["workload"],"sources":["k8s"],"filters":[{"field":"environment","op":"eq","value":"prod"}]}`},
		{"azure app registrations", `{"version":1,"kinds":["oauth_app"],"sources":["entra"]}`},
		{"count of NHIs per cloud provider", `{"version":1,"group_by":["source_type"]}`},
		{"service accounts owned by dana.kim@example.com", `{"version":1,"kinds":["service_account","workload","oauth_app"],"filters":[{"field":"owner","op":"eq","value":"dana.kim@example.com"}]}`},
		{"identities of the payments team", `{"version":1,"filters":[{"field":"team","op":"eq","value":"payments"}]}`},
		{"credentials expiring next week for the sre team", `{"version":1,"kinds":["credential"],"filters":[{"field":"expires_in_days","op":"gte","value":0},{"field":"expires_in_days","op":"lte","value":7},{"field":"team","op":"eq","value":"sre"}],"sort":[{"field":"expires_at"}]}`},
		{"read-only service accounts", `{"version":1,"kinds":["service_account","workload","oauth_app"],"filters":[{"field":"privilege","op":"eq","value":"read"}]}`},
		{"admins in account 222222222222", `{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"},{"field":"account","op":"eq","value":"aws:222222222222"}]}`},
		// "per team" groups; it names no team.
		{"admins by team", `{"version":1,"filters":[{"field":"privilege","op":"eq","value":"admin"}],"group_by":["team"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			p := mustPlan(t, tt.q, nil)
			p.Limit = 0
			if got := js(p); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLimitsAndOrder(t *testing.T) {
	tests := []struct {
		q     string
		prev  string
		limit int
		sort  []query.Sort
	}{
		{"top 5 oldest access keys", "", 5, []query.Sort{{Field: "created_at"}}},
		{"first 20 newest credentials", "", 20, []query.Sort{{Field: "created_at", Desc: true}}},
		{"top 10", "admins idle 30 days", 10, []query.Sort{{Field: "last_used_at"}}},
		{"order by idle time", "admins idle 30 days", query.DefaultLimit, []query.Sort{{Field: "idle_days", Desc: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			var prev *query.Plan
			if tt.prev != "" {
				prev = mustPlan(t, tt.prev, nil)
			}
			p := mustPlan(t, tt.q, prev)
			if p.Limit != tt.limit || !reflect.DeepEqual(p.Sort, tt.sort) {
				t.Fatalf("limit %d sort %v, want %d %v", p.Limit, p.Sort, tt.limit, tt.sort)
			}
		})
	}
}

func TestMoreFollowUps(t *testing.T) {
	tests := []struct{ prev, q, want string }{
		{"admins idle 30 days", "same but 90 days", `{"version":1,"filters":[{"field":"idle_days","op":"gte","value":90},{"field":"privilege","op":"eq","value":"admin"}],"sort":[{"field":"last_used_at"}],"limit":200}`},
		{"keys older than 90 days", "which were never used", `{"version":1,"kinds":["credential"],"filters":[{"field":"age_days","op":"gte","value":90},{"field":"never_used","op":"eq","value":true}],"limit":200}`},
		{"what can ci-deployer access", "and terraform?", `{"version":1,"reach":{"from":"terraform","max_depth":6},"limit":200}`},
		{"what can ci-deployer access", "what about in staging", `{"version":1,"filters":[{"field":"environment","op":"eq","value":"staging"}],"reach":{"from":"ci-deployer","max_depth":6},"limit":200}`},
		// "group" is the verb here, not the kind.
		{"credentials expiring in 30 days", "group them by source", `{"version":1,"kinds":["credential"],"filters":[{"field":"expires_in_days","op":"gte","value":0},{"field":"expires_in_days","op":"lte","value":30}],"group_by":["source_type"],"sort":[{"field":"expires_at"}],"limit":200}`},
		{"who can read secrets", "only the bots", `{"version":1,"kinds":["bot"],"who_can":{"privilege":"read","resource":"secrets","max_depth":6},"limit":200}`},
		{"service accounts with no owner", "excluding ldap", `{"version":1,"kinds":["service_account","workload","oauth_app"],"filters":[{"field":"owner_status","op":"eq","value":"absent"},{"field":"source_type","op":"not_in","values":["ldap"]}],"limit":200}`},
	}
	for _, tt := range tests {
		t.Run(tt.prev+" → "+tt.q, func(t *testing.T) {
			if got := js(mustPlan(t, tt.q, mustPlan(t, tt.prev, nil))); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
