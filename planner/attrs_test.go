package planner

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// TestAttributeQuestions covers questions whose meaning lives in a source
// attribute or a qualifier (the acceptance questions of the connector
// issues) and paraphrases of each: the whole plan is compared, so a stray
// kind or filter fails.
func TestAttributeQuestions(t *testing.T) {
	cred := []graph.Kind{graph.KindCredential}
	pgRoles := []graph.Kind{graph.KindServiceAccount, graph.KindUser, graph.KindRole}
	k8sSA := filter("subtype", "eq", "k8s_service_account")
	secretReaders := &query.WhoCan{Privilege: graph.PrivRead, Resource: "secrets", Scope: "account"}
	userManaged := []query.Filter{filter("subtype", "eq", "sa_key"), filter("attr:key_type", "eq", "USER_MANAGED")}
	neverExpires := filter("attr:password_never_expires", "eq", "true")
	canLogin := filter("attr:can_login", "eq", "true")
	tests := []struct {
		name string
		q    string
		want query.Plan
	}{
		{"access keys not rotated", "access keys not rotated in 90 days", query.Plan{Kinds: cred,
			Filters: []query.Filter{filter("subtype", "eq", "access_key"), filter("rotated_days", "gte", 90.0), filter("status", "eq", "active")}}},
		{"aws access keys not rotated in a year", "AWS access keys that haven't been rotated in a year", query.Plan{Kinds: cred, Sources: []string{"aws"},
			Filters: []query.Filter{filter("subtype", "eq", "access_key"), filter("rotated_days", "gte", 365.0), filter("status", "eq", "active")}}},
		{"unrotated access keys default 90 days", "unrotated access keys", query.Plan{Kinds: cred,
			Filters: []query.Filter{filter("subtype", "eq", "access_key"), filter("rotated_days", "gte", 90.0), filter("status", "eq", "active")}}},
		{"disabled access keys keep their status", "disabled access keys not rotated", query.Plan{Kinds: cred,
			Filters: []query.Filter{filter("subtype", "eq", "access_key"), filter("rotated_days", "gte", 90.0), filter("status", "eq", "disabled")}}},
		// The eval set's convention: credentials in general carry no
		// status filter.
		{"credentials not rotated", "credentials not rotated in 90 days", query.Plan{Kinds: cred,
			Filters: []query.Filter{filter("rotated_days", "gte", 90.0)}}},

		{"k8s service accounts cluster-wide", "which Kubernetes service accounts can read secrets cluster-wide", query.Plan{
			Kinds: []graph.Kind{graph.KindWorkload}, Sources: []string{"k8s"}, Filters: []query.Filter{k8sSA}, WhoCan: secretReaders}},
		{"k8s service accounts in all namespaces", "k8s service accounts that can read secrets in all namespaces", query.Plan{
			Kinds: []graph.Kind{graph.KindWorkload}, Sources: []string{"k8s"}, Filters: []query.Filter{k8sSA}, WhoCan: secretReaders}},
		{"service accounts across the cluster", "which service accounts can list secrets across the cluster", query.Plan{
			Kinds: []graph.Kind{graph.KindWorkload}, Sources: []string{"k8s"}, Filters: []query.Filter{k8sSA}, WhoCan: secretReaders}},
		// "who" includes the control-plane users.
		{"who cluster-wide", "who can read secrets cluster-wide", query.Plan{
			Kinds: []graph.Kind{graph.KindWorkload, graph.KindServiceAccount}, Sources: []string{"k8s"}, WhoCan: secretReaders}},

		{"gcp user-managed keys", "GCP service accounts with user-managed keys older than 90 days", query.Plan{Kinds: cred, Sources: []string{"gcp"},
			Filters: append(userManaged, filter("age_days", "gte", 90.0))}},
		{"user managed keys created", "user managed service account keys created more than 3 months ago", query.Plan{Kinds: cred,
			Filters: append(userManaged, filter("age_days", "gte", 90.0))}},
		{"system-managed keys", "GCP system-managed keys", query.Plan{Kinds: cred, Sources: []string{"gcp"},
			Filters: []query.Filter{filter("subtype", "eq", "sa_key"), filter("attr:key_type", "eq", "SYSTEM_MANAGED")}}},
		{"holders with keys older", "service accounts having keys older than a year", query.Plan{Kinds: cred,
			Filters: []query.Filter{filter("age_days", "gte", 365.0)}}},

		{"ad password never expires admins", "AD service accounts with password never expires in Domain Admins", query.Plan{Kinds: svc, Sources: []string{"ldap"},
			Filters: []query.Filter{neverExpires, filter("privilege", "eq", "admin")}}},
		{"ad password does not expire", "Active Directory service accounts whose password does not expire", query.Plan{Kinds: svc, Sources: []string{"ldap"},
			Filters: []query.Filter{neverExpires}}},
		{"non-expiring passwords admins", "domain admin service accounts with non-expiring passwords in AD", query.Plan{Kinds: svc, Sources: []string{"ldap"},
			Filters: []query.Filter{neverExpires, filter("privilege", "eq", "admin")}}},
		{"tokens that never expire", "tokens that never expire", query.Plan{Kinds: cred,
			Filters: []query.Filter{filter("expires_in_days", "not_exists", nil)}, Sort: []query.Sort{{Field: "expires_at"}}}},

		{"pg superuser login", "database roles that are superuser and can log in", query.Plan{Kinds: pgRoles, Sources: []string{"postgres"},
			Filters: []query.Filter{canLogin, filter("privilege", "eq", "admin")}}},
		{"pg superusers with login", "postgres roles with login that are superusers", query.Plan{Kinds: pgRoles, Sources: []string{"postgres"},
			Filters: []query.Filter{canLogin, filter("privilege", "eq", "admin")}}},
		{"pg cannot log in", "db roles that cannot log in", query.Plan{Kinds: pgRoles, Sources: []string{"postgres"},
			Filters: []query.Filter{filter("attr:can_login", "eq", "false")}}},
		// "login roles" is a kind, not the flag.
		{"pg login roles", "postgres login roles", query.Plan{Kinds: []graph.Kind{graph.KindServiceAccount}, Sources: []string{"postgres"}}},
		// Outside PostgreSQL "superuser" is admin privilege and "log in"
		// no attribute.
		{"superusers", "superusers", query.Plan{Filters: []query.Filter{filter("privilege", "eq", "admin")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			want.Version = query.Version
			if err := want.Validate(); err != nil {
				t.Fatalf("want: %v", err)
			}
			got := mustPlan(t, tt.q, nil)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(&want)
			if string(gb) != string(wb) {
				t.Errorf("%q:\n got  %s\n want %s", tt.q, gb, wb)
			}
		})
	}
}

// TestAttributePhrasesNeedTheirSource checks a source-specific phrase
// does not leak into questions about other sources.
func TestAttributePhrasesNeedTheirSource(t *testing.T) {
	tests := []struct{ name, q string }{
		{"login outside postgres", "okta users that can log in"},
		{"login without a source", "identities that can log in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Plan(tt.q, nil)
			if err != nil {
				return // refusing is fine; inventing a filter is not
			}
			if f, ok := findFilter(p, "attr:can_login"); ok {
				t.Errorf("%q: filter %+v outside PostgreSQL", tt.q, f)
			}
		})
	}
}

// TestAttributeFollowUps narrows a listing by an attribute phrase.
func TestAttributeFollowUps(t *testing.T) {
	tests := []struct {
		name, first, then string
		want              []query.Filter
	}{
		{"pg which can log in", "postgres roles", "which of those can log in",
			[]query.Filter{filter("attr:can_login", "eq", "true")}},
		{"gcp only user-managed", "gcp keys older than 90 days", "only the user-managed ones",
			[]query.Filter{filter("age_days", "gte", 90.0), filter("attr:key_type", "eq", "USER_MANAGED"), filter("subtype", "eq", "sa_key")}},
		{"ad password never expires", "AD service accounts", "and which of them have passwords that never expire",
			[]query.Filter{filter("attr:password_never_expires", "eq", "true")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := mustPlan(t, tt.first, nil)
			got := mustPlan(t, tt.then, prev)
			gb, _ := json.Marshal(got.Filters)
			wb, _ := json.Marshal(tt.want)
			if string(gb) != string(wb) {
				t.Errorf("%q after %q: filters\n got  %s\n want %s", tt.then, tt.first, gb, wb)
			}
			if !reflect.DeepEqual(got.Kinds, prev.Kinds) || !reflect.DeepEqual(got.Sources, prev.Sources) {
				t.Errorf("follow-up changed kinds/sources: %v %v -> %v %v", prev.Kinds, prev.Sources, got.Kinds, got.Sources)
			}
		})
	}
}
