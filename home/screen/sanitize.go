package screen

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"courtmesh/home/court"
)

// Sanitize returns text cleaned for the judge and cut to limit characters
// (court.LimitEvidence and the others, court-protocol.md §7.1): invalid
// UTF-8 and control characters other than newline and tab are dropped, CRLF
// becomes LF, surrounding space is trimmed, and over-long text is truncated,
// not refused (court.Truncate: at the last space when that space lies beyond
// 80 % of the limit, else at the limit). Characters are Unicode code points
// (the app counts UTF-16 units, so text outside the BMP may keep up to twice
// as many of them here).
func Sanitize(text string, limit int) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\n' && r != '\t') {
			return -1
		}
		return r
	}, text)
	return strings.TrimSpace(court.Truncate(strings.TrimSpace(text), limit))
}
