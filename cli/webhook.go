package cli

import (
	"os"

	"github.com/spf13/cobra"

	"courtmesh/home/outbox"
	"courtmesh/home/outbox/signature"
)

// envWebhookSecret is the Standard Webhooks secret, whsec_<base64>, that
// signs every outbox POST.
const envWebhookSecret = "COURT_WEBHOOK_SECRET"

// webhookNone is the --webhook value that discards outbox rows.
const webhookNone = "none"

// webhookFlags choose where the outbox sends side effects.
type webhookFlags struct {
	target string
	legacy string // --webhook-url, deprecated
}

// register adds --webhook (default def) and its deprecated alias
// --webhook-url.
func (f *webhookFlags) register(cmd *cobra.Command, def string) {
	cmd.Flags().StringVar(&f.target, "webhook", def, "where the outbox POSTs side effects (push notifications, memory jobs): an http(s) URL, signed with "+
		envWebhookSecret+"; \"none\" discards them; empty holds them pending (with a warning) until a node with a webhook delivers them")
	cmd.Flags().StringVar(&f.legacy, "webhook-url", "", "the --webhook URL")
	_ = cmd.Flags().MarkDeprecated("webhook-url", "use --webhook")
}

// config fills the sink fields of an outbox config.
func (f *webhookFlags) config(cfg outbox.Config) (outbox.Config, error) {
	target := f.target
	if f.legacy != "" {
		if target != "" && target != f.legacy {
			return cfg, usagef("--webhook and --webhook-url disagree")
		}
		target = f.legacy
	}
	switch target {
	case "":
		return cfg, nil
	case webhookNone:
		cfg.Discard = true
		return cfg, nil
	}
	raw := os.Getenv(envWebhookSecret)
	if raw == "" {
		return cfg, usagef("--webhook %s needs %s (whsec_<base64> of at least 24 random bytes): webhook bodies are signed", target, envWebhookSecret)
	}
	key, err := signature.ParseSecret(raw)
	if err != nil {
		return cfg, usageError{err}
	}
	cfg.Webhook, cfg.Secret = target, key
	return cfg, nil
}
