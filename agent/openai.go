package agent

import (
	"context"
	"errors"
	"fmt"

	openai "github.com/sashabaranov/go-openai"
)

// OpenAIModel talks to any OpenAI-compatible chat-completions endpoint
// (OpenAI, Azure OpenAI, Ollama's /v1, vLLM, LiteLLM...) through go-openai.
type OpenAIModel struct {
	client *openai.Client
	model  string
	// MaxCompletionTokens caps one completion; 0 leaves it to the server.
	MaxCompletionTokens int
}

var _ Model = (*OpenAIModel)(nil)

// NewOpenAIModel returns a model using cfg (see openai.DefaultConfig and
// openai.DefaultAzureConfig) and model name (the deployment on Azure).
func NewOpenAIModel(cfg openai.ClientConfig, model string) *OpenAIModel {
	return &OpenAIModel{client: openai.NewClientWithConfig(cfg), model: model}
}

// Chat sends one chat-completion request.
func (m *OpenAIModel) Chat(ctx context.Context, msgs []Message, specs []ToolSpec) (Reply, error) {
	req := openai.ChatCompletionRequest{Model: m.model, MaxCompletionTokens: m.MaxCompletionTokens}
	for _, msg := range msgs {
		// Tool messages carry only tool_call_id: strict OpenAI-compatible
		// servers reject a name there.
		om := openai.ChatCompletionMessage{Role: string(msg.Role), Content: msg.Content, ToolCallID: msg.ToolCallID}
		for _, tc := range msg.ToolCalls {
			om.ToolCalls = append(om.ToolCalls, openai.ToolCall{ID: tc.ID, Type: openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: tc.Name, Arguments: tc.Arguments}})
		}
		req.Messages = append(req.Messages, om)
	}
	for _, s := range specs {
		req.Tools = append(req.Tools, openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: s.Name, Description: s.Description, Parameters: s.Parameters}})
	}
	if len(req.Tools) > 0 {
		req.ToolChoice = "auto"
	}
	resp, err := m.client.CreateChatCompletion(ctx, req)
	if err != nil {
		var apiErr *openai.APIError
		if errors.As(err, &apiErr) {
			// The message is the provider's; it never carries our key.
			return Reply{}, fmt.Errorf("openai: chat completion: status %d: %s: %w", apiErr.HTTPStatusCode, apiErr.Message, err)
		}
		return Reply{}, fmt.Errorf("openai: chat completion: %w", err)
	}
	if len(resp.Choices) == 0 {
		return Reply{}, errors.New("openai: chat completion: no choices")
	}
	c := resp.Choices[0]
	r := Reply{Content: c.Message.Content, FinishReason: string(c.FinishReason),
		Usage: Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}}
	for _, tc := range c.Message.ToolCalls {
		r.ToolCalls = append(r.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	return r, nil
}
