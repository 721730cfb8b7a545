package secretscan

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors/input"
	"github.com/steward-oss/steward/graph"
)

// finding is one scanner hit reduced to what may be kept. It holds no
// secret: parse functions call identify and drop the raw values.
type finding struct {
	rule, description string
	file, commit      string
	line              int
	repo              string // URL or node id of the scanned repository, when known
	link              string
	date              time.Time
	verified          *bool
	findingID         string // the scanner's own finding fingerprint (gitleaks), not secret
	authorEmail       string
	extra             map[string]string // non-secret detector facts (AWS account, ARN)
	id                ident
	dedupe            [32]byte // hash over location and secret; never stored
}

// gitleaksFinding is one element of a gitleaks v8 JSON report.
type gitleaksFinding struct {
	RuleID      string
	Description string
	StartLine   int
	StartColumn int
	Match       string
	Secret      string
	File        string
	SymlinkFile string
	Commit      string
	Author      string
	Email       string
	Date        string
	Tags        []string
	Fingerprint string
}

func parseGitleaks(file string, data []byte) ([]finding, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("gitleaks: %s: %w", file, input.DescribeJSON(data, err))
	}
	var out []finding
	for i, r := range raw {
		var g gitleaksFinding
		if err := json.Unmarshal(r, &g); err != nil {
			return nil, fmt.Errorf("gitleaks: %s: [%d]: %w", file, i, input.DescribeJSON(r, err))
		}
		switch {
		case g.RuleID == "":
			return nil, fmt.Errorf("gitleaks: %s: [%d].RuleID: empty", file, i)
		case g.File == "":
			return nil, fmt.Errorf("gitleaks: %s: [%d].File: empty", file, i)
		}
		f := finding{rule: g.RuleID, description: g.Description, file: strings.TrimPrefix(g.File, "/"),
			commit: g.Commit, line: g.StartLine, findingID: g.Fingerprint,
			id: identify(redactedOr(g.Secret), redactedOr(g.Match))}
		if isRedacted(g.Secret) {
			f.id.note = "report is redacted"
		}
		if e := strings.TrimSpace(g.Email); e != "" && !isRedacted(e) {
			f.authorEmail = strings.ToLower(e)
		}
		f.date = parseDate(g.Date)
		f.dedupe = sha256.Sum256([]byte(strings.Join([]string{g.RuleID, g.File, g.Commit,
			strconv.Itoa(g.StartLine), strconv.Itoa(g.StartColumn), g.Secret}, "\x00")))
		out = append(out, f)
	}
	return out, nil
}

// trufflehogFinding is one line of `trufflehog ... --json`.
type trufflehogFinding struct {
	SourceMetadata struct {
		Data map[string]struct {
			Commit     string `json:"commit"`
			File       string `json:"file"`
			Email      string `json:"email"`
			Repository string `json:"repository"`
			Link       string `json:"link"`
			Timestamp  string `json:"timestamp"`
			Line       int    `json:"line"`
		}
	}
	SourceName   string
	DetectorName string
	DecoderName  string
	Verified     bool
	Raw          string
	RawV2        string
	Redacted     string
	ExtraData    map[string]any
}

// extraKeys are the ExtraData fields known to be public facts. Others
// (some detectors put usernames or partial secrets there) are dropped.
var extraKeys = map[string]string{"account": "aws_account", "arn": graph.AttrARN, "user_id": "aws_user_id"}

func parseTrufflehog(file string, data []byte) ([]finding, error) {
	var out []finding
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var t trufflehogFinding
		if err := json.Unmarshal(text, &t); err != nil {
			return nil, fmt.Errorf("trufflehog: %s:%d: %w", file, line, input.DescribeJSON(text, err))
		}
		if t.DetectorName == "" {
			return nil, fmt.Errorf("trufflehog: %s:%d: DetectorName: empty", file, line)
		}
		if len(t.SourceMetadata.Data) != 1 {
			return nil, fmt.Errorf("trufflehog: %s:%d: SourceMetadata.Data: want one source, got %d", file, line, len(t.SourceMetadata.Data))
		}
		f := finding{rule: t.DetectorName, description: t.SourceName}
		for kind, d := range t.SourceMetadata.Data {
			f.file, f.commit, f.line, f.repo, f.link = d.File, d.Commit, d.Line, d.Repository, d.Link
			f.date = parseDate(d.Timestamp)
			if m := emailRE.FindString(d.Email); m != "" {
				f.authorEmail = strings.ToLower(m)
			}
			if f.file == "" {
				f.file = strings.ToLower(kind)
			}
		}
		v := t.Verified
		f.verified = &v
		cands := append(decodeRaw(t.Raw), decodeRaw(t.RawV2)...)
		f.id = identify(cands...)
		for k, v := range t.ExtraData {
			if name, ok := extraKeys[k]; ok {
				if s, ok := v.(string); ok && s != "" {
					if f.extra == nil {
						f.extra = map[string]string{}
					}
					f.extra[name] = s
				}
			}
		}
		f.dedupe = sha256.Sum256(text)
		out = append(out, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trufflehog: %s:%d: %w", file, line+1, err)
	}
	return out, nil
}

var emailRE = regexp.MustCompile(`[^\s<>]+@[^\s<>]+`)

// build turns findings into the report's subgraph: a credential node per
// distinct finding and a leaked_in edge to a file node.
func build(src, repo string, fs []finding) *graph.Subgraph {
	sg := &graph.Subgraph{Source: src}
	seen := map[[32]byte]bool{}
	files := map[string]graph.Node{}
	n := 0
	for _, f := range fs {
		if seen[f.dedupe] {
			continue // TruffleHog repeats identical lines
		}
		seen[f.dedupe] = true
		n++
		if f.repo == "" {
			f.repo = repo
		}
		id := fmt.Sprintf("%s:finding/%d", src, n)
		attrs := map[string]string{"rule": f.rule, "file": f.file}
		set := func(k, v string) {
			if v != "" {
				attrs[k] = v
			}
		}
		set("description", f.description)
		set("commit", f.commit)
		set("repo", f.repo)
		set("link", f.link)
		set("scanner_fingerprint", f.findingID)
		set("author_email", f.authorEmail)
		set(graph.AttrFingerprint, f.id.fingerprint)
		set(graph.AttrKeyIDMasked, f.id.masked)
		set(graph.AttrTokenPrefix, f.id.prefix)
		set("ssh_fingerprint", f.id.sshFP)
		set("fingerprint_unavailable", f.id.note)
		if f.line > 0 {
			attrs["line"] = strconv.Itoa(f.line)
		}
		if f.verified != nil {
			attrs["verified"] = strconv.FormatBool(*f.verified)
		}
		for k, v := range f.extra {
			attrs[k] = v
		}
		name := f.rule + " in " + f.file
		if f.id.masked != "" {
			name = f.id.masked + " (" + f.rule + ") in " + f.file
		}
		sg.AddNode(graph.Node{ID: id, Kind: graph.KindCredential, Subtype: f.id.subtype, Name: name,
			CreatedAt: f.date, Attrs: attrs})

		fileID := src + ":file/" + f.file
		if f.repo != "" {
			fileID = src + ":file/" + strings.TrimSuffix(f.repo, ".git") + "/" + f.file
		}
		if _, ok := files[fileID]; !ok {
			fa := map[string]string{"path": f.file}
			if f.repo != "" {
				fa["repo"] = f.repo
				if gid := GitHubRepoID(f.repo); gid != "" {
					fa["github_repo"] = gid
				}
			}
			files[fileID] = graph.Node{ID: fileID, Kind: graph.KindResource, Subtype: "file", Name: f.file, Attrs: fa}
		}
		ea := map[string]string{"rule": f.rule, "file": f.file}
		if f.commit != "" {
			ea["commit"] = f.commit
		}
		if f.line > 0 {
			ea["line"] = strconv.Itoa(f.line)
		}
		sg.AddEdge(graph.Edge{From: id, To: fileID, Kind: graph.EdgeLeaked, Attrs: ea})
	}
	for _, k := range slices.Sorted(maps.Keys(files)) {
		sg.AddNode(files[k])
	}
	return sg
}

var githubURL = regexp.MustCompile(`^(?:https?://|git@)github\.com[/:]([^/]+)/([^/]+?)(?:\.git)?/?$`)

// GitHubRepoID maps a github.com repository URL to the github connector's
// repo node id "github:<org>:repo/<name>"; "" for anything else. A value
// that already is such an id is returned as is.
func GitHubRepoID(repo string) string {
	if strings.HasPrefix(repo, "github:") && strings.Contains(repo, ":repo/") {
		return repo
	}
	m := githubURL.FindStringSubmatch(repo)
	if m == nil {
		return ""
	}
	return "github:" + m[1] + ":repo/" + m[2]
}

// isRedacted reports a value the scanner already blanked (--redact).
func isRedacted(s string) bool {
	t := strings.Trim(s, "*")
	return s != "" && (t == "" || s == "REDACTED")
}

func redactedOr(s string) string {
	if isRedacted(s) {
		return ""
	}
	return s
}

// parseDate accepts the date forms scanners write: RFC 3339 (gitleaks),
// git's "2006-01-02 15:04:05 -0700" with the offset repeated
// (TruffleHog). Anything else (gitleaks' test "10-19-2003") is left unset
// rather than guessed.
func parseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC()
	}
	if len(s) >= 25 {
		if t, err := time.Parse("2006-01-02 15:04:05 -0700", s[:25]); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
