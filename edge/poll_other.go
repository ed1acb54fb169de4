//go:build !linux

package edge

import (
	"errors"
	"net"
)

// poller is Linux only (poll_linux.go); elsewhere an idle socket keeps its
// reader goroutine.
type poller struct{}

var errNoPoller = errors.New("edge: no poller on this system")

func newPoller() (*poller, error)          { return nil, errNoPoller }
func (*poller) arm(net.Conn, uint64) error { return errNoPoller }
func (*poller) run(func(uint64))           {}
func (*poller) close()                     {}
