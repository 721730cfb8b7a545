package server

import "testing"

// TestFindingsRoute: GET /v1/findings needs a key, runs the checks over
// the graph and rejects an unknown check with a 400 naming it.
func TestFindingsRoute(t *testing.T) {
	ts := newTestServer(t)
	if status, _, _ := do(t, ts, "GET", "/v1/findings", "", ""); status != 401 {
		t.Fatalf("no key: %d", status)
	}
	status, body, _ := do(t, ts, "GET", "/v1/findings", "foo", "")
	if status != 200 {
		t.Fatalf("status %d %v", status, body)
	}
	checks := body["checks"].([]any)
	if len(checks) != 12 || body["total"] == nil || body["findings"] == nil {
		t.Fatalf("body %v", body)
	}
	status, body, _ = do(t, ts, "GET", "/v1/findings?check=NHI5", "foo", "")
	if status != 200 || len(body["checks"].([]any)) != 3 {
		t.Fatalf("NHI5: %d %v", status, body)
	}
	for _, f := range body["findings"].([]any) {
		if o := f.(map[string]any)["owasp"]; o != "NHI5" {
			t.Errorf("NHI5 selected a finding of %v", o)
		}
	}
	status, body, _ = do(t, ts, "GET", "/v1/findings?check=NHI99", "foo", "")
	if status != 400 || body["code"] != "unknown_check" {
		t.Fatalf("unknown check: %d %v", status, body)
	}
}
