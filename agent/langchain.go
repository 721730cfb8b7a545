package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/tmc/langchaingo/llms"
)

// LangchainModel adapts any langchaingo llms.Model that supports tools
// (Anthropic, Bedrock, Gemini, OpenAI...) to Model.
type LangchainModel struct {
	llm   llms.Model
	model string
	// MaxCompletionTokens caps one completion; 0 leaves it to the
	// provider.
	MaxCompletionTokens int
}

var _ Model = (*LangchainModel)(nil)

// NewLangchainModel wraps llm; model, when set, overrides the provider's
// default model per call.
func NewLangchainModel(llm llms.Model, model string) *LangchainModel {
	return &LangchainModel{llm: llm, model: model}
}

// Chat sends the conversation through GenerateContent.
func (m *LangchainModel) Chat(ctx context.Context, msgs []Message, specs []ToolSpec) (Reply, error) {
	var content []llms.MessageContent
	for _, msg := range msgs {
		switch msg.Role {
		case RoleSystem:
			content = append(content, llms.TextParts(llms.ChatMessageTypeSystem, msg.Content))
		case RoleUser:
			content = append(content, llms.TextParts(llms.ChatMessageTypeHuman, msg.Content))
		case RoleAssistant:
			mc := llms.MessageContent{Role: llms.ChatMessageTypeAI}
			if msg.Content != "" {
				mc.Parts = append(mc.Parts, llms.TextContent{Text: msg.Content})
			}
			for _, tc := range msg.ToolCalls {
				mc.Parts = append(mc.Parts, llms.ToolCall{ID: tc.ID, Type: "function",
					FunctionCall: &llms.FunctionCall{Name: tc.Name, Arguments: tc.Arguments}})
			}
			content = append(content, mc)
		case RoleTool:
			content = append(content, llms.MessageContent{Role: llms.ChatMessageTypeTool,
				Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: msg.ToolCallID, Name: msg.Name, Content: msg.Content}}})
		default:
			return Reply{}, fmt.Errorf("langchain: message role %q not supported", msg.Role)
		}
	}
	var opts []llms.CallOption
	if m.model != "" {
		opts = append(opts, llms.WithModel(m.model))
	}
	if m.MaxCompletionTokens > 0 {
		opts = append(opts, llms.WithMaxTokens(m.MaxCompletionTokens))
	}
	if len(specs) > 0 {
		var ts []llms.Tool
		for _, s := range specs {
			ts = append(ts, llms.Tool{Type: "function", Function: &llms.FunctionDefinition{Name: s.Name, Description: s.Description, Parameters: s.Parameters}})
		}
		opts = append(opts, llms.WithTools(ts), llms.WithToolChoice("auto"))
	}
	resp, err := m.llm.GenerateContent(ctx, content, opts...)
	if err != nil {
		return Reply{}, fmt.Errorf("langchain: generate: %w", err)
	}
	if resp == nil || len(resp.Choices) == 0 {
		return Reply{}, errors.New("langchain: generate: no choices")
	}
	c := resp.Choices[0]
	r := Reply{Content: c.Content, FinishReason: c.StopReason, Usage: Usage{
		PromptTokens: intInfo(c.GenerationInfo, "PromptTokens", "InputTokens", "input_tokens"), CompletionTokens: intInfo(c.GenerationInfo, "CompletionTokens", "OutputTokens", "output_tokens")}}
	for _, tc := range c.ToolCalls {
		if tc.FunctionCall == nil {
			continue
		}
		r.ToolCalls = append(r.ToolCalls, ToolCall{ID: tc.ID, Name: tc.FunctionCall.Name, Arguments: tc.FunctionCall.Arguments})
	}
	return r, nil
}

// intInfo reads a token count from GenerationInfo, whose keys and types
// differ between providers.
func intInfo(info map[string]any, keys ...string) int {
	for _, k := range keys {
		switch v := info[k].(type) {
		case int:
			return v
		case int32:
			return int(v)
		case int64:
			return int(v)
		case float64:
			return int(v)
		}
	}
	return 0
}
