// Package audit is Steward's append-only, hash-chained audit log. Every
// question, plan, proposal, decision, execution step and load is one JSON
// line; each line carries the SHA-256 of the line before it, so an edited,
// reordered, deleted or truncated line breaks the chain at a place Verify
// names.
//
// The chain alone cannot show that lines were cut from the end: a shorter
// log is still a valid chain. Head returns the latest (seq, hash); an
// operator who records it elsewhere (a ticket, another system's log) can
// later prove the tail is intact with VerifyAnchor.
//
// The log never holds a secret value. Callers pass masked credential ids
// ("AKIA…WXYZ") and graph node ids, never keys, tokens or passwords; Append
// refuses a record in which a value has the shape of a known secret, as a
// last line of defence against a caller that forgot.
//
// Canonical encoding, the input of each record's hash: encoding/json of the
// record's fields in the fixed order seq, time, actor, action, target,
// where, outcome, details, prev_hash (the hash field left out), no
// whitespace, details keys sorted, time as RFC 3339 with nanoseconds in UTC.
// Details values are strings so that the encoding is the same after a
// decode and re-encode (numbers would not be).
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/internal/secret"
)

// Actions the rest of Steward records. The list is open: a new kind of
// event gets a new constant here, so reports can rely on the names.
const (
	ActionQuestion       = "question"
	ActionPlan           = "plan"
	ActionProposal       = "proposal"
	ActionApproval       = "approval"
	ActionRejection      = "rejection"
	ActionRequestChanges = "request_changes"
	ActionCancel         = "cancel"
	ActionEscalation     = "escalation"
	ActionExpiry         = "expiry"
	ActionExecution      = "execution"
	ActionRollback       = "rollback"
	ActionLoad           = "load"
	// ActionCommitFailed follows a record whose change was then not
	// committed, so the log stays truthful.
	ActionCommitFailed = "commit_failed"
)

// Where a record's actor acted from.
const (
	WhereCLI       = "cli"
	WhereHTTP      = "http"
	WhereSlack     = "slack"
	WhereScheduler = "scheduler"
	// WhereSystem is Steward acting on its own behalf outside a schedule,
	// such as resuming an interrupted execution after a restart.
	WhereSystem = "system"
)

var validWhere = map[string]bool{WhereCLI: true, WhereHTTP: true, WhereSlack: true, WhereScheduler: true, WhereSystem: true}

// GenesisHash is the prev_hash of the first record.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Record is one line of the log. Append fills Seq, PrevHash and Hash (and
// Time when zero); callers fill the rest.
type Record struct {
	Seq     int64             `json:"seq"`
	Time    time.Time         `json:"time"`
	Actor   string            `json:"actor"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	Where   string            `json:"where"`
	Outcome string            `json:"outcome"`
	Details map[string]string `json:"details,omitempty"`
	// PrevHash is the Hash of the record before, GenesisHash for the first.
	PrevHash string `json:"prev_hash"`
	// Hash is the hex SHA-256 of the canonical encoding of every other
	// field, PrevHash included.
	Hash string `json:"hash"`
	// MAC is the hex HMAC-SHA256 of Hash under the audit key, when the
	// log is written with one: without the key nobody can append or
	// re-hash a record that verifies.
	MAC string `json:"mac,omitempty"`
}

// unhashed has Record's fields minus Hash, in the canonical order.
type unhashed struct {
	Seq      int64             `json:"seq"`
	Time     time.Time         `json:"time"`
	Actor    string            `json:"actor"`
	Action   string            `json:"action"`
	Target   string            `json:"target"`
	Where    string            `json:"where"`
	Outcome  string            `json:"outcome"`
	Details  map[string]string `json:"details,omitempty"`
	PrevHash string            `json:"prev_hash"`
}

// Canonical returns the bytes a record's hash is computed over.
func (r Record) Canonical() ([]byte, error) {
	u := unhashed{r.Seq, r.Time.UTC(), r.Actor, r.Action, r.Target, r.Where, r.Outcome, r.Details, r.PrevHash}
	b, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("audit: encode record %d: %w", r.Seq, err)
	}
	return b, nil
}

// ComputeHash returns the hex SHA-256 of r's canonical encoding.
func (r Record) ComputeHash() (string, error) {
	b, err := r.Canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Anchor is a point of the chain an operator records outside the log, so
// that a later VerifyAnchor can detect lines removed from the end.
type Anchor struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	// Time and MAC are set on signed checkpoints: when it was written and
	// the HMAC of (seq, hash, time) under the audit key.
	Time string `json:"time,omitempty"`
	MAC  string `json:"mac,omitempty"`
}

// Sentinel errors.
var (
	// ErrBrokenChain is wrapped by every *VerifyError.
	ErrBrokenChain = errors.New("audit chain broken")
	// ErrSecretValue is returned by Append for a record carrying what looks
	// like a secret value.
	ErrSecretValue = errors.New("record contains a secret-shaped value")
	// ErrInvalidRecord is returned by Append for a record missing a
	// required field.
	ErrInvalidRecord = errors.New("invalid audit record")
	// ErrClosed is returned by Append after Close or after a failed write
	// left the file in an unknown state.
	ErrClosed = errors.New("audit log closed")
)

// Reason says why a record fails verification.
type Reason string

// Reasons a chain breaks.
const (
	// ReasonEdited: the record's content no longer matches its hash.
	ReasonEdited Reason = "edited (hash mismatch)"
	// ReasonSeqGap: seq is not one more than the previous record's, so a
	// record before it was deleted or records were reordered.
	ReasonSeqGap Reason = "reordered or deleted (seq gap)"
	// ReasonPrevHash: prev_hash is not the previous record's hash, so a
	// record before it was replaced or re-hashed.
	ReasonPrevHash Reason = "reordered or deleted (prev_hash mismatch)"
	// ReasonTruncated: the last line does not end in a newline: the file
	// was cut, or a write was interrupted.
	ReasonTruncated Reason = "truncated line"
	// ReasonMalformed: the line is not a record (bad JSON, unknown field).
	ReasonMalformed Reason = "malformed line"
	// ReasonMissingTail: the log ends before the anchor's seq.
	ReasonMissingTail Reason = "records missing at the end (log ends before the anchor)"
	// ReasonAnchorMismatch: the record at the anchor's seq has another hash.
	ReasonAnchorMismatch Reason = "anchor hash mismatch"
	// ReasonForged: the record's MAC is not the audit key's: it was
	// appended or re-hashed by someone without the key.
	ReasonForged Reason = "forged (MAC mismatch: written without the audit key)"
	// ReasonUnauthenticated: a record that must carry a MAC has none.
	ReasonUnauthenticated Reason = "unauthenticated (no MAC)"
	// ReasonEmpty: the log has no records and no anchor allows that.
	ReasonEmpty Reason = "empty log (no records)"
	// ReasonAnchorUnsigned: a key is configured but the anchor carries no
	// MAC.
	ReasonAnchorUnsigned Reason = "anchor not signed with the audit key"
	// ReasonAnchorForged: the anchor's MAC is not the audit key's.
	ReasonAnchorForged Reason = "anchor forged (MAC mismatch)"
)

// VerifyError names the first bad record: its 1-based line number, its seq
// (0 when the line could not be decoded) and the reason.
type VerifyError struct {
	Line   int
	Seq    int64
	Reason Reason
	Detail string
}

func (e *VerifyError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("audit: anchor (seq %d): %s", e.Seq, e.Reason)
	}
	msg := fmt.Sprintf("audit: line %d", e.Line)
	if e.Seq != 0 {
		msg += fmt.Sprintf(" (seq %d)", e.Seq)
	}
	msg += ": " + string(e.Reason)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrBrokenChain) true.
func (e *VerifyError) Unwrap() error { return ErrBrokenChain }

// secretShapes match values that are secrets whatever their context. A
// masked id ("AKIA…WXYZ") never matches: the ellipsis breaks the run.
var secretShapes = []*regexp.Regexp{
	regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`),                // AWS access key id
	regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36,}\b`),             // GitHub tokens
	regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{40,}\b`),           // GitHub fine-grained PAT
	regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}\b`),          // Slack tokens
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),         // PEM private keys
	regexp.MustCompile(`\bsk-(proj-)?[A-Za-z0-9_-]{20,}\b`),          // OpenAI-style API keys
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]+`), // JWTs
}

// checkNoSecret returns the name of the first field holding a
// secret-shaped value, or "".
func checkNoSecret(r Record) string {
	fields := []struct{ name, v string }{{"actor", r.Actor}, {"action", r.Action}, {"target", r.Target}, {"outcome", r.Outcome}}
	keys := make([]string, 0, len(r.Details))
	for k := range r.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fields = append(fields, struct{ name, v string }{"details key", k}, struct{ name, v string }{"details." + k, r.Details[k]})
	}
	for _, f := range fields {
		for _, re := range secretShapes {
			if re.MatchString(f.v) {
				return f.name
			}
		}
	}
	return ""
}

// MaskSecrets replaces every secret-shaped value in s by its masked form
// (secret.Mask: "AKIAIOSFODNN7EXAMPLE" becomes "AKIA…MPLE"; a private key
// becomes "[private key]"), so text a person typed — a question with a pasted
// key — can be recorded instead of refused. The result passes Append's
// check.
func MaskSecrets(s string) string {
	for _, re := range secretShapes {
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			if strings.HasPrefix(m, "-----BEGIN") {
				return "[private key]"
			}
			return secret.Mask(m)
		})
	}
	return s
}

// MaskRecord returns r with every secret-shaped value masked.
func MaskRecord(r Record) Record {
	r.Actor, r.Action, r.Target, r.Outcome = MaskSecrets(r.Actor), MaskSecrets(r.Action), MaskSecrets(r.Target), MaskSecrets(r.Outcome)
	if r.Details != nil {
		d := make(map[string]string, len(r.Details))
		for k, v := range r.Details {
			d[MaskSecrets(k)] = MaskSecrets(v)
		}
		r.Details = d
	}
	return r
}
