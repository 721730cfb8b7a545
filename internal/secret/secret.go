// Package secret holds credential values so they cannot be printed or
// logged by accident, and owns Steward's one masking rule for credential
// ids ("AKIA…WXYZ").
//
// A Secret masks itself under every route a value takes out of a process
// by accident: fmt (every verb, %#v included), log/slog, encoding/json,
// encoding.TextMarshaler (YAML, flag dumps). The value is kept behind a
// pointer so that even a Secret in an unexported struct field, which fmt
// prints by reflection without calling its methods, shows an address and
// never the text. Only Reveal returns the value, so every place that uses
// a credential is one grep away.
package secret

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Masked is what a value too short to mask partially prints as. It has a
// fixed width so it does not tell the value's length either.
const Masked = "********"

// minPartial is the shortest value shown as first four … last four: at
// that length a third of it stays hidden. Below it the four and four
// would be most or all of the value (a 9-character id would leak 8), so a
// short value is masked whole and never passed through.
const minPartial = 12

// Mask shows a credential id the way Steward displays every credential
// id: its first and last four characters around an ellipsis
// ("AKIAIOSFODNN7EXAMPLE" becomes "AKIA…MPLE"), enough to recognise a key
// in a console, never enough to use it. A value shorter than 12
// characters becomes Masked; the empty string stays empty (there is
// nothing to hide and an empty attribute must stay absent). Characters
// are counted as runes, so a multi-byte value is never cut mid-character.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	r := []rune(s)
	if len(r) < minPartial {
		return Masked
	}
	return string(r[:4]) + "…" + string(r[len(r)-4:])
}

// Secret is a credential value (a token, password, client secret or key)
// that prints, logs and encodes as its mask. The zero value is empty.
type Secret struct {
	v *string
}

// New holds v as a Secret.
func New(v string) Secret {
	if v == "" {
		return Secret{}
	}
	return Secret{v: &v}
}

// Reveal returns the value, for the one place that hands it to the
// service it authenticates to (a header, a bind, a client option).
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == nil || *s.v == "" }

// String returns the masked value.
func (s Secret) String() string { return Mask(s.Reveal()) }

// GoString returns the masked value as Go syntax, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("secret.New(%q)", s.String()) }

// Format prints the mask under every verb and flag, so %x or %q of a
// Secret cannot reach the value either.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// MarshalJSON encodes the mask.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText encodes the mask, for YAML and other text encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue logs the mask.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Conformance: every route out of the process is covered.
var (
	_ fmt.Stringer   = Secret{}
	_ fmt.GoStringer = Secret{}
	_ fmt.Formatter  = Secret{}
	_ json.Marshaler = Secret{}
	_ slog.LogValuer = Secret{}
)
