package review

import (
	"fmt"
	"slices"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/graph"
)

// resolveChain applies the campaign's rules to a snapshot: the steps that
// yield a reviewer, in order, and why the others were skipped.
func resolveChain(ix *graph.Index, c *Campaign, s *Snapshot, groups approval.Groups) (chain []Step, skipped []string) {
	isOwner := func(email string) bool {
		for _, o := range s.Owners {
			if norm(o.Email) == norm(email) {
				return true
			}
		}
		return norm(s.Owner) == norm(email)
	}
	for _, r := range c.Reviewers {
		switch r.Kind {
		case RuleOwner:
			switch {
			case s.Owner == "" && len(s.Owners) > 0:
				skipped = append(skipped, "owner: every owner has left")
			case s.Owner == "":
				skipped = append(skipped, "owner: no known owner")
			case !c.OwnerMayReview:
				skipped = append(skipped, "owner: owners may not review their own identities in this campaign")
			default:
				chain = append(chain, Step{Rule: RuleOwner, Reviewer: norm(s.Owner)})
			}
		case RuleManager:
			base := s.Owner
			if base == "" {
				for _, o := range s.Owners {
					if o.Departed {
						base = o.Email // a departed owner's manager answers for them
						break
					}
				}
			}
			if base == "" {
				skipped = append(skipped, "manager: no owner whose manager could review")
				continue
			}
			_, _, mgr := person(ix, base)
			if mgr == "" {
				skipped = append(skipped, fmt.Sprintf("manager: %s has no manager in the HR roster", base))
				continue
			}
			if _, gone, _ := person(ix, mgr); gone {
				skipped = append(skipped, fmt.Sprintf("manager: %s (manager of %s) has left", mgr, base))
				continue
			}
			if isOwner(mgr) && !c.OwnerMayReview {
				skipped = append(skipped, fmt.Sprintf("manager: %s also owns the identity", mgr))
				continue
			}
			if len(chain) > 0 && chain[len(chain)-1].Reviewer == mgr {
				continue // same person as the previous step
			}
			chain = append(chain, Step{Rule: RuleManager, Reviewer: mgr})
		case RuleGroup:
			members := r.Members
			if len(members) == 0 && groups != nil {
				members = groups.Members(r.Group)
			}
			var ok []string
			for _, m := range members {
				m = norm(m)
				if m == "" || slices.Contains(ok, m) || (!c.OwnerMayReview && isOwner(m)) {
					continue
				}
				if _, gone, _ := person(ix, m); gone {
					continue
				}
				ok = append(ok, m)
			}
			if len(ok) == 0 {
				skipped = append(skipped, fmt.Sprintf("group %s: no member who may review", r.Group))
				continue
			}
			chain = append(chain, Step{Rule: RuleGroup, Reviewer: "group:" + r.Group, Members: ok})
		}
	}
	return chain, skipped
}

// assign makes step level of the chain the item's reviewer.
func (it *Item) assign(level int) {
	it.Level = level
	if level < 0 || level >= len(it.Chain) {
		it.Reviewer, it.Members = "", nil
		return
	}
	st := it.Chain[level]
	it.Reviewer, it.Members = st.Reviewer, st.Members
}

// Groups is configured approver groups plus the inline members of the
// campaigns' group rules, so a self-contained campaign's fallback group
// can also approve the proposals its decisions open. Only campaigns read
// from files (reviews.dir, --campaign, the demo) belong here: those are
// reviewed like any configuration, while a campaign posted over HTTP must
// not be able to name its own approvers; Members ignores campaigns
// without a File.
type Groups struct {
	Base      approval.Groups
	Campaigns []*Campaign
}

// Members implements approval.Groups.
func (g Groups) Members(group string) []string {
	var out []string
	if g.Base != nil {
		out = append(out, g.Base.Members(group)...)
	}
	for _, c := range g.Campaigns {
		if c.File == "" {
			continue
		}
		for _, r := range c.Reviewers {
			if r.Kind == RuleGroup && r.Group == group {
				for _, m := range r.Members {
					if !slices.Contains(out, m) {
						out = append(out, m)
					}
				}
			}
		}
	}
	return out
}

var _ approval.Groups = Groups{}
