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

// register adds the judge flags to cmd; def is the default judge, empty
// meaning --judge is required (production roles: canned verdicts must never
// be served without someone asking for them).
func (f *judgeFlags) register(cmd *cobra.Command, def string) {
	usage := "judge"
	if def == "" {
		usage = "judge (required)"
	}
	cmd.Flags().StringVar(&f.kind, "judge", def, usage+": dev (built-in deterministic dev judge), http (a judge service at --judge-url, e.g. \"courtd judge\"), openai (OpenAI-compatible chat completions; key in "+envJudgeKey+")")
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
	if f.kind == "" {
		return nil, usagef("--judge is required: http (--judge-url), openai (%s), or dev for canned verdicts (tests only)", envJudgeKey)
	}
	return nil, usagef("unknown --judge %q: want dev, http or openai", f.kind)
}
