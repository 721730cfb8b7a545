package planner

import (
	"encoding/json"
	"testing"
)

func TestEscalationQuestions(t *testing.T) {
	all := `{"version":1,"filters":[{"field":"admin_via_escalation","op":"eq","value":true}],"limit":200}`
	one := `{"version":1,"kinds":["user","service_account","oauth_app","bot","ai_agent","workload"],"filters":[{"field":"name","op":"eq","value":"ci-deployer"},{"field":"admin_via_escalation","op":"eq","value":true}],"limit":200}`
	tests := []struct{ q, want string }{
		{"who can become admin", all},
		{"Which identities can escalate to admin?", all},
		{"identities that can become an administrator", all},
		{"how can ci-deployer become admin", one},
		{"can ci-deployer become an admin?", one},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			p, err := Plan(tt.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(p)
			if string(b) != tt.want {
				t.Fatalf("plan %s\nwant %s", b, tt.want)
			}
			if d := Describe(p, DescribeOptions{}); d == "" {
				t.Error("empty interpretation")
			} else {
				t.Log(d)
			}
		})
	}
}
