package glob

import "testing"

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
