package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"courtmesh/home/store"
)

// retentionFlag is --retention: a duration in days ("30d") or in Go's form
// ("36h"); 0 keeps every row forever.
type retentionFlag struct{ d time.Duration }

func (f *retentionFlag) String() string {
	const day = 24 * time.Hour
	if f.d%day == 0 {
		return strconv.FormatInt(int64(f.d/day), 10) + "d"
	}
	return f.d.String()
}

func (f *retentionFlag) Set(s string) error {
	d, err := parseRetention(s)
	if err != nil {
		return err
	}
	f.d = d
	return nil
}

func (f *retentionFlag) Type() string { return "duration" }

// parseRetention parses "<n>d", a Go duration, or "0"; a non-zero retention
// under store.MinRetention is refused.
func parseRetention(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("retention %q: want <days>d, a duration such as 36h, or 0", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d < 0 {
			return 0, fmt.Errorf("retention %q: want <days>d, a duration such as 36h, or 0", s)
		}
	}
	if d != 0 && d < store.MinRetention {
		return 0, fmt.Errorf("retention %q: at least %v, or 0 to keep every row", s, store.MinRetention)
	}
	return d, nil
}
