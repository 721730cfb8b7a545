package demo

import (
	"fmt"

	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/graph"
)

type awsAccount struct{ id, alias, env string }

var envs = []string{"prod", "staging", "dev"}

// awsAccounts are the company's AWS accounts: prod, staging and dev, then
// more of each as the company grows.
func awsAccounts(n int) []awsAccount {
	out := []awsAccount{{"111111111111", "acme-prod", "prod"}, {"222222222222", "acme-staging", "staging"},
		{"333333333333", "acme-dev", "dev"}}
	for k := 3; k < n; k++ {
		env := envs[k%3]
		out = append(out, awsAccount{fmt.Sprintf("%012d", 400000000000+int64(k)*1111), fmt.Sprintf("acme-%s-%d", env, k/3+1), env})
	}
	return out
}

var awsActions = actions{
	read: []string{"s3:GetObject", "s3:ListBucket", "ec2:DescribeInstances", "dynamodb:GetItem",
		"sts:GetCallerIdentity", "cloudwatch:GetMetricData", "ecr:DescribeImages"},
	write: []string{"s3:PutObject", "ecs:UpdateService", "iam:CreateAccessKey", "dynamodb:PutItem",
		"lambda:UpdateFunctionCode", "ec2:RunInstances", "s3:DeleteObject"},
}

// awsUserSuffixes vary the names of generic IAM users.
var awsUserSuffixes = []string{"-svc", "-ci", "-integration"}

// aws builds one account. Users and workloads are identities; groups,
// roles, managed and custom policies give them their permissions:
// AdministratorAccess only ever reaches identities drawn admin.
func (w *world) aws(acct awsAccount, idx, nAcc int) *graph.Subgraph {
	src := "aws:" + acct.id
	e := w.newEmitter(src, "aws-sdk-go-v2/1.30.3", "Boto3/1.34.69", "aws-cli/2.15.30", "Terraform/1.7.5")
	pfx := src + ":"
	arn := func(kind, name string) map[string]string {
		return map[string]string{graph.AttrARN: "arn:aws:iam::" + acct.id + ":" + kind + "/" + name}
	}
	e.accountNode(graph.Node{ID: src, Name: acct.alias,
		Attrs: map[string]string{graph.AttrEnvironment: acct.env, "account_id": acct.id}})
	created := Reference.Add(-900 * day)

	bucket := func(name string) string { return pfx + "s3/acme-" + acct.env + "-" + name }
	addBucket := func(name string) {
		b := "acme-" + acct.env + "-" + name
		e.node(graph.Node{ID: pfx + "s3/" + b, Kind: graph.KindResource, Name: b, Subtype: "s3_bucket",
			CreatedAt: created, Attrs: map[string]string{graph.AttrARN: "arn:aws:s3:::" + b}})
	}
	for _, b := range []string{"artifacts", "backups", "logs"} {
		addBucket(b)
	}
	cluster := pfx + "ecs/acme-" + acct.env
	e.node(graph.Node{ID: cluster, Kind: graph.KindResource, Name: "acme-" + acct.env, Subtype: "ecs_cluster", CreatedAt: created})

	policy := func(name string) string {
		e.node(graph.Node{ID: pfx + "policy/" + name, Kind: graph.KindPolicy, Name: name, CreatedAt: created,
			Attrs: arn("policy", name)})
		return pfx + "policy/" + name
	}
	// AWS-managed policies are scoped to the account, as the AWS connector
	// ids them.
	awsPolicy := func(name string) string {
		id := pfx + "aws-managed-policy/" + name
		e.node(graph.Node{ID: id, Kind: graph.KindPolicy, Name: name, Subtype: "aws_managed", CreatedAt: created,
			Attrs: map[string]string{graph.AttrARN: "arn:aws:iam::aws:policy/" + name}})
		return id
	}
	adminPol := awsPolicy("AdministratorAccess")
	e.grant(adminPol, src, "*", "*", graph.PrivAdmin, "AdministratorAccess")
	roPol := awsPolicy("ReadOnlyAccess")
	for _, a := range []string{"*:Describe*", "*:Get*", "*:List*"} {
		e.grant(roPol, src, a, "*", graph.PrivRead, "ReadOnlyAccess")
	}
	ciPol := policy("ci-artifacts")
	e.grant(ciPol, bucket("artifacts"), "s3:PutObject", "arn:aws:s3:::acme-"+acct.env+"-artifacts/*", graph.PrivWrite, "")
	e.grant(ciPol, bucket("artifacts"), "s3:GetObject", "arn:aws:s3:::acme-"+acct.env+"-artifacts/*", graph.PrivRead, "")
	backupPol := policy("backup-writer")
	e.grant(backupPol, bucket("backups"), "s3:PutObject", "arn:aws:s3:::acme-"+acct.env+"-backups/*", graph.PrivWrite, "")
	e.grant(backupPol, src, "ec2:CreateSnapshot", "*", graph.PrivWrite, "")

	// An IAM role is an identity workloads, services and other accounts
	// act as: a service account of subtype iam_role, as the AWS connector
	// reads it from an authorization-details export. The roles are the
	// account's fixed structure, on top of Size; their owners are drawn
	// from a stream of their own so that the account's drawn identities
	// do not depend on them.
	roleRng := w.rng(src + "/roles")
	role := func(name, team string, lastUseDaysAgo int, policies ...string) string {
		id := pfx + "role/" + name
		n := graph.Node{ID: id, Kind: graph.KindServiceAccount, Subtype: "iam_role", Name: name, CreatedAt: created,
			Attrs: arn("role", name)}
		prof := fixed(team, 900, lastUseDaysAgo, false, ownPresent)
		n.LastUsedAt = prof.lastUse // the export's RoleLastUsed
		mainRng := e.rng
		e.rng = roleRng
		e.own(&n, prof, "owner", "CreateRole")
		e.rng = mainRng
		e.node(n)
		for _, p := range policies {
			e.edge(p, id, graph.EdgeAttachedTo)
		}
		return id
	}
	orgRole := role("OrganizationAccountAccessRole", "platform", 3, adminPol)
	tfRole := role("terraform-apply", "platform", 1, adminPol)
	ec2Admin := role("legacy-ec2-admin", "infra", 240, adminPol)
	adminRoles := []string{orgRole, tfRole, ec2Admin}
	role("readonly-audit", "security", 12, roPol)

	group := func(name string, policies ...string) string {
		id := pfx + "group/" + name
		e.node(graph.Node{ID: id, Kind: graph.KindGroup, Name: name, CreatedAt: created, Attrs: arn("group", name)})
		for _, p := range policies {
			e.edge(p, id, graph.EdgeAttachedTo)
		}
		return id
	}
	adminsGroup := group("admins", adminPol)
	ciGroup := group("ci", ciPol)
	roGroup := group("readonly", roPol)
	backupGroup := group("backup", backupPol)

	// Per application: a bucket, a deploy policy and role, a read policy
	// and a task role.
	deployRole := make([]string, len(apps))
	taskRole := make([]string, len(apps))
	readPol := make([]string, len(apps))
	for i, a := range apps {
		addBucket(a.name)
		b, bARN := bucket(a.name), "arn:aws:s3:::acme-"+acct.env+"-"+a.name
		dp := policy("deploy-" + a.name)
		e.grant(dp, b, "s3:PutObject", bARN+"/*", graph.PrivWrite, "")
		e.grant(dp, cluster, "ecs:UpdateService", "arn:aws:ecs:us-east-1:"+acct.id+":service/acme-"+acct.env+"/"+a.name, graph.PrivWrite, "")
		readPol[i] = policy(a.name + "-read")
		e.grant(readPol[i], b, "s3:GetObject", bARN+"/*", graph.PrivRead, "")
		e.grant(readPol[i], b, "s3:ListBucket", bARN, graph.PrivRead, "")
		deployRole[i] = role("deploy-"+a.name, a.team, 1, dp, ciPol)
		taskRole[i] = role(a.name+"-task", a.team, 0, readPol[i])
	}

	targets := func(j int) []string { return []string{bucket(apps[baseApp(j)].name), src, bucket("logs")} }

	// Toxic combinations (separation of duties), planted deterministically:
	// every sodEvery-th CI user also gets one of these policies, in turn,
	// without drawing from the rng, so the rest of the company is
	// unchanged. With the deploy role the CI users already assume, each
	// breaks one of findings/sod's default rules.
	sodPols := []string{policy("release-approver"), policy("log-maintenance"), policy("iam-onboarding")}
	e.grant(sodPols[0], src, "codepipeline:PutApprovalResult", "*", graph.PrivWrite, "")
	e.grant(sodPols[1], src, "secretsmanager:GetSecretValue", "*", graph.PrivRead, "")
	e.grant(sodPols[1], src, "logs:DeleteLogGroup", "*", graph.PrivWrite, "")
	e.grant(sodPols[2], src, "iam:CreateUser", "*", graph.PrivWrite, "")
	e.grant(sodPols[2], src, "iam:AttachUserPolicy", "arn:aws:iam::"+acct.id+":user/*", graph.PrivWrite, "")
	ciUsers := 0

	// IAM users used by software.
	nUsers := split(w.counts[famAWSUser], nAcc, idx)
	e.reserve(nUsers + split(w.counts[famAWSWorkload], nAcc, idx))
	start := 0
	if idx == 0 && nUsers >= 3 {
		start = 3
		w.ciDeployer(e, acct, ciGroup, deployRole[0], bucket("artifacts"), cluster)
		w.awsUser(e, acct, "terraform", fixed("platform", 690, 0, true, ownPresent), func(id string) {
			e.edge(adminPol, id, graph.EdgeAttachedTo)
		}, []string{src, bucket("artifacts")}, false)
		w.awsUser(e, acct, "backup-agent", fixed("infra", 640, 95, false, ownDeparted), func(id string) {
			e.edge(id, backupGroup, graph.EdgeMemberOf)
		}, []string{bucket("backups"), src}, false)
	}
	for j := start; j < nUsers; j++ {
		name, a := appAt(j - start)
		name += awsUserSuffixes[(j-start)%len(awsUserSuffixes)]
		b := baseApp(j - start)
		p := e.draw(a.team, true)
		w.awsUser(e, acct, name, p, func(id string) {
			if p.admin {
				switch e.rng.IntN(3) {
				case 0:
					e.edge(id, adminsGroup, graph.EdgeMemberOf)
				case 1:
					e.edge(adminPol, id, graph.EdgeAttachedTo)
				default:
					e.viaEdge(id, adminRoles[e.rng.IntN(len(adminRoles))], graph.EdgeCanAssume, "trust policy", false)
				}
				return
			}
			switch e.rng.IntN(4) {
			case 0:
				e.edge(id, ciGroup, graph.EdgeMemberOf)
				e.viaEdge(id, deployRole[b], graph.EdgeCanAssume, "trust policy", false)
				if ciUsers%SoDEvery == SoDEvery/2 {
					e.edge(sodPols[(ciUsers/SoDEvery)%len(sodPols)], id, graph.EdgeAttachedTo)
				}
				ciUsers++
			case 1:
				e.edge(id, roGroup, graph.EdgeMemberOf)
			case 2:
				e.edge(readPol[b], id, graph.EdgeAttachedTo)
			default:
				e.viaEdge(id, taskRole[b], graph.EdgeCanAssume, "trust policy", false)
			}
		}, targets(j-start), false)
	}

	// Workloads: GitHub Actions OIDC subjects trusted by deploy roles, and
	// EC2 instance profiles.
	nWork := split(w.counts[famAWSWorkload], nAcc, idx)
	for j := range nWork {
		name, a := appAt(j / 2)
		b := baseApp(j / 2)
		p := e.draw(a.team, true)
		var n graph.Node
		var assume, tag, via, event string
		if j%2 == 0 {
			subject := "repo:acme/" + name + ":environment:" + acct.env
			n = graph.Node{ID: pfx + "oidc/token.actions.githubusercontent.com/acme/" + name, Kind: graph.KindWorkload,
				Subtype: "workload_identity", Name: subject, CreatedAt: p.created,
				Attrs: map[string]string{"provider": "token.actions.githubusercontent.com", "subject": subject,
					"repository": "acme/" + name}}
			assume, via = deployRole[b], "trust policy: token.actions.githubusercontent.com"
			if p.admin {
				assume = tfRole
			}
		} else {
			n = graph.Node{ID: pfx + "instance-profile/" + name + "-ec2", Kind: graph.KindWorkload,
				Subtype: "instance_profile", Name: name + "-ec2", CreatedAt: p.created, Attrs: arn("instance-profile", name+"-ec2")}
			assume, via, tag, event = taskRole[b], "instance profile role", "owner", "CreateInstanceProfile"
			if p.admin {
				assume = ec2Admin
			}
		}
		n.LastUsedAt = p.lastUse
		e.own(&n, p, tag, event)
		e.node(n)
		e.sg.AddEdge(graph.Edge{From: n.ID, To: assume, Kind: graph.EdgeCanAssume, Conditional: j%2 == 0, Attrs: w.via(via)})
		e.used(n.ID, p, awsActions, targets(j/2)...)
	}
	return e.sg
}

// awsUser adds one IAM user with its access keys; perms attaches its
// permissions. The user's use is recorded on its first access key, as
// CloudTrail attributes calls to the key; awsUser returns that key's id
// (the user's when it has no key).
func (w *world) awsUser(e *emitter, acct awsAccount, name string, p profile, perms func(id string), targets []string, leakFirst bool) string {
	id := "aws:" + acct.id + ":user/" + name
	n := graph.Node{ID: id, Kind: graph.KindServiceAccount, Name: name, CreatedAt: p.created,
		Attrs: map[string]string{graph.AttrARN: "arn:aws:iam::" + acct.id + ":user/" + name, "path": "/"}}
	e.own(&n, p, "owner", "CreateUser")
	e.node(n)
	perms(id)
	keys := 1
	switch u := e.rng.Float64(); {
	case u < 0.12:
		keys = 2
	case u > 0.95 && p.lastUse.IsZero():
		keys = 0
	}
	from := id
	for k := 1; k <= keys; k++ {
		keyID := e.token("AKIA", 16, upper32)
		kid := awsid.AccessKeyNodeID(acct.id, name, keyID)
		created, last := e.credTimes(p, k == 1)
		c := graph.Node{ID: kid, Kind: graph.KindCredential, Subtype: "access_key", CreatedAt: created, LastUsedAt: last}
		if created.Sub(p.created) > 30*day {
			c.RotatedAt = created // it replaced an earlier key
		}
		if k == 2 && e.chance(0.3) {
			c.Status = graph.StatusDisabled
		}
		e.secretCred(&c, keyID, "aws-access-token", leakFirst && k == 1)
		c.Name = name + " " + c.Attrs[graph.AttrKeyIDMasked]
		e.node(c)
		e.edge(id, kid, graph.EdgeHasCredential)
		if k == 1 {
			from = kid
		}
	}
	if keys == 0 {
		return id
	}
	e.used(from, p, awsActions, targets...)
	return from
}

// ciDeployer is the CI user every demo question starts from: it deploys
// to prod (and, across accounts, staging) by assuming deploy roles, and
// its first key is found in a repository.
func (w *world) ciDeployer(e *emitter, acct awsAccount, ciGroup, deployRole, artifacts, cluster string) {
	p := fixed("platform", 700, 0, false, ownPresent)
	key := w.awsUser(e, acct, "ci-deployer", p, func(id string) {
		e.edge(id, ciGroup, graph.EdgeMemberOf)
		e.viaEdge(id, deployRole, graph.EdgeCanAssume, "trust policy", false)
		e.viaEdge(id, "aws:222222222222:role/deploy-"+apps[0].name, graph.EdgeCanAssume, "trust policy (cross-account)", false)
	}, nil, true)
	e.sg.AddEdge(graph.Edge{From: key, To: artifacts, Kind: graph.EdgeUsed, LastSeen: p.lastUse,
		Attrs: w.interned(graph.AttrUsedAction, "s3:PutObject", graph.AttrSourceIP, e.ips[0], graph.AttrUserAgent, "aws-cli/2.15.30")})
	e.sg.AddEdge(graph.Edge{From: key, To: cluster, Kind: graph.EdgeUsed, LastSeen: p.lastUse.Add(-3 * day),
		Attrs: w.interned(graph.AttrUsedAction, "ecs:UpdateService", graph.AttrSourceIP, e.ips[0], graph.AttrUserAgent, "aws-cli/2.15.30")})
}
