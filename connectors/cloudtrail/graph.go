package cloudtrail

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors/input"

	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/graph"
)

// Attribute keys on used edges besides graph.AttrSourceIP, AttrUserAgent
// and AttrUsedAction.
const (
	// AttrSourceIPs and AttrUserAgents hold a JSON object mapping every
	// source IP / user agent seen for this edge to the first time it was
	// seen (RFC 3339), which the usage package's anomaly signal reads.
	AttrSourceIPs  = "source_ips"
	AttrUserAgents = "user_agents"
	AttrCount      = "count"
	AttrDenied     = "denied_count" // calls that failed with an error code
	AttrFirstSeen  = "first_seen"
	AttrEvent      = "event"
	AttrEventTime  = "event_time"
)

// ServiceNodeID is the resource node standing for one AWS service in one
// account, the target of used edges.
func ServiceNodeID(account, eventSource string) string {
	return "aws:" + account + ":service/" + strings.ToLower(eventSource)
}

// Action renders an event as an IAM action: "s3.amazonaws.com" +
// "GetObject" -> "s3:GetObject".
func Action(eventSource, eventName string) string {
	svc, _, _ := strings.Cut(eventSource, ".")
	return svc + ":" + eventName
}

// Actors returns the node ids an event's caller maps to: the IAM user,
// role (for an assumed-role session, via its issuer) or root user, and the
// long-term access key used, if any. Temporary (ASIA…) keys have no node.
func Actors(ev *Event) (identity, key string) {
	u := &ev.UserIdentity
	switch u.Type {
	case "IAMUser":
		if id, err := awsid.PrincipalNodeID(u.ARN); err == nil && strings.Contains(id, ":user/") {
			identity = id
		}
	case "AssumedRole":
		if u.SessionContext != nil && u.SessionContext.SessionIssuer.ARN != "" {
			if id, err := awsid.PrincipalNodeID(u.SessionContext.SessionIssuer.ARN); err == nil {
				identity = id
			}
		}
		if identity == "" {
			if id, err := awsid.PrincipalNodeID(u.ARN); err == nil {
				identity = id
			}
		}
	case "Root":
		if u.AccountID != "" {
			identity = awsid.RootNodeID(u.AccountID)
		}
	}
	if awsid.IsLongTermKeyID(u.AccessKeyID) && u.AccountID != "" {
		switch {
		case u.Type == "IAMUser" && u.UserName != "" && identity != "":
			key = awsid.AccessKeyNodeID(u.AccountID, u.UserName, u.AccessKeyID)
		case u.Type == "Root":
			key = awsid.AccessKeyNodeID(u.AccountID, "<root_account>", u.AccessKeyID)
		}
	}
	return identity, key
}

// Unmapped counts the events Build leaves out because their caller cannot
// be read: an IAM user or assumed-role caller whose ARN does not parse, or
// no recipient account. AWS service callers and federated users are not
// counted; they are no IAM identity by design.
func Unmapped(events []Event) *input.Dropped {
	d := &input.Dropped{}
	for i := range events {
		ev := &events[i]
		where := ev.File + " " + ev.Where
		if ev.Account() == "" {
			d.Add("without a recipient account", where)
			continue
		}
		switch ev.UserIdentity.Type {
		case "IAMUser", "AssumedRole":
		default:
			continue
		}
		if id, _ := Actors(ev); id == "" {
			d.Add("with a malformed ARN", where)
		}
	}
	return d
}

type usedAgg struct {
	edge    graph.Edge
	first   time.Time
	count   int
	denied  int
	ips     map[string]time.Time
	agents  map[string]time.Time
	latest  time.Time
	account string
}

// Build turns events into one subgraph per recording account, named by
// source(account): used edges from identities and long-term keys to the
// services they called, and created_by edges for CreateUser, CreateRole and
// CreateAccessKey. Events whose caller maps to no IAM identity (AWS
// services, federated users, malformed ARNs) add nothing.
func Build(events []Event, source func(account string) string) []*graph.Subgraph {
	graphs := map[string]*graph.Subgraph{}
	seen := map[string]bool{}
	used := map[string]*usedAgg{}
	created := map[string]graph.Edge{}
	sg := func(acct string) *graph.Subgraph {
		if g, ok := graphs[acct]; ok {
			return g
		}
		g := &graph.Subgraph{Source: source(acct)}
		graphs[acct] = g
		return g
	}
	for i := range events {
		ev := &events[i]
		acct := ev.Account()
		if acct == "" {
			continue
		}
		identity, key := Actors(ev)
		if identity == "" {
			continue
		}
		g := sg(acct)
		svc := ServiceNodeID(acct, ev.EventSource)
		if !seen[acct+"\x00"+svc] {
			seen[acct+"\x00"+svc] = true
			g.AddNode(graph.Node{ID: svc, Kind: graph.KindResource, Subtype: "aws_service", Name: strings.ToLower(ev.EventSource)})
			g.AddEdge(graph.Edge{From: svc, To: awsid.AccountNodeID(acct), Kind: graph.EdgeInAccount})
		}
		action := Action(ev.EventSource, ev.EventName)
		for _, from := range []string{identity, key} {
			if from == "" {
				continue
			}
			k := acct + "\x00" + from + "\x00" + svc + "\x00" + action
			a, ok := used[k]
			if !ok {
				a = &usedAgg{account: acct, ips: map[string]time.Time{}, agents: map[string]time.Time{},
					edge: graph.Edge{From: from, To: svc, Kind: graph.EdgeUsed, Action: action}}
				used[k] = a
			}
			a.add(ev)
		}
		if ev.ErrorCode == "" {
			if e, ok := createdEdge(ev, identity, acct); ok {
				created[acct+"\x00"+e.Key()] = e
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(used)) {
		a := used[k]
		graphs[a.account].AddEdge(a.finish())
	}
	for _, k := range slices.Sorted(maps.Keys(created)) {
		acct, _, _ := strings.Cut(k, "\x00")
		graphs[acct].AddEdge(created[k])
	}
	out := make([]*graph.Subgraph, 0, len(graphs))
	for _, acct := range slices.Sorted(maps.Keys(graphs)) {
		g := graphs[acct]
		g.Normalize()
		out = append(out, g)
	}
	return out
}

func (a *usedAgg) add(ev *Event) {
	a.count++
	if ev.ErrorCode != "" {
		a.denied++
	}
	if a.first.IsZero() || ev.Time.Before(a.first) {
		a.first = ev.Time
	}
	if !ev.Time.Before(a.latest) {
		a.latest = ev.Time
		a.edge.LastSeen = ev.Time
		a.edge.Attrs = map[string]string{graph.AttrSourceIP: ev.SourceIPAddress, graph.AttrUserAgent: ev.UserAgent}
	}
	firstSeen(a.ips, ev.SourceIPAddress, ev.Time)
	firstSeen(a.agents, ev.UserAgent, ev.Time)
}

func firstSeen(m map[string]time.Time, k string, t time.Time) {
	if k == "" {
		return
	}
	if old, ok := m[k]; !ok || t.Before(old) {
		m[k] = t
	}
}

func (a *usedAgg) finish() graph.Edge {
	e := a.edge
	e.Attrs[graph.AttrUsedAction] = e.Action
	e.Attrs[AttrCount] = strconv.Itoa(a.count)
	if a.denied > 0 {
		e.Attrs[AttrDenied] = strconv.Itoa(a.denied)
	}
	e.Attrs[AttrFirstSeen] = a.first.Format(time.RFC3339)
	e.Attrs[AttrSourceIPs] = timesJSON(a.ips)
	e.Attrs[AttrUserAgents] = timesJSON(a.agents)
	for k, v := range e.Attrs {
		if v == "" {
			delete(e.Attrs, k)
		}
	}
	return e
}

func timesJSON(m map[string]time.Time) string {
	if len(m) == 0 {
		return ""
	}
	s := make(map[string]string, len(m))
	for k, v := range m {
		s[k] = v.Format(time.RFC3339)
	}
	b, _ := json.Marshal(s) // keys sorted
	return string(b)
}

// createdEdge maps a successful CreateUser, CreateRole or CreateAccessKey
// to a created_by edge from the new identity or key to its creator.
func createdEdge(ev *Event, creator, acct string) (graph.Edge, bool) {
	if ev.EventSource != "iam.amazonaws.com" || len(ev.ResponseElements) == 0 {
		return graph.Edge{}, false
	}
	var resp struct {
		User *struct {
			Arn string `json:"arn"`
		} `json:"user"`
		Role *struct {
			Arn string `json:"arn"`
		} `json:"role"`
		AccessKey *struct {
			AccessKeyID string `json:"accessKeyId"`
			UserName    string `json:"userName"`
		} `json:"accessKey"`
	}
	if json.Unmarshal(ev.ResponseElements, &resp) != nil {
		return graph.Edge{}, false
	}
	var target string
	switch ev.EventName {
	case "CreateUser":
		if resp.User != nil {
			target, _ = awsid.PrincipalNodeID(resp.User.Arn)
		}
	case "CreateRole":
		if resp.Role != nil {
			target, _ = awsid.PrincipalNodeID(resp.Role.Arn)
		}
	case "CreateAccessKey":
		if resp.AccessKey != nil && awsid.IsLongTermKeyID(resp.AccessKey.AccessKeyID) && resp.AccessKey.UserName != "" {
			target = awsid.AccessKeyNodeID(acct, resp.AccessKey.UserName, resp.AccessKey.AccessKeyID)
		}
	}
	if target == "" {
		return graph.Edge{}, false
	}
	return graph.Edge{From: target, To: creator, Kind: graph.EdgeCreatedBy, LastSeen: ev.Time,
		Attrs: map[string]string{AttrEvent: ev.EventName, AttrEventTime: ev.Time.Format(time.RFC3339)}}, true
}
