package review

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Summary is a campaign's report: completion, decisions by kind,
// outcomes, overdue items, revoked access and time to decide.
type Summary struct {
	ID       string `json:"id"`
	Campaign string `json:"campaign"`
	State    State  `json:"state"`
	Items    int    `json:"items"`
	// Decided counts items with a decision (a reviewer's or the
	// default); ByReviewers those a reviewer decided.
	Decided     int     `json:"decided"`
	ByReviewers int     `json:"by_reviewers"`
	Completion  float64 `json:"completion"` // ByReviewers / Items, 0..1
	// Decisions counts reviewer decisions by kind (defaults apart).
	Decisions map[DecisionKind]int `json:"decisions"`
	Defaults  int                  `json:"defaults"`
	Outcomes  map[Outcome]int      `json:"outcomes"`
	// Overdue lists items nobody decided in time: defaulted, or still
	// pending past escalate_after or the deadline.
	Overdue []string `json:"overdue"`
	// Revoked lists items whose access a decision takes away, with the
	// proposal's outcome.
	Revoked []RevokedItem `json:"revoked"`
	// MeanHoursToDecide and MaxHoursToDecide cover reviewer decisions,
	// counted from launch.
	MeanHoursToDecide float64         `json:"mean_hours_to_decide"`
	MaxHoursToDecide  float64         `json:"max_hours_to_decide"`
	Reviewers         []ReviewerStats `json:"reviewers"`
	Escalations       int             `json:"escalations"`
	Reassignments     int             `json:"reassignments"`
	Reminders         int             `json:"reminders"`
	Changed           int             `json:"changed_since_launch"`
}

// Count is the number of reviewer decisions of kind (for templates).
func (s *Summary) Count(kind string) int { return s.Decisions[DecisionKind(kind)] }

// RevokedItem is one item a Revoke or Modify covers.
type RevokedItem struct {
	Item       string       `json:"item"`
	Identity   string       `json:"identity"`
	Decision   DecisionKind `json:"decision"`
	ProposalID string       `json:"proposal_id"`
	Outcome    Outcome      `json:"outcome"`
}

// ReviewerStats is one reviewer's share.
type ReviewerStats struct {
	Reviewer string `json:"reviewer"`
	Assigned int    `json:"assigned"`
	Decided  int    `json:"decided"`
}

// Summarize computes the report of in at now.
func Summarize(in *Instance, now time.Time) *Summary {
	s := &Summary{ID: in.ID, Campaign: in.Campaign.Name, State: in.State, Items: len(in.Items),
		Decisions: map[DecisionKind]int{}, Outcomes: map[Outcome]int{}, Overdue: []string{}, Revoked: []RevokedItem{},
		Reminders: len(in.Reminders)}
	stats := map[string]*ReviewerStats{}
	stat := func(r string) *ReviewerStats {
		if stats[r] == nil {
			stats[r] = &ReviewerStats{Reviewer: r}
		}
		return stats[r]
	}
	var total, n float64
	for _, it := range in.Items {
		s.Outcomes[it.Outcome]++
		for _, e := range it.Events {
			switch e.Kind {
			case "escalated":
				s.Escalations++
			case "reassigned":
				s.Reassignments++
			}
		}
		if it.Changed {
			s.Changed++
		}
		d := it.Decision
		if d == nil {
			if it.Reviewer != "" {
				stat(it.Reviewer).Assigned++
			}
			ea := in.Campaign.EscalateAfter
			if !now.Before(in.Due) || (ea > 0 && !now.Before(it.AssignedAt.Add(ea))) || it.Outcome == OutcomeNoDecision {
				s.Overdue = append(s.Overdue, it.ID)
			}
			continue
		}
		s.Decided++
		if d.Default {
			s.Defaults++
			s.Overdue = append(s.Overdue, it.ID)
			if it.Reviewer != "" {
				stat(it.Reviewer).Assigned++
			}
		} else {
			s.ByReviewers++
			s.Decisions[d.Kind]++
			st := stat(d.By)
			st.Assigned++
			st.Decided++
			h := d.At.Sub(in.LaunchedAt).Hours()
			total += h
			n++
			if h > s.MaxHoursToDecide {
				s.MaxHoursToDecide = h
			}
		}
		if d.Kind == DecisionRevoke || d.Kind == DecisionModify {
			s.Revoked = append(s.Revoked, RevokedItem{Item: it.ID, Identity: it.Snapshot.ID, Decision: d.Kind, ProposalID: it.ProposalID, Outcome: it.Outcome})
		}
	}
	if n > 0 {
		s.MeanHoursToDecide = total / n
	}
	if s.Items > 0 {
		s.Completion = float64(s.ByReviewers) / float64(s.Items)
	}
	for _, st := range stats {
		s.Reviewers = append(s.Reviewers, *st)
	}
	sort.Slice(s.Reviewers, func(i, j int) bool { return s.Reviewers[i].Reviewer < s.Reviewers[j].Reviewer })
	return s
}

// Report is the JSON export: the summary, the campaign definition and
// every item with its decision and outcome.
type Report struct {
	Summary    *Summary        `json:"summary"`
	Campaign   Campaign        `json:"campaign"`
	Plan       json.RawMessage `json:"plan"`
	LaunchedBy string          `json:"launched_by"`
	LaunchedAt time.Time       `json:"launched_at"`
	Due        time.Time       `json:"due"`
	ClosedAt   time.Time       `json:"closed_at,omitzero"`
	Items      []*Item         `json:"items"`
	Reminders  []Reminder      `json:"reminders,omitempty"`
	Generated  time.Time       `json:"generated_at"`
}

// NewReport builds the report of in at now.
func NewReport(in *Instance, now time.Time) *Report {
	return &Report{Summary: Summarize(in, now), Campaign: in.Campaign, Plan: in.Plan, LaunchedBy: in.LaunchedBy,
		LaunchedAt: in.LaunchedAt, Due: in.Due, ClosedAt: in.ClosedAt, Items: in.Items, Reminders: in.Reminders, Generated: now.UTC()}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CSVColumns are the columns of WriteCSV, one row per item.
var CSVColumns = []string{"campaign", "item", "identity", "name", "kind", "source", "privilege", "owner", "owner_status",
	"reviewer", "rule", "decision", "decided_by", "decided_at", "default", "justification", "keep_until", "reassigned_to",
	"outcome", "proposal", "proposal_state", "escalations", "changed_since_launch", "last_used", "idle_days",
	"credential_age_days", "leaks", "unused"}

// WriteCSV writes one row per item. Cells that a spreadsheet would run
// as a formula are prefixed with a quote.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	for _, it := range r.Items {
		s := &it.Snapshot
		rule, decision, by, at, def, just, until, to := "", "", "", "", "", "", "", ""
		if it.Level < len(it.Chain) {
			rule = it.Chain[it.Level].Rule
		}
		if d := it.Decision; d != nil {
			decision, by, at, just = string(d.Kind), d.By, d.At.Format(time.RFC3339), d.Justification
			def = strconv.FormatBool(d.Default)
			if !d.Until.IsZero() {
				until = d.Until.Format(time.RFC3339)
			}
		}
		esc := 0
		for _, e := range it.Events {
			switch e.Kind {
			case "escalated":
				esc++
			case "reassigned":
				to = it.Reviewer
			}
		}
		last := ""
		if !s.LastUsed.IsZero() {
			last = s.LastUsed.Format(time.RFC3339)
		}
		row := []string{r.Summary.ID, it.ID, s.ID, s.Name, string(s.Kind), s.Source, s.Privilege, s.Owner, s.OwnerState,
			it.Reviewer, rule, decision, by, at, def, just, until, to, string(it.Outcome), it.ProposalID, it.ProposalState,
			strconv.Itoa(esc), strconv.FormatBool(it.Changed), last, strconv.Itoa(s.IdleDays), strconv.Itoa(s.CredentialAgeDays),
			strings.Join(s.Leaks, " "), strings.Join(s.Unused, " ")}
		for k, c := range row {
			row[k] = csvSafe(c)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvSafe(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

//go:embed report.html.tmpl
var reportHTML string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format(time.DateOnly)
	},
	"pct":  func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"hrs":  func(f float64) string { return fmt.Sprintf("%.1f h", f) },
	"days": func(d time.Duration) string { return fmt.Sprintf("%gd", d.Hours()/24) },
	"join": strings.Join,
	"pretty": func(raw json.RawMessage) string {
		var b bytes.Buffer
		if err := json.Indent(&b, raw, "", "  "); err != nil {
			return string(raw)
		}
		return b.String()
	},
}).Parse(reportHTML))

// WriteHTML writes the printable evidence report: the campaign
// definition, the reviewers, each item with its decision, justification,
// timestamps, history and outcome. It is self-contained (no scripts, no
// external resources) so it prints and archives as is.
func (r *Report) WriteHTML(w io.Writer) error {
	return reportTmpl.Execute(w, r)
}
