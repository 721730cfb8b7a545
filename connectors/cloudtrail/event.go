package cloudtrail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors/input"
)

// Event is the part of a CloudTrail record Steward uses.
type Event struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       UserIdentity    `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventID            string          `json:"eventID"`

	// Time is EventTime parsed; File and Where locate the record for
	// error messages and provenance.
	Time  time.Time `json:"-"`
	File  string    `json:"-"`
	Where string    `json:"-"`
}

// UserIdentity is CloudTrail's userIdentity element.
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId"`
	ARN            string          `json:"arn"`
	AccountID      string          `json:"accountId"`
	AccessKeyID    string          `json:"accessKeyId"`
	UserName       string          `json:"userName"`
	InvokedBy      string          `json:"invokedBy"`
	SessionContext *SessionContext `json:"sessionContext"`
}

// SessionContext carries the issuer of temporary credentials.
type SessionContext struct {
	SessionIssuer struct {
		Type      string `json:"type"`
		ARN       string `json:"arn"`
		AccountID string `json:"accountId"`
		UserName  string `json:"userName"`
	} `json:"sessionIssuer"`
}

// Account is the account whose trail recorded the event.
func (e *Event) Account() string {
	if e.RecipientAccountID != "" {
		return e.RecipientAccountID
	}
	return e.UserIdentity.AccountID
}

// ReadPath reads a CloudTrail file, or every *.json / *.json.gz file under
// a directory (sorted by path, so results do not depend on the order the
// file system lists them in). It accepts trail log files ({"Records":
// [...]}), `aws cloudtrail lookup-events` output ({"Events":
// [{"CloudTrailEvent": "<json>"}]}), single records, and EventBridge
// "AWS API Call via CloudTrail" events. Any bad file fails the whole read.
func ReadPath(ctx context.Context, path string) ([]Event, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cloudtrail: %w", err)
	}
	var files []string
	if st.IsDir() {
		files, err = input.Walk(path, input.Ext(".json", ".json.gz"))
		if err != nil {
			return nil, fmt.Errorf("cloudtrail: %w", err)
		}
	} else {
		files = []string{path}
	}
	var out []Event
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		evs, err := readFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

func readFile(name string) ([]Event, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cloudtrail: %w", err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("cloudtrail: %q: gzip: %w", name, err)
		}
		defer gz.Close()
		r = gz
	}
	data, err := input.ReadAll(name, r, input.JSON) // bounded after gunzip too
	if err != nil {
		return nil, fmt.Errorf("cloudtrail: %w", err)
	}
	return Parse(data, name)
}

// Parse decodes one file's content. name is used in errors.
func Parse(data []byte, name string) ([]Event, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("cloudtrail: %q: offset %d: %w", name, se.Offset, err)
		}
		return nil, fmt.Errorf("cloudtrail: %q: $: %w", name, err)
	}
	switch {
	case top["Records"] != nil:
		var recs []json.RawMessage
		if err := json.Unmarshal(top["Records"], &recs); err != nil {
			return nil, fmt.Errorf("cloudtrail: %q: $.Records: %w", name, err)
		}
		out := make([]Event, 0, len(recs))
		for i, raw := range recs {
			ev, err := parseRecord(raw, name, fmt.Sprintf("$.Records[%d]", i))
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	case top["Events"] != nil:
		var evs []struct {
			CloudTrailEvent *string `json:"CloudTrailEvent"`
		}
		if err := json.Unmarshal(top["Events"], &evs); err != nil {
			return nil, fmt.Errorf("cloudtrail: %q: $.Events: %w", name, err)
		}
		out := make([]Event, 0, len(evs))
		for i, e := range evs {
			where := fmt.Sprintf("$.Events[%d].CloudTrailEvent", i)
			if e.CloudTrailEvent == nil {
				return nil, fmt.Errorf("cloudtrail: %q: %s: missing", name, where)
			}
			ev, err := parseRecord(json.RawMessage(*e.CloudTrailEvent), name, where)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	case top["detail"] != nil && top["detail-type"] != nil:
		var dt string
		_ = json.Unmarshal(top["detail-type"], &dt)
		if dt != "AWS API Call via CloudTrail" {
			return nil, fmt.Errorf("cloudtrail: %q: $.detail-type: %q is not a CloudTrail API call event", name, dt)
		}
		ev, err := parseRecord(top["detail"], name, "$.detail")
		if err != nil {
			return nil, err
		}
		if ev.RecipientAccountID == "" {
			var acct string
			_ = json.Unmarshal(top["account"], &acct)
			ev.RecipientAccountID = acct
		}
		return []Event{ev}, nil
	case top["eventName"] != nil && top["userIdentity"] != nil:
		ev, err := parseRecord(data, name, "$")
		if err != nil {
			return nil, err
		}
		return []Event{ev}, nil
	}
	return nil, fmt.Errorf("cloudtrail: %q: $: neither Records, Events, an EventBridge event nor a CloudTrail record", name)
}

func parseRecord(raw json.RawMessage, name, where string) (Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&ev); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return ev, fmt.Errorf("cloudtrail: %q: %s.%s: %w", name, where, te.Field, err)
		}
		return ev, fmt.Errorf("cloudtrail: %q: %s: %w", name, where, err)
	}
	if ev.EventName == "" || ev.EventSource == "" {
		return ev, fmt.Errorf("cloudtrail: %q: %s: eventName or eventSource is missing", name, where)
	}
	t, err := time.Parse(time.RFC3339, ev.EventTime)
	if err != nil {
		return ev, fmt.Errorf("cloudtrail: %q: %s.eventTime: %q is not an RFC 3339 time", name, where, ev.EventTime)
	}
	ev.Time, ev.File, ev.Where = t.UTC(), name, where
	return ev, nil
}
