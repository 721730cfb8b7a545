package k8s

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors/input"

	"github.com/steward-oss/steward/graph"
)

// auditEvent is the part of an audit.k8s.io/v1 Event this connector reads.
// k8s.io/apiserver, which declares the type, is not a dependency; the field
// names are the stable v1 wire names. timestamp and metadata.
// creationTimestamp are what v1beta1-era logs carry instead of
// stageTimestamp.
type auditEvent struct {
	AuditID          string       `json:"auditID"`
	Stage            string       `json:"stage"`
	RequestURI       string       `json:"requestURI"`
	Verb             string       `json:"verb"`
	User             auditUser    `json:"user"`
	ImpersonatedUser *auditUser   `json:"impersonatedUser"`
	SourceIPs        []string     `json:"sourceIPs"`
	UserAgent        string       `json:"userAgent"`
	ObjectRef        *auditObject `json:"objectRef"`
	ResponseStatus   *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestReceivedTimestamp string `json:"requestReceivedTimestamp"`
	StageTimestamp           string `json:"stageTimestamp"`
	Timestamp                string `json:"timestamp"`
	Metadata                 struct {
		CreationTimestamp string `json:"creationTimestamp"`
	} `json:"metadata"`
}

type auditUser struct {
	Username string `json:"username"`
}

type auditObject struct {
	Resource    string `json:"resource"`
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	APIGroup    string `json:"apiGroup"`
	Subresource string `json:"subresource"`
}

// usageRec is the latest use of one (service account, scope, verb,
// resource), aggregated over the log.
type usageRec struct {
	namespace, name string // the service account
	scopeNS         string // the namespace used, "" for cluster scope
	verb, resource  string
	lastSeen        time.Time
	sourceIP        string
	userAgent       string
	code            int
	count           int
	impersonatedBy  string
}

// readAudit reads a JSON-lines audit log (or every *.log, *.json, *.jsonl
// file directly in a directory) and returns service-account usage. Events
// of other users are not kept: this connector governs service accounts.
func readAudit(path string, log *slog.Logger) ([]usageRec, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("k8s: audit log: %w", err)
	}
	files := []string{path}
	if st.IsDir() {
		if files, err = input.Dir(path, input.Ext(".log", ".json", ".jsonl")); err != nil {
			return nil, fmt.Errorf("k8s: audit log: %w", err)
		}
	}
	agg := map[string]*usageRec{}
	for _, f := range files {
		if err := readAuditFile(f, agg, log); err != nil {
			return nil, err
		}
	}
	keys := slices.Sorted(maps.Keys(agg))
	out := make([]usageRec, 0, len(keys))
	for _, k := range keys {
		out = append(out, *agg[k])
	}
	return out, nil
}

func readAuditFile(path string, agg map[string]*usageRec, log *slog.Logger) error {
	data, err := input.ReadFile(path, input.JSONL)
	if err != nil {
		return fmt.Errorf("k8s: audit log: %w", err)
	}
	rd := bufio.NewReader(bytes.NewReader(data))
	skipped := 0
	for line := 1; ; line++ {
		raw, err := rd.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("k8s: audit log %s: line %d: %w", path, line, err)
		}
		if t := bytes.TrimSpace(raw); len(t) > 0 {
			var ev auditEvent
			if jerr := json.Unmarshal(t, &ev); jerr != nil {
				return jsonError(path, "line "+strconv.Itoa(line), jerr)
			}
			if !addEvent(agg, &ev) {
				skipped++
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if skipped > 0 {
		log.Debug("k8s: audit events without a service account or timestamp skipped", "file", path, "count", skipped)
	}
	return nil
}

// addEvent folds one event into agg; it reports false when the event is not
// a service account's or carries no time.
func addEvent(agg map[string]*usageRec, ev *auditEvent) bool {
	// The impersonated user is who the request acted as.
	user, by := ev.User.Username, ""
	if ev.ImpersonatedUser != nil && ev.ImpersonatedUser.Username != "" {
		user, by = ev.ImpersonatedUser.Username, ev.User.Username
	}
	rest, ok := strings.CutPrefix(user, saUserPrefix)
	if !ok {
		return false
	}
	ns, name, ok := strings.Cut(rest, ":")
	if !ok || ns == "" || name == "" {
		return false
	}
	var at time.Time
	for _, s := range []string{ev.StageTimestamp, ev.RequestReceivedTimestamp, ev.Timestamp, ev.Metadata.CreationTimestamp} {
		if t, err := time.Parse(time.RFC3339Nano, s); s != "" && err == nil {
			at = t.UTC()
			break
		}
	}
	if at.IsZero() {
		return false
	}
	scope, resource := "", ev.RequestURI
	if i := strings.IndexByte(resource, '?'); i >= 0 {
		resource = resource[:i]
	}
	if o := ev.ObjectRef; o != nil && o.Resource != "" {
		scope = o.Namespace
		resource = o.Resource
		if o.Subresource != "" {
			resource += "/" + o.Subresource
		}
		if o.APIGroup != "" {
			resource = o.APIGroup + "/" + resource
		}
	} else {
		resource = "nonResourceURL:" + resource
	}
	key := strings.Join([]string{ns, name, scope, ev.Verb, resource}, "\x00")
	u := agg[key]
	if u == nil {
		u = &usageRec{namespace: ns, name: name, scopeNS: scope, verb: ev.Verb, resource: resource}
		agg[key] = u
	}
	// One request logs up to four stages; count it once, at completion.
	if ev.Stage == "" || ev.Stage == "ResponseComplete" || ev.Stage == "Panic" {
		u.count++
	}
	if !at.Before(u.lastSeen) {
		u.lastSeen = at
		u.sourceIP = ""
		if len(ev.SourceIPs) > 0 {
			u.sourceIP = ev.SourceIPs[0]
		}
		u.userAgent = ev.UserAgent
		u.impersonatedBy = by
		if ev.ResponseStatus != nil {
			u.code = ev.ResponseStatus.Code
		}
	}
	return true
}

// used emits the usage edge of one aggregated record.
func (b *builder) used(u usageRec) {
	from := b.sa(u.namespace, u.name).ID
	to := b.clusterID()
	if u.scopeNS != "" {
		to = b.namespace(u.scopeNS).ID
	}
	attrs := map[string]string{
		graph.AttrUsedAction: u.verb + " " + u.resource,
		"count":              strconv.Itoa(u.count),
	}
	if u.sourceIP != "" {
		attrs[graph.AttrSourceIP] = u.sourceIP
	}
	if u.userAgent != "" {
		attrs[graph.AttrUserAgent] = u.userAgent
	}
	if u.code != 0 {
		attrs["response_code"] = strconv.Itoa(u.code)
	}
	if u.impersonatedBy != "" {
		attrs["impersonated_by"] = u.impersonatedBy
	}
	b.edge(graph.Edge{From: from, To: to, Kind: graph.EdgeUsed, Action: u.verb, Resource: u.resource,
		LastSeen: u.lastSeen, Attrs: attrs})
}
