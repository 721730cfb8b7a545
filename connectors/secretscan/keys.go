package secretscan

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"

	"github.com/steward-oss/steward/internal/secret"
	"golang.org/x/crypto/ssh"
)

// Credential subtypes of findings.
const (
	SubtypeAccessKey  = "access_key"
	SubtypePAT        = "pat"
	SubtypeOAuthToken = "oauth_token"
	SubtypeAppToken   = "app_token"
	SubtypeAPIToken   = "api_token"
	SubtypePrivateKey = "private_key"
	SubtypeSecret     = "secret" // no recognisable id: nothing to match on
)

// ident is what can be said about a secret without keeping it.
type ident struct {
	subtype     string
	fingerprint string // hex sha256 of the public id part; "" when none
	masked      string // "AKIA…WXYZ"
	prefix      string // non-secret prefix ("AKIA", "ghp_", "xoxb-")
	sshFP       string // "SHA256:…" for keys
	note        string // why there is no fingerprint
}

var (
	// AWS access key ids: the id is public (it appears in CloudTrail), so
	// its hash is what the AWS connector stores too.
	awsKeyID = regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16})\b`)
	// GitHub tokens: ghp_ classic PAT, github_pat_ fine-grained, gho_
	// OAuth, ghu_/ghs_ app user/installation, ghr_ refresh.
	ghToken = regexp.MustCompile(`\b(github_pat_[A-Za-z0-9_]{22,}|gh[pousr]_[A-Za-z0-9]{36,})\b`)
	slack   = regexp.MustCompile(`\b(xox[abposr]-[0-9A-Za-z-]{10,})`)
	pemKey  = regexp.MustCompile(`-----BEGIN[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----`)
)

// identify inspects candidate secret strings (the scanner's secret, its
// match, a decoded raw value) and returns what can be kept. The inputs
// are never stored.
func identify(candidates ...string) ident {
	var all []string
	for _, c := range candidates {
		if c == "" {
			continue
		}
		all = append(all, c)
		// Keys embedded in source code carry literal "\n" escapes.
		if strings.Contains(c, `\n`) {
			all = append(all, strings.ReplaceAll(c, `\n`, "\n"))
		}
	}
	for _, c := range all {
		if m := awsKeyID.FindStringSubmatch(c); m != nil {
			return ident{subtype: SubtypeAccessKey, fingerprint: sum(m[1]), masked: secret.Mask(m[1]), prefix: m[1][:4]}
		}
	}
	for _, c := range all {
		if loc := pemKey.FindStringIndex(c); loc != nil {
			id := ident{subtype: SubtypePrivateKey}
			pub, err := publicKey(c[loc[0]:])
			if err != nil {
				id.note = "private key not parseable: " + err.Error()
				continue
			}
			blob := pub.Marshal()
			h := sha256.Sum256(blob)
			id.fingerprint = hex.EncodeToString(h[:])
			id.sshFP = ssh.FingerprintSHA256(pub)
			id.prefix = pub.Type()
			return id
		}
	}
	for _, c := range all {
		if m := ghToken.FindStringSubmatch(c); m != nil {
			tok := m[1]
			id := ident{fingerprint: sum(tok), masked: secret.Mask(tok)}
			switch {
			case strings.HasPrefix(tok, "github_pat_"):
				id.subtype, id.prefix = SubtypePAT, "github_pat_"
			case strings.HasPrefix(tok, "ghp_"):
				id.subtype, id.prefix = SubtypePAT, "ghp_"
			case strings.HasPrefix(tok, "gho_"):
				id.subtype, id.prefix = SubtypeOAuthToken, "gho_"
			default:
				id.subtype, id.prefix = SubtypeAppToken, tok[:4]
			}
			return id
		}
		if m := slack.FindStringSubmatch(c); m != nil {
			tok := m[1]
			return ident{subtype: SubtypeAPIToken, fingerprint: sum(tok), masked: secret.Mask(tok), prefix: tok[:5]}
		}
	}
	for _, c := range all {
		if pemKey.MatchString(c) {
			return ident{subtype: SubtypePrivateKey, note: "private key not parseable (redacted or truncated)"}
		}
	}
	return ident{subtype: SubtypeSecret, note: "no public id part to fingerprint"}
}

// publicKey derives the public half of a PEM/OpenSSH private key. An
// encrypted OpenSSH key still carries its public key in clear.
func publicKey(pemText string) (ssh.PublicKey, error) {
	signer, err := ssh.ParsePrivateKey([]byte(pemText))
	if err == nil {
		return signer.PublicKey(), nil
	}
	var pm *ssh.PassphraseMissingError
	if errors.As(err, &pm) && pm.PublicKey != nil {
		return pm.PublicKey, nil
	}
	// Never wrap err: x/crypto errors can quote key material.
	return nil, errors.New("unsupported or damaged key")
}

// decodeRaw returns s and, when s is standard base64 (TruffleHog's Raw as
// some exporters write it), its decoding.
func decodeRaw(s string) []string {
	out := []string{s}
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err == nil && len(b) > 0 {
		out = append(out, string(b))
	}
	return out
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
