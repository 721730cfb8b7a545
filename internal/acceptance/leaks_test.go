package acceptance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/steward-oss/steward/graph"
)

// iamFake answers the IAM Query API (form POST, XML) from the recorded
// responses in testdata/aws-live, so `steward load aws --live` runs the
// real aws-sdk-go-v2 client against it.
type iamFake struct{}

var safeName = regexp.MustCompile(`^[A-Za-z0-9._-]*$`)

func (iamFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f := r.PostForm
	var file string
	switch f.Get("Action") {
	case "GetAccountAuthorizationDetails":
		file = map[string]string{"": "1", "AAEAAZEXAMPLEMARKER1": "2", "AAEAAZEXAMPLEMARKER2": "3"}[f.Get("Marker")]
		file = "GetAccountAuthorizationDetails-" + file
	case "GenerateCredentialReport":
		file = "GenerateCredentialReport-COMPLETE"
	case "GetCredentialReport":
		file = "GetCredentialReport"
	case "ListAccessKeys":
		file = "ListAccessKeys-" + f.Get("UserName")
	case "GetAccessKeyLastUsed":
		file = "GetAccessKeyLastUsed-" + map[string]string{
			"AKIAIOSFODNN7EXAMPLE": "deploy-bot-1", "AKIAI44QH8DHBEXAMPLE": "deploy-bot-2", "AKIAJEXAMPLEETLKEY01": "etl-1",
		}[f.Get("AccessKeyId")]
	case "GetRole":
		file = "GetRole-" + f.Get("RoleName")
	}
	body, err := os.ReadFile(filepath.Join("testdata", "aws-live", file+".xml"))
	if file == "" || !safeName.MatchString(file) || err != nil {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>no recorded response</Message></Error><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>`)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Write(body)
}

// TestLeakedAWSKeyStillActive: a gitleaks finding of an access key id joins
// the key that `steward load aws --live` read, by fingerprint, across
// sources.
func TestLeakedAWSKeyStillActive(t *testing.T) {
	srv := httptest.NewServer(iamFake{})
	defer srv.Close()
	// The SDK's default chain reads these; nothing of the machine's own
	// AWS configuration is used.
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSTEWARDACCEPTANCE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "acceptance/test/not-a-real-secret/00")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	e := newEnv(t)
	e.load("aws", "--live", "--endpoint", srv.URL, "--region", "us-east-1")
	e.load("github", "--org", "octokit-fixture-org", "--from", fixture("github"))
	e.load("gitleaks", "--from", fixture("secretscan", "gitleaks-report.json"), "--repo", "https://github.com/octokit-fixture-org/deploy-infra")
	x := parseExport(t, e.export())

	// The key node id carries the masked id and 12 hex of its SHA-256
	// (connectors/aws README). deploy-bot's AKIAIOSFODNN7EXAMPLE is
	// Active; AKIAI44QH8DHBEXAMPLE, never leaked, is Inactive.
	sum := sha256.Sum256([]byte("AKIAIOSFODNN7EXAMPLE"))
	awsKey := "aws:111122223333:access-key/deploy-bot/AKIA…MPLE/" + hex.EncodeToString(sum[:])[:12]
	if _, ok := x.nodes[awsKey]; !ok {
		t.Fatalf("live load has no node %s", awsKey)
	}
	a, ok := e.ask("leaked keys still active")
	if !ok {
		t.Fatal("the planner refused the question")
	}
	sameSet(t, "leaked keys still active", ids(t, a), []string{awsKey, "github:octokit-fixture-org:deploy_key/101"})
	checkEvidenceExported(t, a, x)
	for r := range a.Rows {
		var leak bool
		for _, ev := range a.Evidence[r] {
			leak = leak || ev.Kind == graph.EdgeLeaked
		}
		if !leak {
			t.Errorf("row %s: no leaked_in evidence", cell(t, a, r, "id"))
		}
	}
	noSecrets(t, e.export())
}
