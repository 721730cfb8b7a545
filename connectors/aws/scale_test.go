package aws

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/steward-oss/steward/connectors"
)

// genAuthzDetails writes a synthetic authorization-details file for one
// account with n identities (70% users, 30% roles), n/100 groups and
// n/500+20 customer-managed policies, shaped like API output: URL-encoded
// documents, Deny statements, NotAction, conditions, boundaries on 2% of
// principals, trust policies of every principal type, and instance
// profiles on a tenth of the roles. The same seed gives the same bytes.
func genAuthzDetails(w io.Writer, n int) error {
	const acct = "123456789012"
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	enc := func(doc any) string {
		b, _ := json.Marshal(doc)
		return url.PathEscape(string(b))
	}
	services := []string{"s3", "ec2", "dynamodb", "sqs", "sns", "lambda", "kms", "logs", "cloudwatch", "iam", "rds", "secretsmanager"}
	verbs := []string{"Get*", "List*", "Describe*", "Put*", "Create*", "Delete*", "Update*", "*"}
	stmt := func(effect string) map[string]any {
		acts := make([]string, 1+rng.IntN(4))
		for i := range acts {
			acts[i] = services[rng.IntN(len(services))] + ":" + verbs[rng.IntN(len(verbs))]
		}
		s := map[string]any{"Effect": effect, "Action": acts, "Resource": fmt.Sprintf("arn:aws:s3:::bucket-%d/*", rng.IntN(1000))}
		if rng.IntN(3) == 0 {
			s["Resource"] = "*"
		}
		if rng.IntN(10) == 0 {
			s["Condition"] = map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": "eu-west-1"}}
		}
		if rng.IntN(25) == 0 {
			delete(s, "Action")
			s["NotAction"] = []string{"iam:*", "organizations:*"}
		}
		return s
	}
	doc := func() map[string]any {
		sts := []any{stmt("Allow"), stmt("Allow")}
		if rng.IntN(8) == 0 {
			sts = append(sts, stmt("Deny"))
		}
		return map[string]any{"Version": "2012-10-17", "Statement": sts}
	}
	nPol := n/500 + 20
	nGroups := n/100 + 1
	nUsers := n * 7 / 10
	nRoles := n - nUsers
	created := "2021-01-01T00:00:00Z"
	bw := bufio.NewWriterSize(w, 1<<20)
	out := json.NewEncoder(bw)
	write := func(s string) { bw.WriteString(s) }
	attached := func(k int) []map[string]string {
		var a []map[string]string
		for range k {
			p := rng.IntN(nPol)
			a = append(a, map[string]string{"PolicyName": fmt.Sprintf("pol-%d", p), "PolicyArn": fmt.Sprintf("arn:aws:iam::%s:policy/pol-%d", acct, p)})
		}
		if rng.IntN(200) == 0 {
			a = append(a, map[string]string{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
		}
		return a
	}
	boundary := func() map[string]string {
		if rng.IntN(50) != 0 {
			return nil
		}
		return map[string]string{"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": fmt.Sprintf("arn:aws:iam::%s:policy/pol-0", acct)}
	}
	write(`{"UserDetailList":[`)
	for i := range nUsers {
		if i > 0 {
			write(",")
		}
		groups := []string{fmt.Sprintf("group-%d", rng.IntN(nGroups))}
		u := map[string]any{"Path": "/", "UserName": fmt.Sprintf("user-%d", i), "UserId": fmt.Sprintf("AIDA%016d", i),
			"Arn": fmt.Sprintf("arn:aws:iam::%s:user/user-%d", acct, i), "CreateDate": created, "GroupList": groups,
			"UserPolicyList":          []any{map[string]any{"PolicyName": "inline", "PolicyDocument": enc(doc())}},
			"AttachedManagedPolicies": attached(rng.IntN(3)), "Tags": []any{map[string]string{"Key": "team", "Value": fmt.Sprintf("team-%d", i%40)}}}
		if b := boundary(); b != nil {
			u["PermissionsBoundary"] = b
		}
		if err := out.Encode(u); err != nil {
			return err
		}
	}
	write(`],"GroupDetailList":[`)
	for i := range nGroups {
		if i > 0 {
			write(",")
		}
		g := map[string]any{"Path": "/", "GroupName": fmt.Sprintf("group-%d", i), "GroupId": fmt.Sprintf("AGPA%016d", i),
			"Arn": fmt.Sprintf("arn:aws:iam::%s:group/group-%d", acct, i), "CreateDate": created,
			"GroupPolicyList":         []any{map[string]any{"PolicyName": "group-inline", "PolicyDocument": enc(doc())}},
			"AttachedManagedPolicies": attached(1 + rng.IntN(2))}
		if err := out.Encode(g); err != nil {
			return err
		}
	}
	write(`],"RoleDetailList":[`)
	for i := range nRoles {
		if i > 0 {
			write(",")
		}
		var principal map[string]any
		var cond map[string]any
		action := "sts:AssumeRole"
		switch i % 4 {
		case 0:
			principal = map[string]any{"Service": services[i%len(services)] + ".amazonaws.com"}
		case 1:
			principal = map[string]any{"AWS": fmt.Sprintf("arn:aws:iam::%012d:root", 100000000000+i%50)}
			cond = map[string]any{"StringEquals": map[string]any{"sts:ExternalId": fmt.Sprintf("ext-%d", i)}}
		case 2:
			principal = map[string]any{"AWS": fmt.Sprintf("arn:aws:iam::%s:user/user-%d", acct, rng.IntN(nUsers+1))}
		case 3:
			principal = map[string]any{"Federated": "arn:aws:iam::" + acct + ":oidc-provider/token.actions.githubusercontent.com"}
			cond = map[string]any{"StringLike": map[string]any{"token.actions.githubusercontent.com:sub": fmt.Sprintf("repo:org/repo-%d:*", i)}}
			action = "sts:AssumeRoleWithWebIdentity"
		}
		trust := map[string]any{"Effect": "Allow", "Principal": principal, "Action": action}
		if cond != nil {
			trust["Condition"] = cond
		}
		r := map[string]any{"Path": "/", "RoleName": fmt.Sprintf("role-%d", i), "RoleId": fmt.Sprintf("AROA%016d", i),
			"Arn": fmt.Sprintf("arn:aws:iam::%s:role/role-%d", acct, i), "CreateDate": created,
			"AssumeRolePolicyDocument": enc(map[string]any{"Version": "2012-10-17", "Statement": []any{trust}}),
			"InstanceProfileList":      []any{}, "RolePolicyList": []any{map[string]any{"PolicyName": "inline", "PolicyDocument": enc(doc())}},
			"AttachedManagedPolicies": attached(rng.IntN(3)), "Tags": []any{},
			"RoleLastUsed": map[string]string{"LastUsedDate": "2026-11-01T00:00:00Z", "Region": "eu-west-1"}}
		if i%10 == 0 {
			r["InstanceProfileList"] = []any{map[string]any{"Path": "/", "InstanceProfileName": fmt.Sprintf("role-%d", i),
				"InstanceProfileId": fmt.Sprintf("AIPA%016d", i), "Arn": fmt.Sprintf("arn:aws:iam::%s:instance-profile/role-%d", acct, i), "CreateDate": created}}
		}
		if b := boundary(); b != nil {
			r["PermissionsBoundary"] = b
		}
		if err := out.Encode(r); err != nil {
			return err
		}
	}
	write(`],"Policies":[`)
	for i := range nPol {
		if i > 0 {
			write(",")
		}
		p := map[string]any{"PolicyName": fmt.Sprintf("pol-%d", i), "PolicyId": fmt.Sprintf("ANPA%016d", i),
			"Arn": fmt.Sprintf("arn:aws:iam::%s:policy/pol-%d", acct, i), "Path": "/", "DefaultVersionId": "v1",
			"AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0, "IsAttachable": true, "CreateDate": created, "UpdateDate": created,
			"PolicyVersionList": []any{map[string]any{"Document": enc(doc()), "VersionId": "v1", "IsDefaultVersion": true, "CreateDate": created}}}
		if err := out.Encode(p); err != nil {
			return err
		}
	}
	write(`],"IsTruncated":false}`)
	return bw.Flush()
}

func genFile(tb testing.TB, dir string, n int) (string, int64) {
	tb.Helper()
	p := filepath.Join(dir, fmt.Sprintf("authz-%d.json", n))
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	if err := genAuthzDetails(f, n); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	st, _ := os.Stat(p)
	return p, st.Size()
}

func TestGeneratorOutputLoads(t *testing.T) {
	p, _ := genFile(t, t.TempDir(), 500)
	r := newFileReader(t, connectors.Options{OptAuthorizationDetails: p})
	sgs, err := r.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := countKind(sgs, "", "user", "service_account", "role"); got != 500 {
		t.Fatalf("identities = %d, want 500", got)
	}
}

// BenchmarkLoadAuthorizationDetails loads synthetic exports of 1k, 10k and
// 100k identities (decode, policy evaluation, graph build, normalize). It
// reports identities/s, and x-decode: the load time as a multiple of only
// decoding the same file, measured in the same run.
func BenchmarkLoadAuthorizationDetails(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			p, size := genFile(b, b.TempDir(), n)
			decode := func() {
				f, _ := os.Open(p)
				defer f.Close()
				if _, err := decodeAuthzDetails(f, p); err != nil {
					b.Fatal(err)
				}
			}
			t0 := time.Now()
			decode()
			base := time.Since(t0)
			r := newFileReader(b, connectors.Options{OptAuthorizationDetails: p})
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := r.Read(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(n)/per.Seconds(), "identities/s")
			b.ReportMetric(float64(per)/float64(base), "x-decode")
		})
	}
}

// TestMeasureLoad loads a file and logs time and Go heap figures; it
// asserts nothing about time. By default the file is a generated export
// of 2,000 identities, whose identity count is checked; the measurement
// mode (a hook for `/usr/bin/time -v`) loads the file named by
// STEWARD_AWS_MEASURE instead, or with STEWARD_AWS_GENERATE=N writes an
// export of N identities to it. The test never skips.
func TestMeasureLoad(t *testing.T) {
	const small = 2000
	p := os.Getenv("STEWARD_AWS_MEASURE")
	if p == "" {
		p, _ = genFile(t, t.TempDir(), small)
	} else if gen := os.Getenv("STEWARD_AWS_GENERATE"); gen != "" {
		var n int
		fmt.Sscan(gen, &n)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := genAuthzDetails(f, n); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return
	}
	r := newFileReader(t, connectors.Options{OptAuthorizationDetails: p})
	t0 := time.Now()
	sgs, err := r.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(t0)
	if os.Getenv("STEWARD_AWS_MEASURE") == "" {
		if got := countKind(sgs, "", "user", "service_account", "role"); got != small {
			t.Errorf("identities = %d, want %d", got, small)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	nodes, edges := 0, 0
	for _, sg := range sgs {
		nodes += len(sg.Nodes)
		edges += len(sg.Edges)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("load %s: %v, %d nodes, %d edges, heap in use %d MiB (%d MiB after GC, the graph itself), total alloc %d MiB, sys %d MiB",
		filepath.Base(p), el, nodes, edges, ms.HeapInuse>>20, after.HeapInuse>>20, ms.TotalAlloc>>20, ms.Sys>>20)
	runtime.KeepAlive(sgs)
}
