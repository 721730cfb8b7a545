package agent

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	openai "github.com/sashabaranov/go-openai"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/bedrock"
	"github.com/tmc/langchaingo/llms/googleai"
)

// Config selects the model behind the agent and its budgets. The API key
// itself is never in the config: APIKeyEnv names the environment variable
// holding it, and nothing here logs or returns its value.
type Config struct {
	// Provider is "openai", "azure", "anthropic", "bedrock", "gemini",
	// "ollama", or "" (or "offline") for the offline planner.
	Provider string `json:"provider" yaml:"provider"`
	// BaseURL overrides the provider endpoint (required for azure; any
	// OpenAI-compatible server for openai; ollama defaults to
	// http://localhost:11434/v1).
	BaseURL string `json:"base_url,omitempty" yaml:"base_url"`
	// Model is the model id (the deployment name on Azure).
	Model     string `json:"model,omitempty" yaml:"model"`
	APIKeyEnv string `json:"api_key_env,omitempty" yaml:"api_key_env"`
	// APIVersion is Azure OpenAI's api-version; empty uses go-openai's.
	APIVersion string        `json:"api_version,omitempty" yaml:"api_version"`
	MaxSteps   int           `json:"max_steps,omitempty" yaml:"max_steps"`
	MaxTokens  int           `json:"max_tokens,omitempty" yaml:"max_tokens"`
	Timeout    time.Duration `json:"timeout,omitempty" yaml:"timeout"`
}

// Defaults and bounds.
const (
	DefaultMaxSteps  = 8
	MaxMaxSteps      = 50
	DefaultMaxTokens = 20000
	DefaultTimeout   = 60 * time.Second
	ollamaBaseURL    = "http://localhost:11434/v1"
)

// ConfigError names the bad field.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "agent: config: " + e.Field + ": " + e.Msg }

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Offline reports whether the config selects the offline planner.
func (c Config) Offline() bool { return c.Provider == "" || c.Provider == "offline" }

// Validate checks the config; errors name the field.
func (c Config) Validate() error {
	switch c.Provider {
	case "", "offline", "openai", "azure", "anthropic", "bedrock", "gemini", "ollama":
	default:
		return &ConfigError{"provider", fmt.Sprintf("unknown provider %q (want openai, azure, anthropic, bedrock, gemini, ollama or empty for offline)", c.Provider)}
	}
	switch {
	case c.MaxSteps < 0 || c.MaxSteps > MaxMaxSteps:
		return &ConfigError{"max_steps", fmt.Sprintf("must be 1..%d (0 means %d)", MaxMaxSteps, DefaultMaxSteps)}
	case c.MaxTokens < 0:
		return &ConfigError{"max_tokens", "negative"}
	case c.Timeout < 0:
		return &ConfigError{"timeout", "negative"}
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &ConfigError{"base_url", fmt.Sprintf("%q is not an http(s) URL", c.BaseURL)}
		}
	}
	if c.APIKeyEnv != "" && !envNameRE.MatchString(c.APIKeyEnv) {
		return &ConfigError{"api_key_env", "must name an environment variable (the key itself never goes in the config)"}
	}
	if c.Offline() {
		return nil
	}
	if c.Model == "" {
		return &ConfigError{"model", "required for provider " + c.Provider}
	}
	switch c.Provider {
	case "azure":
		if c.BaseURL == "" {
			return &ConfigError{"base_url", "required for azure (https://RESOURCE.openai.azure.com)"}
		}
		if c.APIKeyEnv == "" {
			return &ConfigError{"api_key_env", "required for azure"}
		}
	case "openai":
		if c.BaseURL == "" && c.APIKeyEnv == "" {
			return &ConfigError{"api_key_env", "required for api.openai.com"}
		}
	case "anthropic", "gemini":
		if c.APIKeyEnv == "" {
			return &ConfigError{"api_key_env", "required for " + c.Provider}
		}
	case "bedrock":
		if c.APIKeyEnv != "" {
			return &ConfigError{"api_key_env", "bedrock uses the AWS credential chain; leave it empty"}
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.MaxSteps == 0 {
		c.MaxSteps = DefaultMaxSteps
	}
	if c.MaxTokens == 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Provider == "ollama" && c.BaseURL == "" {
		c.BaseURL = ollamaBaseURL
	}
	return c
}

// NewModel builds the model cfg selects; nil (and no error) for offline.
// getenv reads the API key from the variable cfg.APIKeyEnv names.
func NewModel(ctx context.Context, cfg Config, getenv func(string) string) (Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Offline() {
		return nil, nil
	}
	cfg = cfg.withDefaults()
	key := ""
	if cfg.APIKeyEnv != "" {
		if key = getenv(cfg.APIKeyEnv); key == "" {
			return nil, &ConfigError{"api_key_env", fmt.Sprintf("environment variable %s is empty", cfg.APIKeyEnv)}
		}
	}
	switch cfg.Provider {
	case "openai", "ollama":
		// Ollama's own langchaingo client has no tool calls; its
		// OpenAI-compatible endpoint does.
		oc := openai.DefaultConfig(key)
		if cfg.BaseURL != "" {
			oc.BaseURL = cfg.BaseURL
		}
		return NewOpenAIModel(oc, cfg.Model), nil
	case "azure":
		oc := openai.DefaultAzureConfig(key, cfg.BaseURL)
		if cfg.APIVersion != "" {
			oc.APIVersion = cfg.APIVersion
		}
		return NewOpenAIModel(oc, cfg.Model), nil
	case "anthropic":
		opts := []anthropic.Option{anthropic.WithToken(key), anthropic.WithModel(cfg.Model)}
		if cfg.BaseURL != "" {
			opts = append(opts, anthropic.WithBaseURL(cfg.BaseURL))
		}
		llm, err := anthropic.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("agent: anthropic: %w", err)
		}
		return NewLangchainModel(llm, ""), nil
	case "gemini":
		llm, err := googleai.New(ctx, googleai.WithAPIKey(key), googleai.WithDefaultModel(cfg.Model))
		if err != nil {
			return nil, fmt.Errorf("agent: gemini: %w", err)
		}
		return NewLangchainModel(llm, ""), nil
	case "bedrock":
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("agent: bedrock: aws config: %w", err)
		}
		client := bedrockruntime.NewFromConfig(awsCfg, func(o *bedrockruntime.Options) {
			if cfg.BaseURL != "" {
				o.BaseEndpoint = &cfg.BaseURL
			}
		})
		llm, err := bedrock.New(bedrock.WithClient(client), bedrock.WithModel(cfg.Model))
		if err != nil {
			return nil, fmt.Errorf("agent: bedrock: %w", err)
		}
		return NewLangchainModel(llm, ""), nil
	}
	return nil, &ConfigError{"provider", fmt.Sprintf("unknown provider %q", cfg.Provider)}
}
