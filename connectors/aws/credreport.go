package aws

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// reportRow is one line of the IAM credential report.
type reportRow struct {
	Line                 int
	User                 string
	ARN                  string
	Created              time.Time
	PasswordEnabled      string // "true", "false", "not_supported" (root)
	PasswordLastUsed     time.Time
	PasswordLastUsedInfo string // "no_information" or "N/A" when not a time
	PasswordLastChanged  time.Time
	PasswordNextRotation time.Time
	MFAActive            bool
	Keys                 [2]reportKey
	Certs                [2]reportCert
}

type reportKey struct {
	Active        bool
	LastRotated   time.Time
	LastUsed      time.Time
	LastUsedInfo  string
	LastUsedRgn   string
	LastUsedSvc   string
	Present       bool // the slot holds a key (active, or inactive with a rotation date)
	LastUsedKnown bool
}

type reportCert struct {
	Active      bool
	LastRotated time.Time
	Present     bool
}

// reportColumns are the credential report columns, in AWS's order. The
// reader finds them by name, so a report with extra or reordered columns
// still loads, but every one of these must be present.
var reportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// parseCredentialReport reads the CSV IAM returns from GetCredentialReport.
// The sentinels "N/A", "no_information" and "not_supported" mean "no value"
// and are kept where they carry meaning (password never used since
// tracking began). Errors name the file, line and column.
func parseCredentialReport(r io.Reader, name string) ([]reportRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("aws: credential-report %q: line 1: empty report", name)
		}
		return nil, fmt.Errorf("aws: credential-report %q: line 1: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, c := range reportColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("aws: credential-report %q: line 1: header lacks column %q (is this an IAM credential report?)", name, c)
		}
	}
	var rows []reportRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("aws: credential-report %q: %w", name, err)
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("aws: credential-report %q: line %d: %d fields, header has %d", name, line, len(rec), len(header))
		}
		row, err := parseReportRow(rec, col)
		if err != nil {
			return nil, fmt.Errorf("aws: credential-report %q: line %d: %w", name, line, err)
		}
		row.Line = line
		rows = append(rows, row)
	}
	return rows, nil
}

func parseReportRow(rec []string, col map[string]int) (reportRow, error) {
	get := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
	var row reportRow
	var err error
	row.User = get("user")
	row.ARN = get("arn")
	if row.User == "" || row.ARN == "" {
		return row, fmt.Errorf("column \"user\" or \"arn\" is empty")
	}
	if row.Created, _, err = reportTime(get, "user_creation_time"); err != nil {
		return row, err
	}
	row.PasswordEnabled = get("password_enabled")
	if row.PasswordLastUsed, row.PasswordLastUsedInfo, err = reportTime(get, "password_last_used"); err != nil {
		return row, err
	}
	if row.PasswordLastChanged, _, err = reportTime(get, "password_last_changed"); err != nil {
		return row, err
	}
	if row.PasswordNextRotation, _, err = reportTime(get, "password_next_rotation"); err != nil {
		return row, err
	}
	if row.MFAActive, err = reportBool(get, "mfa_active"); err != nil {
		return row, err
	}
	for i := range row.Keys {
		p := fmt.Sprintf("access_key_%d_", i+1)
		k := &row.Keys[i]
		if k.Active, err = reportBool(get, p+"active"); err != nil {
			return row, err
		}
		if k.LastRotated, _, err = reportTime(get, p+"last_rotated"); err != nil {
			return row, err
		}
		if k.LastUsed, k.LastUsedInfo, err = reportTime(get, p+"last_used_date"); err != nil {
			return row, err
		}
		k.LastUsedKnown = !k.LastUsed.IsZero()
		k.LastUsedRgn = sentinel(get(p + "last_used_region"))
		k.LastUsedSvc = sentinel(get(p + "last_used_service"))
		// An empty slot reports active=false with no rotation date. For
		// root, AWS fills the rotation date with the account creation time
		// even when no key exists, so a false/dated slot is only a key when
		// the date differs from the creation time.
		k.Present = k.Active || (!k.LastRotated.IsZero() && !k.LastRotated.Equal(row.Created))
	}
	for i := range row.Certs {
		p := fmt.Sprintf("cert_%d_", i+1)
		c := &row.Certs[i]
		if c.Active, err = reportBool(get, p+"active"); err != nil {
			return row, err
		}
		if c.LastRotated, _, err = reportTime(get, p+"last_rotated"); err != nil {
			return row, err
		}
		c.Present = c.Active || !c.LastRotated.IsZero()
	}
	return row, nil
}

// sentinel maps the report's "no value" markers to "".
func sentinel(v string) string {
	switch v {
	case "N/A", "no_information", "not_supported", "":
		return ""
	}
	return v
}

func reportTime(get func(string) string, c string) (time.Time, string, error) {
	v := get(c)
	if sentinel(v) == "" {
		return time.Time{}, v, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("column %q: %q is not an RFC 3339 time or N/A", c, v)
	}
	return t.UTC(), "", nil
}

func reportBool(get func(string) string, c string) (bool, error) {
	switch v := strings.ToLower(get(c)); v {
	case "true":
		return true, nil
	case "false", "n/a", "not_supported":
		return false, nil
	default:
		return false, fmt.Errorf("column %q: %q is not true/false", c, v)
	}
}
