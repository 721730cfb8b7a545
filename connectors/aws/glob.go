package aws

// IAM patterns use two wildcards: '*' (any run of characters) and '?' (one
// character). Actions compare case-insensitively, resources (ARNs) exactly.
// Besides matching a concrete request, privilege analysis needs to compare
// two patterns with each other: whether one covers every string the other
// matches (a Deny of "s3:*" removes an Allow of "s3:Get*") and whether two
// patterns can match a common string (a NotAction list cuts into an Allow).

func foldByte(c byte, fold bool) byte {
	if fold && 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// globMatch reports whether s matches pattern p.
func globMatch(p, s string, fold bool) bool {
	// Iterative matcher with single backtrack point: linear in practice and
	// never recursive, so hostile patterns cannot blow the stack.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || (p[pi] != '*' && foldByte(p[pi], fold) == foldByte(s[si], fold))):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// globCovers reports whether every string matched by inner is also matched
// by outer. It is sound (true means covered) and exact for the patterns
// IAM policies use in practice. It fills the table of "outer[i:] covers
// inner[j:]" bottom-up, two rows at a time, so short patterns allocate
// nothing.
func globCovers(outer, inner string, fold bool) bool {
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
				r = (outer[i] == '?' || foldByte(outer[i], fold) == foldByte(inner[j], fold)) && next[j+1]
			}
			cur[j] = r
		}
		next, cur = cur, next
	}
	return next[0]
}

// globOverlap reports whether some string matches both a and b.
func globOverlap(a, b string, fold bool) bool {
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
			r = (a[i] == '?' || b[j] == '?' || foldByte(a[i], fold) == foldByte(b[j], fold)) && rec(i+1, j+1)
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
