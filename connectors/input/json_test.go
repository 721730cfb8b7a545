package input

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDescribeJSON(t *testing.T) {
	bad := []byte("{\n  \"a\": 1,\n  x}")
	var v map[string]any
	if got := DescribeJSON(bad, json.Unmarshal(bad, &v)).Error(); got != "line 3 col 4: invalid character 'x' looking for beginning of object key string" {
		t.Errorf("syntax: %s", got)
	}
	var typed struct{ N int }
	wrong := []byte(`{"N": "secret-value"}`)
	if got := DescribeJSON(wrong, json.Unmarshal(wrong, &typed)).Error(); got != "field N: want int, got string" {
		t.Errorf("type: %s", got)
	}
}

func TestBadField(t *testing.T) {
	type item struct {
		Name    string    `json:"name"`
		Created time.Time `json:"created"`
	}
	if got := BadField[item](json.RawMessage(`{"name": "a", "created": "yesterday"}`)); got != ".created" {
		t.Errorf("BadField = %q, want .created", got)
	}
	if got := BadField[item](json.RawMessage(`[1]`)); got != "" {
		t.Errorf("BadField of a non-object = %q", got)
	}
}
