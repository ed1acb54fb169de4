package screen

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input limits in characters (court-protocol.md §7.1).
const (
	LimitEvidence = 5000
	LimitFeelings = 2000
	LimitNeeds    = 2000
	LimitAddendum = 2000
)

// Sanitize returns text cleaned for the judge and cut to limit characters:
// invalid UTF-8 and control characters other than newline and tab are
// dropped, CRLF becomes LF, surrounding space is trimmed, and over-long text
// is truncated, not refused: at the last space when that space lies beyond
// 80 % of the limit, else at the limit (inputSanitizer.js:122-136).
// Characters are Unicode code points (the app counts UTF-16 units, so text
// outside the BMP may keep up to twice as many of them here).
func Sanitize(text string, limit int) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\n' && r != '\t') {
			return -1
		}
		return r
	}, text)
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) <= limit {
		return text
	}
	runes := []rune(text)[:limit]
	if i := lastSpace(runes); i*5 > limit*4 {
		runes = runes[:i]
	}
	return strings.TrimSpace(string(runes))
}

func lastSpace(runes []rune) int {
	for i := len(runes) - 1; i >= 0; i-- {
		if unicode.IsSpace(runes[i]) {
			return i
		}
	}
	return -1
}
