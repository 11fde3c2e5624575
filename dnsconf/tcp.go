package dnsconf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DNS over TCP (RFC 7766): one goroutine a connection, queries answered
// in turn. The connections are bounded (Config.MaxTCP, in all and per
// client address: past them a new one is closed at once), the first query
// must come within tcpFirstRead and the next ones within the idle timeout,
// and a failing accept (EMFILE: no descriptor left) backs off instead of
// spinning.
const (
	tcpFirstRead  = 2 * time.Second // miekg/dns's read timeout
	tcpBusyIdle   = time.Second     // the idle timeout past half of MaxTCP
	tcpWrite      = 2 * time.Second // a client that does not read
	maxTCPQueries = 128             // a connection's queries, as miekg/dns
	shutdownGrace = 5 * time.Second // how long Serve waits for replies in flight
	maxAcceptWait = time.Second     // the longest backoff after an accept error
)

// serveTCP accepts connections on ln until ctx ends, then closes it,
// unblocks the connections' reads and waits for the replies in flight
// (at most shutdownGrace).
func (s *Server) serveTCP(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer waitGrace(&wg, shutdownGrace)
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if ctx.Err() != nil {
			if err == nil {
				c.Close()
			}
			return nil
		}
		if err != nil {
			if !temporary(err) {
				return fmt.Errorf("dnsconf: serve tcp %s: %w", ln.Addr(), err)
			}
			delay = min(max(2*delay, 5*time.Millisecond), maxAcceptWait)
			s.stats.acceptErrors.Add(1)
			s.log.Warn("dns: accept failed, waiting", "addr", ln.Addr().String(), "wait", delay, "err", err)
			sleep(ctx, delay)
			continue
		}
		delay = 0
		client := clientIP(c.RemoteAddr())
		release, _ := s.tcp.take(client)
		if release == nil {
			s.stats.tcpRefused.Add(1)
			c.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer release()
			s.serveConn(ctx, c, client)
		}()
	}
}

// temporary reports whether an accept error may pass (EMFILE, ENFILE,
// ECONNABORTED...), as net/http's Server judges it.
func temporary(err error) bool {
	var ne interface{ Temporary() bool }
	return errors.As(err, &ne) && ne.Temporary()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// waitGrace waits for wg, at most grace.
func waitGrace(wg *sync.WaitGroup, grace time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// serveConn answers the queries of one connection until the client
// closes it, is idle too long, or ctx ends.
func (s *Server) serveConn(ctx context.Context, c net.Conn, client netip.Addr) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 2+dns.MinMsgSize) // grown for a longer query
	wait := tcpFirstRead
	for range maxTCPQueries {
		c.SetReadDeadline(time.Now().Add(wait))
		if ctx.Err() != nil { // after the deadline is set: AfterFunc's may have come before
			return
		}
		b, err := readTCP(c, &buf)
		if err != nil {
			return
		}
		s.stats.queries.Add(1)
		req, refusal := s.parse(b, 0, s.mayRecurse(client))
		out := refusal
		if req != nil {
			var fm *dns.Msg
			var fb []byte
			m, b := s.respond(ctx, client, req, 0, false, func(m *dns.Msg, b []byte) { fm, fb = m, b })
			if m == nil {
				m, b = fm, fb // forwarded
			}
			if m != nil && b != nil {
				s.stats.reply(m)
			}
			out = b
		}
		if out != nil {
			c.SetWriteDeadline(time.Now().Add(tcpWrite))
			if err := writeTCP(c, out); err != nil {
				s.log.Debug("dns: write reply", "client", client.String(), "err", err)
				return
			}
		}
		wait = s.cfg.TCPIdleTimeout
		if s.tcp.held() > s.cfg.MaxTCP/2 {
			wait = min(wait, tcpBusyIdle)
		}
	}
}

// readTCP reads one message (its 2-byte length, then itself) into
// *buf, which it grows when the message needs it.
func readTCP(c net.Conn, buf *[]byte) ([]byte, error) {
	if _, err := io.ReadFull(c, (*buf)[:2]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(*buf))
	if n > len(*buf) {
		*buf = make([]byte, n)
	}
	if _, err := io.ReadFull(c, (*buf)[:n]); err != nil {
		return nil, err
	}
	return (*buf)[:n], nil
}

// writeTCP writes b after its length, in one writev.
func writeTCP(c net.Conn, b []byte) error {
	bufs := net.Buffers{binary.BigEndian.AppendUint16(nil, uint16(len(b))), b}
	_, err := bufs.WriteTo(c)
	return err
}

// mayRecurse reports whether client's queries for names outside the zone
// are forwarded (Config.Recursion).
func (s *Server) mayRecurse(client netip.Addr) bool {
	return s.fwd != nil && s.cfg.Recursion != nil && s.cfg.Recursion(client)
}
