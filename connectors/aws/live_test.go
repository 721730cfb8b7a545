package aws

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

// Fake credentials and AWS's documented example key ids; none is real.
const (
	testAccessKey = "AKIDSTEWARDTESTONLY1"
	testSecretKey = "steward/test/secret/not-a-real-key/0000"
	deployKey1    = "AKIAIOSFODNN7EXAMPLE"
	deployKey2    = "AKIAI44QH8DHBEXAMPLE"
	etlKey        = "AKIAJEXAMPLEETLKEY01"
)

// iamServer speaks enough of the IAM Query API (form-encoded POST, XML
// responses recorded in testdata/live) for the live reader.
type iamServer struct {
	t         *testing.T
	mu        sync.Mutex
	calls     []string
	generated int
	failOn    string // an Action answered with an AccessDenied error
}

var lastUsedFiles = map[string]string{deployKey1: "deploy-bot-1", deployKey2: "deploy-bot-2", etlKey: "etl-1"}

var pageMarkers = map[string]string{"": "1", "AAEAAZEXAMPLEMARKER1": "2", "AAEAAZEXAMPLEMARKER2": "3"}

func (s *iamServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+testAccessKey+"/") || !strings.Contains(auth, "/iam/aws4_request") {
		s.fail(w, http.StatusForbidden, "IncompleteSignature", "request not signed with the test credentials for iam")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	action := r.PostForm.Get("Action")
	if r.PostForm.Get("Version") != "2010-05-08" {
		s.fail(w, http.StatusBadRequest, "InvalidAction", "bad version")
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, action+" "+r.PostForm.Get("Marker")+r.PostForm.Get("UserName")+r.PostForm.Get("RoleName"))
	s.generated += map[bool]int{true: 1}[action == "GenerateCredentialReport"]
	gen := s.generated
	s.mu.Unlock()
	if action == s.failOn {
		s.fail(w, http.StatusForbidden, "AccessDenied", "User is not authorized to perform: iam:"+action)
		return
	}
	var file string
	switch action {
	case "GetAccountAuthorizationDetails":
		n, ok := pageMarkers[r.PostForm.Get("Marker")]
		if !ok {
			s.fail(w, http.StatusBadRequest, "InvalidInput", "bad marker")
			return
		}
		file = "GetAccountAuthorizationDetails-" + n
	case "GenerateCredentialReport":
		file = "GenerateCredentialReport-COMPLETE"
		if gen == 1 {
			file = "GenerateCredentialReport-STARTED"
		}
	case "GetCredentialReport":
		file = "GetCredentialReport"
	case "ListAccessKeys":
		file = "ListAccessKeys-" + r.PostForm.Get("UserName")
	case "GetAccessKeyLastUsed":
		file = "GetAccessKeyLastUsed-" + lastUsedFiles[r.PostForm.Get("AccessKeyId")]
	case "GetRole":
		file = "GetRole-" + r.PostForm.Get("RoleName")
	default:
		s.fail(w, http.StatusBadRequest, "InvalidAction", "unexpected action "+action)
		return
	}
	body, err := os.ReadFile(filepath.Join("testdata", "live", file+".xml"))
	if err != nil {
		s.fail(w, http.StatusNotFound, "NoSuchEntity", "no recorded response "+file)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Write(body)
}

func (s *iamServer) fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>`, code, msg)
}

// liveEnv points the SDK's default credential chain at static test
// credentials and away from any real configuration on the machine.
func liveEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func newLiveReader(t *testing.T, srv *httptest.Server) connectors.Reader {
	t.Helper()
	return newLiveReaderOpts(t, srv, nil)
}

func newLiveReaderOpts(t *testing.T, srv *httptest.Server, extra connectors.Options) connectors.Reader {
	t.Helper()
	opts := connectors.Options{OptLive: "true", OptEndpoint: srv.URL, OptRegion: "us-east-1"}
	for k, v := range extra {
		opts[k] = v
	}
	r, err := connectors.New("aws", opts, quietEnv)
	if err != nil {
		t.Fatal(err)
	}
	r.(*Reader).reportPoll = 0 // the fake report is ready on the second call
	return r
}

func TestLive(t *testing.T) {
	liveEnv(t)
	var servers []*iamServer
	newReader := func() connectors.Reader {
		s := &iamServer{t: t}
		servers = append(servers, s)
		srv := httptest.NewServer(s)
		t.Cleanup(srv.Close)
		return newLiveReader(t, srv)
	}
	sgs := connectortest.Suite(t, newReader, []string{deployKey1, deployKey2, etlKey, testSecretKey})

	t.Run("calls", func(t *testing.T) {
		// The SDK may retry a call after a transport error, so count the
		// distinct pages asked for rather than requests.
		s := servers[0]
		markers := map[string]bool{}
		gens := 0
		for _, c := range s.calls {
			if m, ok := strings.CutPrefix(c, "GetAccountAuthorizationDetails "); ok {
				markers[m] = true
			}
			if strings.HasPrefix(c, "GenerateCredentialReport") {
				gens++
			}
		}
		if len(markers) != 3 || !markers["AAEAAZEXAMPLEMARKER1"] || !markers["AAEAAZEXAMPLEMARKER2"] || gens < 2 {
			t.Errorf("pages by marker = %v (want first, MARKER1, MARKER2), report generations = %d (want >= 2); calls %v", markers, gens, s.calls)
		}
	})

	k1 := awsid.AccessKeyNodeID(acct, "deploy-bot", deployKey1)
	tests := []struct {
		name     string
		id       string
		status   string
		lastUsed time.Time
		attrs    map[string]string
	}{
		{"active key by id", k1, graph.StatusActive, time.Date(2026, 11, 23, 18, 42, 0, 0, time.UTC), map[string]string{
			graph.AttrKeyIDMasked: "AKIA…MPLE", graph.AttrFingerprint: awsid.KeyFingerprint(deployKey1), attrLastUsedRegion: "eu-west-1", attrLastUsedService: "s3"}},
		{"inactive key", awsid.AccessKeyNodeID(acct, "deploy-bot", deployKey2), graph.StatusDisabled, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{"never used key, N/A region dropped", awsid.AccessKeyNodeID(acct, "etl", etlKey), graph.StatusActive, time.Time{}, map[string]string{attrLastUsedRegion: ""}},
		{"role last used from GetRole", id("role/partner-audit"), "", time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC), nil},
		{"role last used from authorization details", id("role/github-deploy"), "", time.Date(2026, 11, 20, 14, 3, 11, 0, time.UTC), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := connectortest.Find(t, sgs, tc.id)
			if tc.status != "" && n.Status != tc.status {
				t.Errorf("status = %s, want %s", n.Status, tc.status)
			}
			if !n.LastUsedAt.Equal(tc.lastUsed) {
				t.Errorf("last used = %v, want %v", n.LastUsedAt, tc.lastUsed)
			}
			connectortest.HasAttrs(t, n.Attrs, tc.attrs)
		})
	}
	t.Run("key ids never appear in node ids", func(t *testing.T) {
		if strings.Contains(k1, deployKey1) {
			t.Fatalf("node id %q holds the full key id", k1)
		}
		if len(connectortest.Edges(sgs, graph.EdgeHasCredential, id("user/deploy-bot"), k1)) != 1 {
			t.Error("deploy-bot does not hold its key")
		}
		for _, sg := range sgs {
			for _, n := range sg.Nodes {
				// legacy-sync is in the report, but the server answers
				// NoSuchEntity for its keys, as for a user deleted since.
				if strings.Contains(n.ID, "access-key/") && strings.Contains(n.ID, "/slot-") && !strings.Contains(n.ID, "/legacy-sync/") {
					t.Errorf("live read emitted a slot key %s; ids are known", n.ID)
				}
			}
		}
	})
	t.Run("same grants as the file path", func(t *testing.T) {
		files := connectortest.Read(t, newFileReader(t, fixtureOpts()))
		want := connectortest.Edges(files, graph.EdgeGrants, "", "")
		got := connectortest.Edges(sgs, graph.EdgeGrants, "", "")
		if len(want) != len(got) {
			t.Fatalf("live grants = %d, file grants = %d", len(got), len(want))
		}
		for i := range want {
			if want[i].Key() != got[i].Key() || want[i].Privilege != got[i].Privilege || want[i].Conditional != got[i].Conditional {
				t.Errorf("grant %d: live %+v, file %+v", i, got[i], want[i])
			}
		}
	})
}

func TestLiveErrors(t *testing.T) {
	liveEnv(t)
	for _, action := range []string{"GetAccountAuthorizationDetails", "GetCredentialReport", "ListAccessKeys", "GetAccessKeyLastUsed", "GetRole"} {
		t.Run(action, func(t *testing.T) {
			srv := httptest.NewServer(&iamServer{t: t, failOn: action})
			defer srv.Close()
			connectortest.Bad(t, newLiveReader(t, srv), action, "AccessDenied")
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		srv := httptest.NewServer(&iamServer{t: t})
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := newLiveReader(t, srv).Read(ctx); err == nil {
			t.Fatal("read with a cancelled context succeeded")
		}
	})
}

// With CloudTrail, a long-term key's used edges start at the very node
// the live reader emitted for that key.
func TestLiveWithCloudTrail(t *testing.T) {
	liveEnv(t)
	srv := httptest.NewServer(&iamServer{t: t})
	defer srv.Close()
	sgs := connectortest.Read(t, newLiveReaderOpts(t, srv, connectors.Options{OptCloudTrail: "../cloudtrail/testdata/fixtures"}))
	key := awsid.AccessKeyNodeID(acct, "deploy-bot", deployKey1)
	connectortest.Find(t, sgs, key)
	tests := []struct{ name, from, action string }{
		{"deploy-bot key", key, "s3:PutObject"},
		{"etl key from lookup-events", awsid.AccessKeyNodeID(acct, "etl", etlKey), "dynamodb:CreateTable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			connectortest.Find(t, sgs, tc.from)
			var n int
			for _, e := range connectortest.Edges(sgs, graph.EdgeUsed, tc.from, "") {
				if e.Action == tc.action {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("want one used edge %s from key node, got %d", tc.action, n)
			}
		})
	}
}
