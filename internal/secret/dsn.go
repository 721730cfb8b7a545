package secret

import "regexp"

var (
	urlUserinfo   = regexp.MustCompile(`://[^/@\s]*@`)
	passwordParam = regexp.MustCompile(`(?i)(password=)[^&\s]*`)
)

// MaskDSN removes the credentials from text that may hold a connection
// string: URL user info ("postgres://u:pw@h/d" becomes "postgres://…@h/d")
// and password= parameters, in URL queries and key=value DSNs alike. The
// user name goes too: with the host it names the account to attack.
func MaskDSN(s string) string {
	s = urlUserinfo.ReplaceAllString(s, "://…@")
	return passwordParam.ReplaceAllString(s, "${1}…")
}
