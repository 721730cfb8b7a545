package glob

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		fold, want bool
	}{
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"iam:*", "iam:PassRole", false, true},
		{"iam:pass*", "iam:PassRole", false, false},
		{"iam:pass*", "iam:PassRole", true, true},
		{"s3:Get?bject", "s3:GetObject", false, true},
		{"s3:Get?bject", "s3:GetObbject", false, false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/", false, true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::c/x", false, false},
		{"a*b*c", "axxbyyc", false, true},
		{"a*b*c", "axxbyy", false, false},
		{"*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
		{"", "", false, true},
		{"", "x", false, false},
		{"x", "", false, false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.s, tt.fold); got != tt.want {
			t.Errorf("Match(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.fold, got, tt.want)
		}
	}
}

// TestCoversOverlaps carries connectors/aws' TestGlob, whose globMatch,
// globCovers and globOverlap moved here.
func TestCoversOverlaps(t *testing.T) {
	tests := []struct {
		name                   string
		a, b                   string
		fold                   bool
		match, covers, overlap bool
	}{
		{"star covers all", "*", "s3:GetObject", true, true, true, true},
		{"service wildcard", "s3:*", "s3:GetObject", true, true, true, true},
		{"case folding", "S3:Get*", "s3:getobject", true, true, true, true},
		{"no folding for ARNs", "arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x", false, false, false, false},
		{"question mark", "s3:Get?bject", "s3:GetObject", true, true, true, true},
		{"pattern covers pattern", "s3:*", "s3:Get*", true, true, true, true},
		{"narrower does not cover wider", "s3:Get*", "s3:*", true, false, false, true},
		{"disjoint", "s3:Get*", "s3:Put*", true, false, false, false},
		{"partial overlap", "s3:*Object", "s3:Get*", true, false, false, true},
		{"star covers star", "*", "*", true, true, true, true},
		{"same pattern covers itself", "a*b", "a*b", true, true, true, true},
		{"question mark covers literal", "a?c", "abc", true, true, true, true},
		{"literal does not cover question mark", "abc", "a?c", true, false, false, true},
		{"star covers empty", "*", "", true, true, true, true},
		{"question mark needs a character", "?", "", true, false, false, false},
		{"long patterns use the heap path", "arn:aws:s3:::" + strings.Repeat("x", 80) + "/*", "arn:aws:s3:::" + strings.Repeat("x", 80) + "/k/*", false, true, true, true},
		{"non-ASCII folds too", "Zoë-*", "zoË-bot", true, true, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Match(tc.a, tc.b, tc.fold); got != tc.match {
				t.Errorf("Match = %v, want %v", got, tc.match)
			}
			if got := Covers(tc.a, tc.b, tc.fold); got != tc.covers {
				t.Errorf("Covers = %v, want %v", got, tc.covers)
			}
			if got := Overlaps(tc.a, tc.b, tc.fold); got != tc.overlap {
				t.Errorf("Overlaps = %v, want %v", got, tc.overlap)
			}
		})
	}
}

// TestDisagreements are the inputs on which the four matchers this
// package replaced answered differently: connectors/aws' globMatch (byte
// folding, ASCII only), graph/derive/usage's (always folded, also for
// Kubernetes resource names), query's (path.Match: '[' classes, '\'
// escapes, a bad pattern never matches) and this package's first Match
// (a '*' in s was taken literally before trying it as a wildcard).
func TestDisagreements(t *testing.T) {
	tests := []struct {
		name, pattern, s string
		fold, want       bool
		was              string
	}{
		{"bracket is literal", "s3:Get[O]bject", "s3:GetObject", true, false, "query true (character class)"},
		{"bracket matches itself", "arn:aws:s3:::logs[1]/*", "arn:aws:s3:::logs[1]/a", false, true, "query false (class [1] wants '1')"},
		{"unclosed bracket", "arn:aws:s3:::b[*", "arn:aws:s3:::b[x", false, true, "query false (bad pattern)"},
		{"backslash is literal", `s3:Get\*`, `s3:Get\Object`, true, true, `query false (\* escaped the star)`},
		{"backslash does not escape", `s3:Get\*`, "s3:Get*", true, false, `query true (\* matched a literal star)`},
		{"star spans slash", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", false, true, "all agreed (query by replacing '/')"},
		{"kubernetes resource case", "Pods", "pods", false, false, "usage true (folded resources)"},
		{"iam action case", "S3:GETOBJECT", "s3:GetObject", true, true, "all agreed"},
		{"non-ASCII action case", "É:*", "é:x", true, true, "aws false (ASCII-only folding)"},
		{"star in the subject", "*a", "*xa", false, true, "first internal/glob false (literal '*' first, no backtrack)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.pattern, tt.s, tt.fold); got != tt.want {
				t.Errorf("Match(%q, %q, %v) = %v, want %v (before: %s)", tt.pattern, tt.s, tt.fold, got, tt.want, tt.was)
			}
		})
	}
}
