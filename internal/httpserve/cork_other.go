//go:build !linux

package httpserve

import "net"

// cork does nothing but on Linux.
func cork(*net.TCPConn, bool) bool { return false }
