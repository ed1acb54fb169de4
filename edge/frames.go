package edge

import "sync"

// The frames a socket sends are mostly the copies of large court:states
// (20–46 KiB): the ack of each action and the push of each state to each
// user. A frame only one socket writes is built in a buffer of framePool
// and given back once its write returned, so the edge does not allocate
// (and collect) a copy of each state per socket (docs/performance.md,
// issue 11, "the edges' own CPU"). A frame written to several sockets (a
// user's sockets share the push built for the user) or kept (the shared
// ping, pong and refusal frames) is never given back.

// maxPooledFrame bounds the buffers framePool keeps: a rare larger frame
// is left to the collector rather than held by the pool.
const maxPooledFrame = 128 << 10

var framePool = sync.Pool{New: func() any { return new([]byte) }}

// frame is one queued WebSocket message. buf is set when the frame's bytes
// are a buffer of framePool that only this queue entry refers to.
type frame struct {
	b   []byte
	buf *[]byte
}

// shared is a frame the socket does not own.
func shared(b []byte) frame { return frame{b: b} }

// newFrameBuf returns an empty buffer of framePool to build a frame in.
func newFrameBuf() *[]byte {
	buf := framePool.Get().(*[]byte)
	*buf = (*buf)[:0]
	return buf
}

// owned is the frame b built in buf (b is buf's bytes, maybe grown).
func owned(buf *[]byte, b []byte) frame { return frame{b: b, buf: buf} }

// release gives f's buffer back to framePool when the socket owns it. The
// caller must be the frame's last holder: its write returned, or it was
// never queued.
func (f frame) release() {
	if f.buf == nil || cap(f.b) > maxPooledFrame {
		return
	}
	*f.buf = f.b[:0]
	framePool.Put(f.buf)
}

func releaseAll(fs []frame) {
	for _, f := range fs {
		f.release()
	}
}
