package secretscan

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	gh "github.com/steward-oss/steward/connectors/github"
	"github.com/steward-oss/steward/graph"
)

func reader(t *testing.T, tool, path string, opts connectors.Options) connectors.Reader {
	t.Helper()
	o := connectors.Options{"from": path}
	for k, v := range opts {
		o[k] = v
	}
	return connectortest.New(t, tool, o, connectors.Env{})
}

// secretsIn collects every secret-bearing field of a report, decoded and
// split into lines, so the suite can check none reaches the output.
func secretsIn(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(data, &objs); err != nil {
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				objs = append(objs, m)
			}
		}
	}
	var out []string
	add := func(s string) {
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); len(l) >= 8 && strings.Trim(l, "*") != "" && !strings.HasPrefix(l, "-----") {
				out = append(out, l)
			}
		}
	}
	for _, o := range objs {
		for _, k := range []string{"Secret", "Match", "Raw", "RawV2", "Redacted"} {
			if s, ok := o[k].(string); ok {
				add(s)
				if b, err := base64.StdEncoding.DecodeString(s); err == nil {
					add(string(b))
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no secrets found in %s: the leak check would be empty", path)
	}
	return out
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func byRule(t *testing.T, sgs []*graph.Subgraph, rule string) []graph.Node {
	t.Helper()
	var out []graph.Node
	for _, n := range sgs[0].Nodes {
		if n.Kind == graph.KindCredential && n.Attrs["rule"] == rule {
			out = append(out, n)
		}
	}
	return out
}

func deployKeyFingerprint(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../github/testdata/org/keys/deploy-infra.json")
	if err != nil {
		t.Fatal(err)
	}
	var keys []struct{ Key string }
	if err := json.Unmarshal(data, &keys); err != nil {
		t.Fatal(err)
	}
	fp, _, err := gh.SSHFingerprint(keys[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

func TestGitleaks(t *testing.T) {
	const path = "testdata/gitleaks-report.json"
	sgs := connectortest.Suite(t, func() connectors.Reader {
		return reader(t, "gitleaks", path, connectors.Options{"repo": "https://github.com/example-org/payments-api"})
	}, append(secretsIn(t, path), "AKIAIOSFODNN7EXAMPLE"))
	if sgs[0].Source != "gitleaks:gitleaks-report" {
		t.Fatalf("source %q", sgs[0].Source)
	}
	tests := []struct {
		rule, subtype, fingerprint, masked, prefix string
	}{
		{"aws-access-token", SubtypeAccessKey, sha("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE", "AKIA"},
		{"github-pat", SubtypePAT, sha("ghp_EXAMPLE0fake0token0EXAMPLE0fake0tok1"), "ghp_…tok1", "ghp_"},
		{"private-key", SubtypePrivateKey, deployKeyFingerprint(t), "", "ssh-ed25519"},
		{"slack-bot-token", SubtypeAPIToken, sha("xoxb-000000000000-0000000000000-EXAMPLEfakeEXAMPLEfake00"), "xoxb…ke00", "xoxb-"},
		{"generic-api-key", SubtypeSecret, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			ns := byRule(t, sgs, tt.rule)
			if len(ns) != 1 {
				t.Fatalf("%d findings", len(ns))
			}
			n := ns[0]
			if n.Subtype != tt.subtype || n.Attrs[graph.AttrFingerprint] != tt.fingerprint ||
				n.Attrs[graph.AttrKeyIDMasked] != tt.masked || n.Attrs[graph.AttrTokenPrefix] != tt.prefix {
				t.Errorf("got subtype %s fp %s masked %s prefix %s", n.Subtype, n.Attrs[graph.AttrFingerprint],
					n.Attrs[graph.AttrKeyIDMasked], n.Attrs[graph.AttrTokenPrefix])
			}
			if tt.fingerprint == "" && n.Attrs["fingerprint_unavailable"] == "" {
				t.Error("no reason given for the missing fingerprint")
			}
			leaks := connectortest.Edges(sgs, graph.EdgeLeaked, n.ID, "")
			if len(leaks) != 1 || leaks[0].Attrs["commit"] != "6f1b3a0c9d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a" || leaks[0].Attrs["file"] != n.Attrs["file"] {
				t.Fatalf("leaked_in = %+v", leaks)
			}
			file := connectortest.Find(t, sgs, leaks[0].To)
			if file.Kind != graph.KindResource || file.Attrs["github_repo"] != "github:example-org:repo/payments-api" {
				t.Errorf("file node %+v", file)
			}
		})
	}
	t.Run("redacted author e-mail dropped", func(t *testing.T) {
		if n := byRule(t, sgs, "slack-bot-token")[0]; n.Attrs["author_email"] != "" {
			t.Errorf("author_email %q", n.Attrs["author_email"])
		}
		if n := byRule(t, sgs, "aws-access-token")[0]; n.Attrs["author_email"] != "alice@example.com" || n.CreatedAt.IsZero() {
			t.Errorf("author %q date %v", n.Attrs["author_email"], n.CreatedAt)
		}
	})
}

func TestGitleaksUpstreamReports(t *testing.T) {
	t.Run("redacted baseline", func(t *testing.T) {
		sgs := connectortest.Suite(t, func() connectors.Reader { return reader(t, "gitleaks", "testdata/gitleaks-baseline.json", nil) }, nil)
		ns := byRule(t, sgs, "pypi-upload-token")
		if len(ns) != 2 {
			t.Fatalf("%d findings, want 2", len(ns))
		}
		for _, n := range ns {
			if n.Attrs[graph.AttrFingerprint] != "" || n.Attrs["fingerprint_unavailable"] != "report is redacted" {
				t.Errorf("%s attrs %v", n.ID, n.Attrs)
			}
			if !strings.HasPrefix(n.Attrs["scanner_fingerprint"], "9326f35380636bcbe61e94b0584d1618c4b5c2c2:detect/detect_test.go:") {
				t.Errorf("scanner fingerprint %q", n.Attrs["scanner_fingerprint"])
			}
		}
	})
	t.Run("json_simple", func(t *testing.T) {
		sgs := connectortest.Suite(t, func() connectors.Reader { return reader(t, "gitleaks", "testdata/gitleaks-json_simple.json", nil) },
			secretsIn(t, "testdata/gitleaks-json_simple.json"))
		n := byRule(t, sgs, "test-rule")[0]
		if !n.CreatedAt.IsZero() {
			t.Errorf("date 10-19-2003 guessed as %v", n.CreatedAt)
		}
	})
}

func TestTrufflehog(t *testing.T) {
	const path = "testdata/trufflehog-report.jsonl"
	sgs := connectortest.Suite(t, func() connectors.Reader { return reader(t, "trufflehog", path, nil) },
		append(secretsIn(t, path), "AKIAIOSFODNN7EXAMPLE"))
	if sgs[0].Source != "trufflehog:trufflehog-report" {
		t.Fatalf("source %q", sgs[0].Source)
	}
	if n := len(byRule(t, sgs, "URI")); n != 1 {
		t.Errorf("identical URI lines gave %d findings, want 1", n)
	}
	tests := []struct {
		rule, subtype, fingerprint, verified string
	}{
		{"AWS", SubtypeAccessKey, sha("AKIAIOSFODNN7EXAMPLE"), "true"},
		{"PrivateKey", SubtypePrivateKey, deployKeyFingerprint(t), "false"},
		{"Github", SubtypePAT, sha("ghp_EXAMPLE0fake0token0EXAMPLE0fake0tok1"), "false"},
		{"URI", SubtypeSecret, "", "false"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			n := byRule(t, sgs, tt.rule)[0]
			if n.Subtype != tt.subtype || n.Attrs[graph.AttrFingerprint] != tt.fingerprint || n.Attrs["verified"] != tt.verified {
				t.Errorf("subtype %s fp %s verified %s", n.Subtype, n.Attrs[graph.AttrFingerprint], n.Attrs["verified"])
			}
			if n.CreatedAt.Format("2006-01-02T15:04:05Z") != "2025-11-02T08:15:00Z" {
				t.Errorf("created_at %v", n.CreatedAt)
			}
			if n.Attrs["author_email"] != "alice@example.com" {
				t.Errorf("author %q", n.Attrs["author_email"])
			}
			file := connectortest.Find(t, sgs, connectortest.Edges(sgs, graph.EdgeLeaked, n.ID, "")[0].To)
			if file.Attrs["github_repo"] != "github:example-org:repo/payments-api" {
				t.Errorf("github_repo %q", file.Attrs["github_repo"])
			}
		})
	}
	t.Run("only public ExtraData kept", func(t *testing.T) {
		n := byRule(t, sgs, "AWS")[0]
		if n.Attrs[graph.AttrARN] != "arn:aws:iam::111122223333:user/deploy" || n.Attrs["aws_account"] != "111122223333" {
			t.Errorf("attrs %v", n.Attrs)
		}
		if _, ok := n.Attrs["resource_type"]; ok {
			t.Error("unlisted ExtraData kept")
		}
	})
}

// TestSharedSamples runs the public scanner outputs in shared/samples,
// which hold real canary secrets, and checks none reaches the graph.
func TestSharedSamples(t *testing.T) {
	dir := "../../../shared/samples/secrets"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("shared/samples/secrets not present")
	}
	tests := []struct {
		tool, file string
		findings   int
		rules      map[string]string // rule -> subtype expected
	}{
		{"gitleaks", "defectdojo-gitleaks-gitleaks8_many.json", 4, map[string]string{"RSA-PK": SubtypePrivateKey}},
		{"trufflehog", "defectdojo-trufflehog-v3_git.json", 3, map[string]string{"AWS": SubtypeAccessKey, "PrivateKey": SubtypePrivateKey, "URI": SubtypeSecret}},
		{"trufflehog", "defectdojo-trufflehog-v3_github.json", 3, map[string]string{"AWS": SubtypeAccessKey, "PrivateKey": SubtypePrivateKey}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			sgs := connectortest.Suite(t, func() connectors.Reader { return reader(t, tt.tool, path, nil) }, secretsIn(t, path))
			count := 0
			for _, n := range sgs[0].Nodes {
				if n.Kind == graph.KindCredential {
					count++
				}
			}
			if count != tt.findings {
				t.Errorf("%d findings, want %d", count, tt.findings)
			}
			for rule, sub := range tt.rules {
				ns := byRule(t, sgs, rule)
				if len(ns) == 0 || ns[0].Subtype != sub {
					t.Errorf("rule %s: %+v", rule, ns)
				}
				if sub == SubtypeAccessKey && len(ns[0].Attrs[graph.AttrFingerprint]) != 64 {
					t.Errorf("AWS finding has no fingerprint")
				}
			}
		})
	}
	t.Run("trufflehog private key yields its public key", func(t *testing.T) {
		sgs := connectortest.Read(t, reader(t, "trufflehog", filepath.Join(dir, "defectdojo-trufflehog-v3_git.json"), nil))
		n := byRule(t, sgs, "PrivateKey")[0]
		if !strings.HasPrefix(n.Attrs["ssh_fingerprint"], "SHA256:") || len(n.Attrs[graph.AttrFingerprint]) != 64 {
			t.Errorf("attrs %v", n.Attrs)
		}
	})
}

func TestBadInput(t *testing.T) {
	secret := "AKIAIOSFODNN7EXAMPLE"
	tests := []struct {
		name, tool, body string
		want             []string
	}{
		{"gitleaks truncated", "gitleaks", "[\n {\"RuleID\": \"aws-access-token\", \"Secret\": \"" + secret + "\"", []string{"report.json", "line 2", "unexpected end"}},
		{"gitleaks not an array", "gitleaks", `{"RuleID": "x"}`, []string{"report.json", "top level", "got object"}},
		{"gitleaks no rule", "gitleaks", `[{"RuleID": "x", "File": "a"}, {"File": "b", "Secret": "` + secret + `"}]`, []string{"report.json", "[1].RuleID", "empty"}},
		{"gitleaks no file", "gitleaks", `[{"RuleID": "x"}]`, []string{"report.json", "[0].File"}},
		{"gitleaks wrong type", "gitleaks", `[{"RuleID": "x", "File": "a", "StartLine": "three"}]`, []string{"report.json", "[0]", "StartLine"}},
		{"trufflehog bad line", "trufflehog", `{"DetectorName": "AWS", "SourceMetadata": {"Data": {"Git": {"file": "a"}}}}` + "\n\n" + `{"DetectorName": "AWS", "Raw": "` + secret + `"`, []string{"report.json:3", "unexpected end"}},
		{"trufflehog no detector", "trufflehog", `{"SourceMetadata": {"Data": {"Git": {"file": "a"}}}, "Raw": "` + secret + `"}`, []string{"report.json:1", "DetectorName"}},
		{"trufflehog no source", "trufflehog", `{"DetectorName": "AWS", "SourceMetadata": {"Data": {}}}`, []string{"report.json:1", "SourceMetadata.Data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := connectortest.WriteTemp(t, "report.json", tt.body)
			r := reader(t, tt.tool, path, nil)
			connectortest.Bad(t, r, tt.want...)
			if _, err := r.Read(context.Background()); err != nil && strings.Contains(err.Error(), secret) {
				t.Fatal("error message quotes the secret")
			}
		})
	}
}

func TestGitHubRepoID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/trufflesecurity/test_keys", "github:trufflesecurity:repo/test_keys"},
		{"https://github.com/trufflesecurity/test_keys.git", "github:trufflesecurity:repo/test_keys"},
		{"git@github.com:org/repo.git", "github:org:repo/repo"},
		{"github:org:repo/x", "github:org:repo/x"},
		{"https://gitlab.com/org/repo", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := GitHubRepoID(tt.in); got != tt.want {
				t.Errorf("got %q want %q", got, tt.want)
			}
		})
	}
}
