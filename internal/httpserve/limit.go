package httpserve

import (
	"net"
	"sync"
)

// limitListener accepts at most n connections at once, like
// netutil.LimitListener, but hands out TCP connections as themselves (a
// *net.TCPConn inside): net/http then still reaches their ReadFrom, which
// is sendfile(2), for kernels, initrds and images. netutil's wrapper hides
// it, and every byte went through user space in 32 KiB writes.
type limitListener struct {
	net.Listener
	sem    chan struct{}
	done   chan struct{} // closed by Close: an Accept waiting for a slot ends
	closed sync.Once
}

func newLimitListener(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closed.Do(func() { close(l.done) })
	return err
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	release := sync.OnceFunc(func() { <-l.sem })
	if tc, ok := c.(*net.TCPConn); ok {
		return &limitedTCPConn{TCPConn: tc, release: release}, nil
	}
	return &limitedConn{Conn: c, release: release}, nil
}

// limitedTCPConn is a TCP connection that frees its slot when closed; it
// keeps every method of *net.TCPConn, ReadFrom (sendfile) included.
type limitedTCPConn struct {
	*net.TCPConn
	release func()
}

func (c *limitedTCPConn) Close() error {
	err := c.TCPConn.Close()
	c.release()
	return err
}

// limitedConn is any other connection (TLS) that frees its slot when closed.
type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
