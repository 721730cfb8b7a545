// Package glob is Steward's one wildcard matcher: the patterns cloud
// policies use, '*' for any run of characters (including none, and
// spanning '/') and '?' for exactly one byte, with no character classes
// and no escapes. '[' and '\' are ordinary characters, as in IAM: a policy
// naming "arn:aws:s3:::logs[1]" means that literal bucket.
//
// Case is the caller's choice (fold), because the sources disagree on it
// and getting it wrong changes who can do what:
//   - IAM action names are case-insensitive ("S3:getobject" is
//     s3:GetObject), so the aws connector, usage derivation and the
//     escalation finding match actions with fold.
//   - ARNs and Kubernetes resource names are case-sensitive ("bucket/Logs"
//     is not "bucket/logs"); they match without fold.
//   - query matches what a person typed against grants and names, with
//     fold, because a question's case carries no meaning.
//
// Folding is ASCII byte folding when both strings are ASCII (every IAM
// action and ARN; no allocation) and Unicode lower-casing otherwise.
//
// Besides Match, privilege analysis compares two patterns: Covers (a Deny
// of "s3:*" removes an Allow of "s3:Get*") and Overlaps (a NotAction list
// cuts into an Allow).
package glob

import (
	"strings"
	"unicode/utf8"
)

// fold prepares a and b for a byte-wise comparison: with ASCII input the
// comparison folds bytes itself (ascii true); otherwise both are
// lower-cased here.
func fold(a, b string, on bool) (string, string, bool) {
	if !on {
		return a, b, false
	}
	if isASCII(a) && isASCII(b) {
		return a, b, true
	}
	return strings.ToLower(a), strings.ToLower(b), false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lower(c byte, on bool) byte {
	if on && 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Match reports whether s matches pattern; fold ignores case.
func Match(pattern, s string, foldCase bool) bool {
	p, s, f := fold(pattern, s, foldCase)
	// Iterative matching with one backtrack point: the last '*' seen and
	// the position in s it currently absorbs up to. Linear in practice,
	// never exponential on patterns with many stars, never recursive.
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(p) && (p[px] == '?' || (p[px] != '*' && lower(p[px], f) == lower(s[sx], f))):
			px++
			sx++
		case px < len(p) && p[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}

// Covers reports whether every string matched by inner is also matched by
// outer. It is sound (true means covered) and exact for the patterns IAM
// policies use in practice. It fills the table of "outer[i:] covers
// inner[j:]" bottom-up, two rows at a time, so short patterns allocate
// nothing.
func Covers(outer, inner string, foldCase bool) bool {
	outer, inner, f := fold(outer, inner, foldCase)
	var bufA, bufB [64]bool
	var next, cur []bool
	if len(inner)+1 > len(bufA) {
		next, cur = make([]bool, len(inner)+1), make([]bool, len(inner)+1)
	} else {
		next, cur = bufA[:len(inner)+1], bufB[:len(inner)+1]
	}
	// Row i == len(outer): only the empty rest of inner is covered.
	for j := range next {
		next[j] = j == len(inner)
	}
	for i := len(outer) - 1; i >= 0; i-- {
		for j := len(inner); j >= 0; j-- {
			var r bool
			switch {
			case outer[i] == '*':
				r = next[j] || (j < len(inner) && cur[j+1])
			case j == len(inner), inner[j] == '*':
				r = false
			case inner[j] == '?':
				r = outer[i] == '?' && next[j+1]
			default:
				r = (outer[i] == '?' || lower(outer[i], f) == lower(inner[j], f)) && next[j+1]
			}
			cur[j] = r
		}
		next, cur = cur, next
	}
	return next[0]
}

// Overlaps reports whether some string matches both a and b.
func Overlaps(a, b string, foldCase bool) bool {
	a, b, f := fold(a, b, foldCase)
	memo := make([]int8, (len(a)+1)*(len(b)+1))
	var rec func(i, j int) bool
	rec = func(i, j int) bool {
		k := i*(len(b)+1) + j
		if memo[k] != 0 {
			return memo[k] > 0
		}
		var r bool
		switch {
		case i == len(a) && j == len(b):
			r = true
		case i < len(a) && a[i] == '*':
			r = rec(i+1, j) || (j < len(b) && rec(i, j+1))
		case j < len(b) && b[j] == '*':
			r = rec(i, j+1) || (i < len(a) && rec(i+1, j))
		case i == len(a) || j == len(b):
			r = false
		default:
			r = (a[i] == '?' || b[j] == '?' || lower(a[i], f) == lower(b[j], f)) && rec(i+1, j+1)
		}
		if r {
			memo[k] = 1
		} else {
			memo[k] = -1
		}
		return r
	}
	return rec(0, 0)
}
