package cli

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"courtmesh/home/judge"
)

// envJudgeKey is the API key of the OpenAI-compatible judge.
const envJudgeKey = "COURT_JUDGE_API_KEY"

// judgeFlags choose the judge a home calls.
type judgeFlags struct {
	kind     string
	url      string
	endpoint string
	delay    time.Duration
}

func (f *judgeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kind, "judge", "dev", "judge: dev (built-in deterministic dev judge), http (a judge service at --judge-url, e.g. \"courtd judge\"), openai (OpenAI-compatible chat completions; key in "+envJudgeKey+")")
	cmd.Flags().StringVar(&f.url, "judge-url", "", "base URL of the judge service (--judge http)")
	cmd.Flags().StringVar(&f.endpoint, "judge-endpoint", judge.DefaultEndpoint, "chat-completions endpoint (--judge openai)")
	cmd.Flags().DurationVar(&f.delay, "judge-delay", 0, "artificial delay of each dev judge call (--judge dev), standing in for LLM time")
}

// open returns the configured judge.
func (f *judgeFlags) open() (judge.Judge, error) {
	switch f.kind {
	case "dev":
		return judge.NewDev(judge.DevConfig{Delay: f.delay})
	case "http":
		if f.url == "" {
			return nil, usagef("--judge http needs --judge-url")
		}
		return judge.NewHTTPClient(judge.Config{BaseURL: f.url})
	case "openai":
		key := os.Getenv(envJudgeKey)
		if key == "" {
			return nil, usagef("--judge openai needs %s", envJudgeKey)
		}
		return judge.NewOpenAI(judge.OpenAIConfig{Endpoint: f.endpoint, APIKey: key})
	}
	return nil, usagef("unknown --judge %q: want dev, http or openai", f.kind)
}
