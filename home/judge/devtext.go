package judge

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"strings"
)

// devWords is the dev judge's vocabulary, the peer server's (socketio-redis
// server.js judge()).
var devWords = strings.Fields(`you both care deeply about feeling seen and the evening plans slipped because
nobody said what they needed out loud so small frustrations grew into a bigger story
about respect time attention effort fairness and whether the other person notices
repair starts with naming the feeling underneath the complaint and asking gently`)

// devText draws text from a seeded generator (mulberry32, as the peer does),
// so the same seed always gives the same text.
type devText struct {
	state uint32
	scale float64
}

// newDevText seeds a generator with the SHA-256 of parts, joined by "|".
// It also returns the digest.
func newDevText(scale float64, parts ...string) (*devText, [sha256.Size]byte) {
	digest := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return &devText{state: binary.LittleEndian.Uint32(digest[:4]), scale: scale}, digest
}

// next is mulberry32: a float in [0, 1).
func (g *devText) next() float64 {
	g.state += 0x6D2B79F5
	t := g.state
	t = (t ^ t>>15) * (t | 1)
	t ^= t + (t^t>>7)*(t|61)
	return float64(t^t>>14) / 4294967296
}

// text returns a sentence of about n characters times the scale. The 0.92
// factor is the peer's calibration: it puts court:state at about 21 KiB in
// PRIMING and 46 KiB in VERDICT with 600/300/300 characters of evidence per
// user (court-protocol.md §7.2).
func (g *devText) text(n int) string {
	n = max(8, int(math.Round(float64(n)*0.92*g.scale)))
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(devWords[int(g.next()*float64(len(devWords)))])
	}
	s := b.String()[:n-1]
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// texts returns k texts of about n characters.
func (g *devText) texts(k, n int) []string {
	out := make([]string, k)
	for i := range out {
		out[i] = g.text(n)
	}
	return out
}
