package ldap

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// fileTimeEpochDelta is the number of 100 ns intervals between the Windows
// FILETIME epoch (1601-01-01 UTC) and the Unix epoch.
const fileTimeEpochDelta = 116444736000000000

// fileTimeNever is the value AD stores in accountExpires (and, for some
// tools, lastLogonTimestamp) for "never".
const fileTimeNever = 1<<63 - 1

// parseFileTime converts an AD Large Integer time (lastLogonTimestamp,
// pwdLastSet, accountExpires: 100 ns intervals since 1601 UTC). 0 and
// 0x7FFFFFFFFFFFFFFF mean "never" and give the zero time.
func parseFileTime(s string) (time.Time, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("not a Windows FILETIME integer: %q", s)
	}
	if v == 0 || v == fileTimeNever {
		return time.Time{}, nil
	}
	if v < 0 {
		return time.Time{}, fmt.Errorf("negative Windows FILETIME %d", v)
	}
	d := v - fileTimeEpochDelta // 100 ns ticks since 1970
	return time.Unix(d/1e7, (d%1e7)*100).UTC(), nil
}

// parseGeneralizedTime parses RFC 4517 GeneralizedTime, the syntax of AD's
// whenCreated and OpenLDAP's createTimestamp:
// YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|(+|-)HH[MM]).
func parseGeneralizedTime(s string) (time.Time, error) {
	bad := fmt.Errorf("not a generalized time: %q", s)
	if len(s) < 11 {
		return time.Time{}, bad
	}
	digits := func(p string) (int, bool) {
		n, err := strconv.Atoi(p)
		return n, err == nil && !strings.ContainsAny(p, "+-")
	}
	var f [6]int // year month day hour min sec
	widths := []int{4, 2, 2, 2, 2, 2}
	pos := 0
	for i, w := range widths {
		if i >= 4 && (pos+w > len(s) || s[pos] < '0' || s[pos] > '9') {
			break // minutes and seconds are optional
		}
		if pos+w > len(s) {
			return time.Time{}, bad
		}
		n, ok := digits(s[pos : pos+w])
		if !ok {
			return time.Time{}, bad
		}
		f[i] = n
		pos += w
	}
	var frac time.Duration
	if pos < len(s) && (s[pos] == '.' || s[pos] == ',') {
		end := pos + 1
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		if end == pos+1 {
			return time.Time{}, bad
		}
		// the fraction applies to the last unit given; AD and OpenLDAP
		// always give seconds, and sub-second precision does not matter here
		digitsFrac := s[pos+1 : end]
		if len(digitsFrac) > 9 {
			digitsFrac = digitsFrac[:9]
		}
		n, _ := strconv.Atoi(digitsFrac + strings.Repeat("0", 9-len(digitsFrac)))
		frac = time.Duration(n)
		pos = end
	}
	var loc *time.Location
	switch rest := s[pos:]; {
	case rest == "Z":
		loc = time.UTC
	case len(rest) == 3 || len(rest) == 5:
		if rest[0] != '+' && rest[0] != '-' {
			return time.Time{}, bad
		}
		hh, ok1 := digits(rest[1:3])
		mm, ok2 := 0, true
		if len(rest) == 5 {
			mm, ok2 = digits(rest[3:5])
		}
		if !ok1 || !ok2 || hh > 23 || mm > 59 {
			return time.Time{}, bad
		}
		off := hh*3600 + mm*60
		if rest[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	default:
		return time.Time{}, bad
	}
	if f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60 {
		return time.Time{}, bad
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, loc)
	if t.Day() != f[2] {
		return time.Time{}, bad // Feb 30 and the like
	}
	return t.Add(frac).UTC(), nil
}

// sidString renders a binary objectSid (MS-DTYP 2.4.2.2) as "S-1-5-...".
func sidString(b []byte) (string, error) {
	if len(b) < 8 || b[0] != 1 {
		return "", fmt.Errorf("not a binary SID (%d bytes)", len(b))
	}
	n := int(b[1])
	if len(b) != 8+4*n {
		return "", fmt.Errorf("SID length %d does not match %d sub-authorities", len(b), n)
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "S-1-%d", auth)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "-%d", binary.LittleEndian.Uint32(b[8+4*i:]))
	}
	return sb.String(), nil
}
