package aws

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/secret"
)

func (b *builder) reportByARN() map[string]reportRow {
	m := make(map[string]reportRow, len(b.in.report))
	for _, r := range b.in.report {
		// A user listed twice (deleted and re-created during report
		// generation) keeps the later row, which describes the live user.
		m[r.ARN] = r
	}
	return m
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// applyReportToUser sets login facts. An IAM user with a console password
// is a human's login (kind user); one without is a machine identity
// (service_account) whether or not it has access keys: keys without a
// password are how software signs in.
func applyReportToUser(n *graph.Node, row reportRow) {
	if n.Attrs == nil {
		n.Attrs = map[string]string{}
	}
	if row.PasswordEnabled == "true" {
		n.Kind = graph.KindUser
		n.Attrs[attrConsole] = "true"
		if row.PasswordNextRotation.IsZero() {
			n.Attrs[graph.AttrPasswordNever] = "true"
		} else {
			n.Attrs[graph.AttrPasswordNever] = "false"
		}
	} else {
		n.Kind = graph.KindServiceAccount
		n.Attrs[attrConsole] = "false"
	}
	n.Attrs[graph.AttrMFA] = strconv.FormatBool(row.MFAActive)
	if !row.PasswordLastUsed.IsZero() {
		n.Attrs[attrPasswordLastUsed] = fmtTime(row.PasswordLastUsed)
		if row.PasswordLastUsed.After(n.LastUsedAt) {
			n.LastUsedAt = row.PasswordLastUsed
		}
	} else if row.PasswordLastUsedInfo == "no_information" {
		n.Attrs[attrPasswordLastUsed] = "no_information"
	}
	if t := fmtTime(row.PasswordLastChanged); t != "" {
		n.Attrs[attrPasswordChanged] = t
	}
	if t := fmtTime(row.PasswordNextRotation); t != "" {
		n.Attrs[attrPasswordRotation] = t
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = row.Created
	}
}

// emitReport adds what only the credential report knows: the root user,
// users missing from the authorization details, and access keys and
// signing certificates by slot (the report does not list key ids).
func (b *builder) emitReport() {
	rows := b.reportByARN()
	for _, arn := range slices.Sorted(maps.Keys(rows)) {
		row := rows[arn]
		acct, _ := accountOf(arn)
		var holder, userName string
		if row.User == rootUserName {
			holder, userName = awsid.RootNodeID(acct), rootUserName
			n := graph.Node{ID: holder, Kind: graph.KindUser, Subtype: subtypeRoot, Name: "root (" + acct + ")",
				CreatedAt: row.Created, Attrs: map[string]string{graph.AttrARN: arn, graph.AttrMFA: strconv.FormatBool(row.MFAActive)}}
			if !row.PasswordLastUsed.IsZero() {
				n.LastUsedAt = row.PasswordLastUsed
				n.Attrs[attrPasswordLastUsed] = fmtTime(row.PasswordLastUsed)
			}
			b.addNode(acct, n)
			b.addEdge(acct, graph.Edge{From: holder, To: awsid.AccountNodeID(acct), Kind: graph.EdgeInAccount})
		} else {
			id, err := awsid.PrincipalNodeID(arn)
			if err != nil {
				continue
			}
			holder, userName = id, row.User
			if !b.seen[acct][id] {
				n := graph.Node{ID: id, Name: row.User, Attrs: map[string]string{graph.AttrARN: arn}}
				applyReportToUser(&n, row)
				b.addNode(acct, n)
				b.addEdge(acct, graph.Edge{From: id, To: awsid.AccountNodeID(acct), Kind: graph.EdgeInAccount})
			}
		}
		if _, live := b.in.liveKeys[arn]; !live {
			for i, k := range row.Keys {
				if !k.Present {
					continue
				}
				b.emitKey(acct, holder, graph.Node{ID: awsid.AccessKeySlotNodeID(acct, userName, i+1),
					Name: userName + " access key " + strconv.Itoa(i+1)}, k.Active, k.LastRotated, k.LastUsed,
					k.LastUsedRgn, k.LastUsedSvc, map[string]string{attrSlot: strconv.Itoa(i + 1)})
				if k.LastUsedInfo == "no_information" {
					b.nodeRef(acct, awsid.AccessKeySlotNodeID(acct, userName, i+1)).Attrs["last_used"] = "no_information"
				}
			}
		}
		for i, c := range row.Certs {
			if !c.Present {
				continue
			}
			id := awsid.CertSlotNodeID(acct, userName, i+1)
			n := graph.Node{ID: id, Kind: graph.KindCredential, Subtype: subtypeCertificate,
				Name: userName + " signing certificate " + strconv.Itoa(i+1), CreatedAt: c.LastRotated, RotatedAt: c.LastRotated,
				Status: activeStatus(c.Active), Attrs: map[string]string{attrSlot: strconv.Itoa(i + 1)}}
			b.addNode(acct, n)
			b.addEdge(acct, graph.Edge{From: holder, To: id, Kind: graph.EdgeHasCredential})
			b.addEdge(acct, graph.Edge{From: id, To: awsid.AccountNodeID(acct), Kind: graph.EdgeInAccount})
		}
	}
}

func activeStatus(active bool) string {
	if active {
		return graph.StatusActive
	}
	return graph.StatusDisabled
}

// emitKey adds one access key node and its holder edge. The key's creation
// time is its last rotation: rotating an IAM key means creating a new one.
func (b *builder) emitKey(acct, holder string, n graph.Node, active bool, created, lastUsed time.Time, region, service string, attrs map[string]string) {
	n.Kind = graph.KindCredential
	n.Subtype = subtypeAccessKey
	n.Status = activeStatus(active)
	n.CreatedAt, n.RotatedAt, n.LastUsedAt = created, created, lastUsed
	n.Attrs = attrs
	if region != "" {
		n.Attrs[attrLastUsedRegion] = region
	}
	if service != "" {
		n.Attrs[attrLastUsedService] = service
	}
	b.addNode(acct, n)
	b.addEdge(acct, graph.Edge{From: holder, To: n.ID, Kind: graph.EdgeHasCredential})
	b.addEdge(acct, graph.Edge{From: n.ID, To: awsid.AccountNodeID(acct), Kind: graph.EdgeInAccount})
}

// emitLiveKeys adds keys the live path listed by id.
func (b *builder) emitLiveKeys() {
	for _, arn := range slices.Sorted(maps.Keys(b.in.liveKeys)) {
		acct, err := accountOf(arn)
		if err != nil {
			continue
		}
		holder, err := awsid.PrincipalNodeID(arn)
		if err != nil {
			continue
		}
		a, _ := awsid.ParseARN(arn)
		userName := a.Resource[len("user/"):]
		if i := lastSlash(userName); i >= 0 {
			userName = userName[i+1:]
		}
		for _, k := range b.in.liveKeys[arn] {
			b.emitKey(acct, holder, graph.Node{ID: awsid.AccessKeyNodeID(acct, userName, k.ID), Name: secret.Mask(k.ID)},
				k.Active, k.Created, k.LastUsed, k.Region, k.Service, map[string]string{
					graph.AttrKeyIDMasked: secret.Mask(k.ID), graph.AttrFingerprint: awsid.KeyFingerprint(k.ID)})
		}
	}
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// mergeExtra folds in subgraphs produced from CloudTrail (same source
// naming), so their used and created_by edges land in the account's aws
// source.
func (b *builder) mergeExtra() {
	for _, x := range b.in.extra {
		acct := graph.SourceType(x.Source)
		acct = x.Source[len(acct)+1:]
		b.sg(acct)
		for _, n := range x.Nodes {
			n.Source = ""
			b.addNode(acct, n)
		}
		for _, e := range x.Edges {
			b.addEdge(acct, e)
		}
	}
}
