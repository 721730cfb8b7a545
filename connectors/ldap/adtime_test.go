package ldap

import (
	"testing"
	"time"
)

func TestParseFileTime(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Time
		wantErr  bool
	}{
		{name: "lastLogonTimestamp", in: "134396325000000000", want: date("2026-11-20T07:15:00Z")},
		{name: "sub-second ticks", in: "134396325000000001", want: date("2026-11-20T07:15:00Z").Add(100)},
		{name: "unix epoch", in: "116444736000000000", want: time.Unix(0, 0).UTC()},
		{name: "zero is never", in: "0"},
		{name: "max is never", in: "9223372036854775807"},
		{name: "negative", in: "-1", wantErr: true},
		{name: "not a number", in: "2026-11-20", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFileTime(tt.in)
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Fatalf("parseFileTime(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseGeneralizedTime(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Time
		wantErr  bool
	}{
		{name: "AD whenCreated", in: "20230512083015.0Z", want: date("2023-05-12T08:30:15Z")},
		{name: "OpenLDAP createTimestamp", in: "20240202101010Z", want: date("2024-02-02T10:10:10Z")},
		{name: "fraction", in: "20240202101010.25Z", want: date("2024-02-02T10:10:10Z").Add(250 * time.Millisecond)},
		{name: "comma fraction", in: "20240202101010,5Z", want: date("2024-02-02T10:10:10Z").Add(500 * time.Millisecond)},
		{name: "offset", in: "20240202101010+0130", want: date("2024-02-02T08:40:10Z")},
		{name: "hour offset", in: "20240202101010-05", want: date("2024-02-02T15:10:10Z")},
		{name: "hours only", in: "2024020210Z", want: date("2024-02-02T10:00:00Z")},
		{name: "no zone", in: "20240202101010", wantErr: true},
		{name: "RFC 3339", in: "2024-02-02T10:10:10Z", wantErr: true},
		{name: "February 30", in: "20240230101010Z", wantErr: true},
		{name: "month 13", in: "20241302101010Z", wantErr: true},
		{name: "empty fraction", in: "20240202101010.Z", wantErr: true},
		{name: "signed field", in: "2024+202101010Z", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseGeneralizedTime(tt.in)
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Fatalf("parseGeneralizedTime(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSIDString(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{name: "BUILTIN Administrators", in: []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0}, want: "S-1-5-32-544"},
		{name: "everyone", in: []byte{1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, want: "S-1-1-0"},
		{name: "short", in: []byte{1, 2, 0, 0}, wantErr: true},
		{name: "count mismatch", in: []byte{1, 3, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0}, wantErr: true},
		{name: "revision", in: []byte{2, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sidString(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("sidString = %q, %v; want %q, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestWellKnownAdmin(t *testing.T) {
	tests := []struct {
		name, sid, sam, cn, want string
	}{
		{name: "domain admins by SID", sid: "S-1-5-21-1-2-3-512", cn: "Domänen-Admins", want: "domain_admins"},
		{name: "enterprise admins by SID", sid: "S-1-5-21-1-2-3-519", want: "enterprise_admins"},
		{name: "builtin administrators", sid: "S-1-5-32-544", want: "administrators"},
		{name: "RID suffix must be whole", sid: "S-1-5-21-1-2-3-1512", cn: "Domain Admins"},
		{name: "SID wins over a copied name", sid: "S-1-5-21-1-2-3-1200", cn: "Domain Admins"},
		{name: "name without SID", sam: "domain admins", want: "domain_admins"},
		{name: "cn without SID or sAMAccountName", cn: "Administrators", want: "administrators"},
		{name: "other group", cn: "Web Operators"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wellKnownAdmin(tt.sid, tt.sam, tt.cn); got != tt.want {
				t.Fatalf("wellKnownAdmin = %q, want %q", got, tt.want)
			}
		})
	}
}
