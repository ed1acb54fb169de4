package mesh

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/zstd"

	"courtmesh/mesh/wire"
)

// Large frames cross long links compressed (wire.FrameCompressed). QUIC
// paces what it sends: a burst of 10 packets (about 12 KB), then at about
// twice the congestion window per round trip, and an app-limited link's
// window does not grow. So on a 150 ms link a 41 KB court:state leaves its
// sender over some 15–30 ms after the burst (docs/decisions.md, issue 13);
// zstd makes it a few KB, which leave in the burst. The delay pacing adds
// grows with the round trip (about 0.36 × RTT for 41 KB at the initial
// window), so a link compresses when the peer names wire.FeatureZstd and
// the path's minimum round trip is at least compressRTT: a link across
// regions, not one within a region or on this host, where compressing
// would cost CPU and save nothing. Frames under compressMin go plain: they
// leave in the burst anyway.

// compressMin is the smallest frame a link compresses, in bytes.
const compressMin = 8 << 10

// compressRTT is the shortest minimum round trip of a link that
// compresses: there pacing a 41 KB frame costs about 3.6 ms, against some
// 0.3 ms of CPU to compress and decompress it.
const compressRTT = 10 * time.Millisecond

// errCorrupt means a FrameCompressed did not decompress to a frame: the
// framing of the stream is intact, so the receiver drops that frame alone.
var errCorrupt = errors.New("mesh: corrupt compressed frame")

var (
	// zstdEnc compresses at its fastest level; EncodeAll is safe for
	// concurrent use.
	zstdEnc = must(zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithLowerEncoderMem(true)))
	// zstdDec bounds what a frame may decompress to by wire.MaxFrameSize, as
	// a plain frame is bounded.
	zstdDec = must(zstd.NewReader(nil, zstd.WithDecoderMaxMemory(wire.MaxFrameSize), zstd.WithDecoderConcurrency(0)))
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// compressTo reports whether a frame of size bytes to l's peer goes
// compressed.
func (l *link) compressTo(size int) bool {
	return l.zstd && size >= compressMin && l.conn.ConnectionStats().MinRTT >= compressRTT
}

// compressFrame appends frame, a whole plain frame (header and body), as a
// FrameCompressed to dst (empty) and reports whether it did: not when the
// compressed frame would be no smaller.
func compressFrame(dst, frame []byte) ([]byte, bool) {
	dst = append(dst, byte(wire.FrameCompressed), 0, 0, 0, 0, frame[0])
	dst = zstdEnc.EncodeAll(frame[wire.HeaderLen:], dst)
	if len(dst) >= len(frame) {
		return dst, false
	}
	binary.BigEndian.PutUint32(dst[1:wire.HeaderLen], uint32(len(dst)-wire.HeaderLen))
	return dst, true
}

// decompress returns the inner frame of a FrameCompressed body: its type
// and body. A failure wraps errCorrupt.
func decompress(body []byte) (wire.FrameType, []byte, error) {
	if len(body) == 0 {
		return 0, nil, fmt.Errorf("%w: empty", errCorrupt)
	}
	t := wire.FrameType(body[0])
	if t != wire.FrameRequest && t != wire.FrameResponse && t != wire.FrameEvent {
		return 0, nil, fmt.Errorf("%w: it carries a %s frame", errCorrupt, t)
	}
	inner, err := zstdDec.DecodeAll(body[1:], nil)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s frame: %w", errCorrupt, t, err)
	}
	return t, inner, nil
}

// readFrame reads one frame from r, decompressing a FrameCompressed.
func readFrame(r io.Reader) (wire.FrameType, []byte, error) {
	t, body, err := wire.ReadFrame(r)
	if err == nil && t == wire.FrameCompressed {
		return decompress(body)
	}
	return t, body, err
}

// readFrameAs is wire.ReadFrameAs for a stream that may carry
// FrameCompressed.
func readFrameAs(r io.Reader, want wire.FrameType, v any) error {
	t, body, err := readFrame(r)
	if err != nil {
		return err
	}
	return wire.DecodeBody(t, body, want, v)
}
