package testgraph

import "testing"

func TestLoad(t *testing.T) {
	tests := []struct {
		path      string
		wantNodes bool
	}{
		{"../../query/testdata/small.jsonl", true},
		{"../../findings/changes/testdata/sync2.jsonl", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			sgs := Read(t, tt.path)
			ix := Load(t, tt.path)
			n := 0
			for _, sg := range sgs {
				n += len(sg.Nodes)
			}
			if (n > 0) != tt.wantNodes || ix == nil {
				t.Fatalf("%d nodes, index %v", n, ix)
			}
			if NewSource(ix).Index() != ix {
				t.Fatal("Source hands out another index")
			}
		})
	}
}
