package httpserve

import (
	"net"
	"syscall"
)

// cork sets or clears TCP_CORK on c; false when it cannot.
func cork(c *net.TCPConn, on bool) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	v := 0
	if on {
		v = 1
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, v) }); err != nil {
		return false
	}
	return serr == nil
}
