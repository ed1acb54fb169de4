//go:build linux

package edge

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// poller reports parked sockets that became readable. Sockets are armed
// level-triggered and one-shot: arming a socket that already has data (or
// EOF, or an error) reports it at once, so nothing that arrives before the
// arming is missed, and a report disarms it until the next arm. The epoll
// descriptor itself is waited on through the runtime's netpoller.
type poller struct {
	f   *os.File
	raw syscall.RawConn // of f
}

var errNotPollable = errors.New("edge: connection has no file descriptor")

func newPoller() (*poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	f := os.NewFile(uintptr(fd), "epoll")
	raw, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &poller{f: f, raw: raw}, nil
}

// arm makes the poller report id once nc is readable. Both descriptors
// are held (Control) so that neither can be closed and reused meanwhile.
func (p *poller) arm(nc net.Conn, id uint64) error {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return errNotPollable
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
		Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
	var ctlErr error
	ctl := func(epfd, fd uintptr) {
		ctlErr = syscall.EpollCtl(int(epfd), syscall.EPOLL_CTL_MOD, int(fd), &ev)
		if ctlErr == syscall.ENOENT { // first arm of this socket
			ctlErr = syscall.EpollCtl(int(epfd), syscall.EPOLL_CTL_ADD, int(fd), &ev)
		}
	}
	var connErr error
	epErr := p.raw.Control(func(epfd uintptr) {
		connErr = raw.Control(func(fd uintptr) { ctl(epfd, fd) })
	})
	if err := errors.Join(epErr, connErr); err != nil {
		return err
	}
	if ctlErr != nil {
		return fmt.Errorf("epoll_ctl: %w", ctlErr)
	}
	return nil
}

// run calls wake with the id of every reported socket until close.
func (p *poller) run(wake func(id uint64)) {
	var events [128]syscall.EpollEvent
	var n int
	var waitErr error
	poll := func(epfd uintptr) bool {
		n, waitErr = syscall.EpollWait(int(epfd), events[:], 0)
		if waitErr == syscall.EINTR {
			n, waitErr = 0, nil
		}
		return n > 0 || waitErr != nil
	}
	for {
		if err := p.raw.Read(poll); err != nil || waitErr != nil {
			return // closed
		}
		for _, ev := range events[:n] {
			wake(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32)
		}
	}
}

func (p *poller) close() { _ = p.f.Close() }
