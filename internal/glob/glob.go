// Package glob matches the wildcard patterns cloud policies use: '*' for
// any run of characters (including none) and '?' for exactly one, with no
// character classes or escapes, as in IAM actions and resources.
package glob

import "strings"

// Match reports whether s matches pattern; fold ignores case (IAM action
// names are case-insensitive, resource ARNs are not).
func Match(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// Iterative matching with one backtrack point: the last '*' seen and
	// the position in s it currently absorbs up to. Linear in practice,
	// never exponential on patterns with many stars.
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
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
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
