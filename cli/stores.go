package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"courtmesh/directory"
)

// openDirectory connects the directory to REDIS_URL. With REDIS_URL unset it
// returns the embedded in-memory stand-in when allowEmbedded is true (dev mode
// only: it cannot be shared between processes) and an error otherwise.
func openDirectory(allowEmbedded bool) (dir directory.Directory, embedded bool, closeFn func(), err error) {
	url := os.Getenv(envRedisURL)
	if url == "" {
		if !allowEmbedded {
			return nil, false, nil, errors.New(envRedisURL + " is not set")
		}
		return directory.NewMemory(), true, func() {}, nil
	}
	client, err := directory.Dial(url)
	if err != nil {
		return nil, false, nil, fmt.Errorf("connect redis: %w", err)
	}
	d, err := directory.NewRedis(directory.RedisConfig{Client: client, Prefix: redisPrefix()})
	if err != nil {
		client.Close()
		return nil, false, nil, err
	}
	return d, false, client.Close, nil
}

// newLogger returns the process logger: JSON lines on stderr.
func newLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
