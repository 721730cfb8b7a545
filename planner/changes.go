package planner

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/query"
)

// Change questions ("what changed since yesterday", "new admins this
// week", "what changed in aws since Monday") ask the change history
// findings/changes records at each sync, not the graph: they plan to a
// query.Changes, whose window the planner resolves against its clock
// (Options.Now, UTC) so the plan states the exact time it means.

// Change type names (query.ChangeTypes).
const (
	chIdentityAdded   = "identity_added"
	chIdentityRemoved = "identity_removed"
	chNewAdmin        = "new_admin"
	chNewEscalation   = "new_escalation_path"
	chNewCredential   = "new_credential"
	chNewLongLivedKey = "new_long_lived_admin_key"
	chOwnerLost       = "owner_lost"
	chOwnerDeparted   = "owner_departed"
	chGrantAdded      = "grant_added"
)

var (
	// changeWords make a question a change question by themselves.
	changeWords = []string{"changed", "change", "changes", "what's new", "what is new", "anything new", "whats new", "diff", "difference", "differences"}
	// changeVerbs make it one together with a change type.
	// generalNew are the change words built on "new".
	generalNew  = []string{"what's new", "what is new", "anything new", "whats new"}
	changeVerbs = []string{"new", "newly", "added", "appeared", "removed", "deleted", "disappeared", "gained", "lost", "became"}
	// lastSyncWords ask for what the latest sync found.
	lastSyncWords = []string{"since the last sync", "since last sync", "in the last sync", "at the last sync", "since the previous sync",
		"since the latest sync", "in the latest sync", "since the last run", "last sync", "latest sync", "previous sync"}
	adminish      = []string{"admin", "admins", "administrator", "administrators", "admin rights", "admin access", "full access", "privileged"}
	credentialish = []string{"credential", "key", "secret", "token", "access key", "api key", "password"}
	identityish   = []string{"identit", "nhi", "account", "principal", "machine identit", "non-human identit"}
	grantish      = []string{"grant", "permission", "access", "right", "privilege", "entitlement"}
	weekdays      = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
)

// changeTermWords are the words a change plan accounts for (coverage.go).
var changeTermWords = slices.Concat(changeWords, changeVerbs, lastSyncWords, adminish, credentialish, identityish, grantish, weekdays, []string{
	"sync", "syncs", "run", "yesterday", "today", "this morning", "morning", "week", "this week", "last week", "past week", "last month", "past month",
	"day", "hour", "hours", "24 hours", "within", "previous", "latest",
	"escalation", "escalation path", "privilege escalation", "path", "paths", "path to admin", "paths to admin", "long-lived", "long lived", "non-expiring",
	"owner", "owners", "their owner", "its owner", "left", "departed", "orphaned", "unowned",
	"on", "were", "was", "been", "happened", "occurred", "since", "there",
})

// changeType is a change type and the words that ask for it, checked in
// order: the first match wins for the words it needs.
var changeTypeRules = []struct {
	typ  string
	need func(q string) bool
}{
	{chNewLongLivedKey, func(q string) bool { return has(q, "long-lived", "long lived", "non-expiring") }},
	{chNewEscalation, func(q string) bool { return has(q, "escalation", "path to admin", "paths to admin") }},
	{chOwnerLost, func(q string) bool {
		return has(q, "lost their owner", "lost its owner", "lost an owner", "lost owner", "owner lost", "lost owners", "became unowned", "unowned")
	}},
	{chOwnerDeparted, func(q string) bool {
		return has(q, "orphaned") || (has(q, "owner", "owners") && has(q, "departed", "left"))
	}},
	{chNewAdmin, func(q string) bool { return has(q, adminish...) }},
	{chNewCredential, func(q string) bool { return has(q, credentialish...) }},
	// "privilege escalation" names the escalation type, not grants.
	{chGrantAdded, func(q string) bool {
		return has(strings.ReplaceAll(q, "privilege escalation", "escalation"), grantish...)
	}},
	{chIdentityRemoved, func(q string) bool { return has(q, "removed", "deleted", "disappeared") }},
	// "anything new" and "what's new" ask for every change, not only
	// new identities: their "new" does not name a type.
	{chIdentityAdded, func(q string) bool {
		for _, w := range generalNew {
			q = strings.ReplaceAll(q, w, " ")
		}
		return has(q, "added", "appeared", "new", "newly")
	}},
}

// hoursRE is "N hours" (durationRE counts in days).
var hoursRE = regexp.MustCompile(`\b(\d+)\s*(?:hours?|hrs?|h)\b`)

// sinceDateRE is "since 2026-10-28".
var sinceDateRE = regexp.MustCompile(`\b(?:since|after|from)\s+(\d{4}-\d{2}-\d{2})\b`)

// parseChanges plans a change question, resolving its window against now.
func parseChanges(q string, now time.Time) (*query.Plan, bool) {
	general := has(q, changeWords...)
	types := changeTypesIn(q)
	ownerOnly := len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return t != chOwnerDeparted && t != chOwnerLost })
	switch {
	case general:
	case len(types) > 0 && (has(q, changeVerbs...) || has(q, lastSyncWords...)):
	// "identities whose owner left since Monday": the verb is "left".
	case ownerOnly && hasWindow(q):
	default:
		return nil, false
	}
	c := &query.Changes{Types: types}
	resolveWindow(q, now, c)
	p := &query.Plan{Version: query.Version, Changes: c, Sources: matchSources(q)}
	return p, true
}

// changeTypesIn lists the change types a question names.
func changeTypesIn(q string) []string {
	// "what changed for new admins" is a change question about admins;
	// "identities added or removed" asks for both.
	var out []string
	for _, r := range changeTypeRules {
		if r.need(q) {
			out = append(out, r.typ)
		}
	}
	// A more specific type uses the words of a general one: "new
	// long-lived admin keys" is not also every new admin and key,
	// "owner left" not every removal.
	drop := func(t string, because ...string) {
		if slices.ContainsFunc(because, func(b string) bool { return slices.Contains(out, b) }) {
			out = slices.DeleteFunc(out, func(x string) bool { return x == t })
		}
	}
	drop(chNewAdmin, chNewLongLivedKey, chNewEscalation)
	drop(chNewCredential, chNewLongLivedKey)
	drop(chGrantAdded, chNewCredential, chNewLongLivedKey, chNewAdmin)
	drop(chIdentityAdded, chNewAdmin, chNewEscalation, chNewCredential, chNewLongLivedKey, chGrantAdded, chOwnerLost, chOwnerDeparted)
	drop(chIdentityRemoved, chOwnerLost, chOwnerDeparted)
	if has(q, "added or removed", "added and removed", "removed or added", "removed and added") {
		out = []string{chIdentityAdded, chIdentityRemoved}
	}
	return out
}

func hasWindow(q string) bool {
	return has(q, lastSyncWords...) || has(q, "yesterday", "today", "this morning", "this week", "last week", "past week", "last month", "past month") ||
		has(q, weekdays...) || durationRE.MatchString(q) || hoursRE.MatchString(q) || sinceDateRE.MatchString(q)
}

// resolveWindow sets c's window from the question's words: the last sync
// when it names none. Calendar words count in UTC days: "yesterday" is
// from the start of yesterday, "since Monday" from the start of the
// latest Monday before today, "this week" from the start of this
// (ISO, Monday-first) week; "last N days" and "last week" count back
// from now.
func resolveWindow(q string, now time.Time, c *query.Changes) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if m := sinceDateRE.FindStringSubmatch(q); m != nil {
		if t, err := time.Parse("2006-01-02", m[1]); err == nil {
			c.Since, c.Window = t, "since "+m[1]
			return
		}
	}
	for i, d := range weekdays {
		if containsWord(q, d) {
			back := (int(now.Weekday()) - i + 7) % 7
			if back == 0 {
				back = 7
			}
			c.Since, c.Window = today.AddDate(0, 0, -back), "since "+d
			return
		}
	}
	if m := hoursRE.FindStringSubmatch(q); m != nil {
		n, _ := strconv.Atoi(m[1])
		c.Since, c.Window = now.Add(-time.Duration(n)*time.Hour), "last "+m[1]+" hours"
		return
	}
	if m := durationRE.FindStringSubmatch(q); m != nil {
		days, _ := duration(q)
		c.Since, c.Window = now.Add(-time.Duration(days*24)*time.Hour), "last "+m[1]+" "+m[2]
		return
	}
	switch {
	case has(q, "last hour", "past hour"):
		c.Since, c.Window = now.Add(-time.Hour), "last hour"
	case has(q, "last day", "past day"):
		c.Since, c.Window = now.Add(-24*time.Hour), "last day"
	case has(q, "yesterday"):
		c.Since, c.Window = today.AddDate(0, 0, -1), "since yesterday"
	case has(q, "today", "this morning"):
		c.Since, c.Window = today, "today"
	case has(q, "this week"):
		back := (int(now.Weekday()) + 6) % 7
		c.Since, c.Window = today.AddDate(0, 0, -back), "this week"
	case has(q, "last week", "past week"):
		c.Since, c.Window = now.AddDate(0, 0, -7), "last 7 days"
	case has(q, "last month", "past month"):
		c.Since, c.Window = now.AddDate(0, 0, -30), "last 30 days"
	default:
		c.LastSync, c.Window = true, "since the last sync"
	}
}

// changeFollowUp narrows a change plan: "only in aws", "and just the new
// admins".
func changeFollowUp(q string, prev *query.Plan) (*query.Plan, bool) {
	srcs := matchSources(q)
	types := changeTypesIn(q)
	if len(srcs) == 0 && len(types) == 0 {
		return nil, false
	}
	p := *prev
	c := *prev.Changes
	if len(srcs) > 0 {
		p.Sources = srcs
	}
	if len(types) > 0 {
		c.Types = types
	}
	p.Changes = &c
	return &p, true
}
