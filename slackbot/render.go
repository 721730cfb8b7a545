package slackbot

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/internal/printable"
	"github.com/steward-oss/steward/remediation"
	"github.com/steward-oss/steward/tools"
)

// Slack limits a section's text to 3000 characters.
const sectionMax = 2900

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, clip(s, sectionMax), false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func section(s string) *slack.SectionBlock { return slack.NewSectionBlock(mrkdwn(s), nil, nil) }

// value renders one value as plain text. Values come from the graph, where
// credential ids are already masked ("AKIA…WXYZ"); MaskSecrets masks
// anything still shaped like a live secret and leaves masked ids as they
// are.
func value(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return tools.MaskSecrets(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.1f", x)
	}
	return tools.MaskSecrets(fmt.Sprint(v))
}

// cell renders one value for mrkdwn text: control characters from the
// source are escaped (no fake line, no terminal escape) and & < > are
// entity-encoded, so data cannot mention @channel or draw a link.
func cell(v any) string { return slackEscape(printable.Escape(value(v))) }

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackEscape encodes the three characters Slack reads as markup.
func slackEscape(s string) string { return slackEscaper.Replace(s) }

// table renders rows as a fixed-width text table, or "" when it would not
// fit in one section.
func table(cols []string, rows [][]any) string {
	const maxCell = 60
	w := make([]int, len(cols))
	cells := make([][]string, len(rows))
	head := make([]string, len(cols))
	for j, c := range cols {
		head[j] = printable.Escape(c)
		w[j] = utf8.RuneCountInString(head[j])
	}
	for i, r := range rows {
		cells[i] = make([]string, len(cols))
		for j := range cols {
			var v any
			if j < len(r) {
				v = r[j]
			}
			// Widths are counted on the text as shown; the Slack entities
			// are added when the line is written.
			s := clip(strings.ReplaceAll(printable.Escape(value(v)), "`", "'"), maxCell)
			cells[i][j] = s
			if n := utf8.RuneCountInString(s); n > w[j] {
				w[j] = n
			}
		}
	}
	var b strings.Builder
	line := func(vals []string) {
		for j, v := range vals {
			if j > 0 {
				b.WriteString("  ")
			}
			b.WriteString(slackEscape(v))
			if j < len(vals)-1 {
				b.WriteString(strings.Repeat(" ", w[j]-utf8.RuneCountInString(v)))
			}
		}
		b.WriteString("\n")
	}
	line(head)
	for _, r := range cells {
		line(r)
	}
	if b.Len()+6 > sectionMax {
		return ""
	}
	return "```\n" + b.String() + "```"
}

func csvOf(cols []string, rows [][]any) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := make([]string, len(cols))
	for j, c := range cols {
		head[j] = printable.CSVCell(c)
	}
	_ = w.Write(head)
	for _, r := range rows {
		rec := make([]string, len(cols))
		for j := range cols {
			if j < len(r) {
				rec[j] = value(r[j])
				if _, num := r[j].(float64); !num {
					rec[j] = printable.CSVCell(rec[j])
				}
			}
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

// postAnswer posts an answer in its thread: the text, the rows as a table
// (or a CSV upload when longer than Config.TableRows or too wide), and a
// Show plan button.
func (b *Bot) postAnswer(ctx context.Context, th thread, ans *chat.Answer) {
	text := tools.MaskSecrets(ans.Answer)
	if text == "" {
		text = fmt.Sprintf("%d result(s).", ans.Total)
	}
	blocks := []slack.Block{section(text)}
	if ans.Interpretation != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn("Interpretation: "+slackEscape(printable.Escape(tools.MaskSecrets(ans.Interpretation))))))
	}
	upload := false
	if len(ans.Rows) > 0 {
		t := ""
		if len(ans.Rows) <= b.cfg.TableRows {
			t = table(ans.Columns, ans.Rows)
		}
		if t != "" {
			blocks = append(blocks, section(t))
		} else {
			upload = true
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("%d rows: attached as CSV.", len(ans.Rows)))))
		}
		if ans.Total > len(ans.Rows) {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Showing %d of %d matches.", len(ans.Rows), ans.Total))))
		}
	}
	if ans.Plan != nil {
		blocks = append(blocks, slack.NewActionBlock("answer_actions",
			slack.NewButtonBlockElement(ActionShowPlan, th.key(), plain("Show plan"))))
	}
	b.post(ctx, th, text, blocks...)
	if upload {
		data := csvOf(ans.Columns, ans.Rows)
		_, err := b.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Reader: bytes.NewReader(data), FileSize: len(data), Filename: "steward-result.csv", Title: "Steward result",
			Channel: th.Channel, ThreadTimestamp: th.TS, SnippetType: "csv",
		})
		if err != nil {
			b.log.Error("CSV upload failed", attrChannel, th.Channel, attrErr, err)
			b.post(ctx, th, "The CSV upload failed; ask for fewer rows.")
		}
	}
}

func planBlocks(planJSON string) []slack.Block {
	return []slack.Block{section("```\n" + strings.ReplaceAll(planJSON, "```", "'''") + "\n```")}
}

// postProposal posts a proposal with its decision buttons; each button's
// value is the proposal id.
func (b *Bot) postProposal(ctx context.Context, th thread, p *approval.Proposal) {
	var lines []string
	rp, err := remediation.FromApproval(p)
	if err == nil {
		for _, t := range rp.Targets {
			l := fmt.Sprintf("• %s `%s` (%s, %s)", cell(t.Name), cell(t.ID), t.Kind, t.Source)
			if len(t.Why) > 0 {
				l += " — " + cell(strings.Join(t.Why, "; "))
			}
			lines = append(lines, l)
		}
	}
	var acts []string
	for _, a := range p.Actions {
		acts = append(acts, fmt.Sprintf("`%s` on `%s`", a.Type, cell(a.Target)))
	}
	eligible := b.deps.Approvals.Eligible(p)
	text := fmt.Sprintf("Remediation proposal %s by %s", p.ID, p.Requester)
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip("Remediation proposal "+p.ID, 150))),
		section(fmt.Sprintf("*Requested by* %s\n*Why:* %s", p.Requester, cell(p.Justification))),
		section("*Targets*\n" + strings.Join(lines, "\n")),
		section("*Actions*\n" + strings.Join(acts, "\n")),
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Needs %d approval(s) from: %s. Expires %s. Nothing runs until then.",
			p.Rule.Required, strings.Join(eligible, ", "), p.ExpiresAt.UTC().Format(time.RFC3339)))),
		slack.NewActionBlock("proposal_actions",
			slack.NewButtonBlockElement(ActionApprove, p.ID, plain("Approve")).WithStyle(slack.StylePrimary),
			slack.NewButtonBlockElement(ActionReject, p.ID, plain("Reject")).WithStyle(slack.StyleDanger),
			slack.NewButtonBlockElement(ActionDetails, p.ID, plain("Details")),
		),
	}
	b.post(ctx, th, text, blocks...)
}

// detailBlocks show a proposal's state and dry run.
func detailBlocks(p *approval.Proposal, eligible []string, items []remediation.PreviewItem) []slack.Block {
	blocks := []slack.Block{section(fmt.Sprintf("*Proposal %s* is %s. Approvals: %d of %d (%s). Eligible: %s. Expires %s.",
		p.ID, p.State, len(p.Approvals()), p.Rule.Required, strings.Join(p.Approvals(), ", "), strings.Join(eligible, ", "),
		p.ExpiresAt.UTC().Format(time.RFC3339)))}
	var b strings.Builder
	for i, it := range items {
		fmt.Fprintf(&b, "%d. %s on %s\n", i+1, it.Action.Type, cell(it.Action.Target))
		if it.Error != "" {
			fmt.Fprintf(&b, "   cannot plan: %s\n", cell(it.Error))
		}
		for _, s := range it.Steps {
			for _, l := range strings.Split(strings.TrimRight(s.Call, "\n"), "\n") {
				fmt.Fprintf(&b, "   %s\n", cell(l))
			}
		}
	}
	blocks = append(blocks, section("*Dry run* (what would be called)\n```\n"+strings.ReplaceAll(b.String(), "```", "'''")+"```"))
	return blocks
}

// resultBlocks show each action's last journal mark and its call.
func resultBlocks(p *approval.Proposal, title string) []slack.Block {
	var b strings.Builder
	for i, a := range p.Actions {
		ph := p.ActionPhase(i)
		if ph == "" {
			ph = "not run"
		}
		call := ""
		for _, e := range p.Journal {
			if e.Action == i && e.Step != nil && e.Step.Call != "" {
				call = e.Step.Call
			}
		}
		fmt.Fprintf(&b, "%d. %s on %s: %s\n", i+1, a.Type, cell(a.Target), ph)
		if call != "" {
			fmt.Fprintf(&b, "   %s\n", cell(strings.ReplaceAll(strings.TrimRight(call, "\n"), "\n", " | ")))
		}
	}
	text := fmt.Sprintf("*%s of %s*: %s", title, p.ID, p.State)
	if p.Reason != "" {
		text += "\n" + cell(p.Reason)
	}
	return []slack.Block{section(text), section("```\n" + strings.ReplaceAll(b.String(), "```", "'''") + "```")}
}
