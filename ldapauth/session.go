package ldapauth

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// session is one connection to the directory. Its socket's deadline is
// moved before each exchange (step), so that every one, the TLS
// handshakes included, ends within the timeout; cancelling the context
// closes the socket.
type session struct {
	c      Config
	raw    net.Conn
	conn   *ldap.Conn
	tlsErr error // why the certificate was refused, kept whole (see tlsConfig)
	stop   func() bool
}

// open connects to c's directory, with TLS from the start (ldaps://) or
// after StartTLS (ldap://): no bind happens before TLS.
func open(ctx context.Context, c Config) (*session, error) {
	u, _ := url.Parse(c.URL) // checked by Check
	s := &session{c: c}
	tc, err := s.tlsConfig(u.Hostname())
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: c.Timeout}
	start := time.Now()
	s.raw, err = d.DialContext(ctx, "tcp", hostPort(u))
	if err != nil {
		return nil, s.transport(ctx, "connecting", err, start.Add(c.Timeout))
	}
	s.stop = context.AfterFunc(ctx, func() { s.raw.Close() })
	if err := s.secure(ctx, u.Scheme == "ldaps", tc); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *session) secure(ctx context.Context, ldaps bool, tc *tls.Config) error {
	if ldaps {
		tlsConn := tls.Client(s.raw, tc)
		if err := s.step(ctx, "the TLS handshake", func() error { return tlsConn.HandshakeContext(ctx) }); err != nil {
			return err
		}
		s.conn = ldap.NewConn(tlsConn, true)
	} else {
		s.conn = ldap.NewConn(s.raw, false)
	}
	s.conn.Start()
	s.conn.SetTimeout(s.c.Timeout)
	if ldaps {
		return nil
	}
	return s.step(ctx, "StartTLS", func() error { return s.conn.StartTLS(tc) })
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "ldaps" {
		return net.JoinHostPort(u.Hostname(), ldap.DefaultLdapsPort)
	}
	return net.JoinHostPort(u.Hostname(), ldap.DefaultLdapPort)
}

// step runs one exchange (what it is says the error) with a deadline of
// now plus the timeout, or the context's if sooner. An error from the
// connection is an ErrUnreachable or ErrUntrusted; an LDAP result (the
// directory answered) is returned in a plain error for the caller to
// read with ldap.IsErrorWithCode.
func (s *session) step(ctx context.Context, what string, op func() error) error {
	deadline := time.Now().Add(s.c.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	s.raw.SetDeadline(deadline)
	err := op()
	var result *ldap.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &result) && result.ResultCode < ldap.ErrorNetwork:
		return &dirError{url: s.c.URL, msg: what + ": " + result.Error(), cause: err}
	}
	return s.transport(ctx, what, err, deadline)
}

// transport explains a failure of the connection itself.
func (s *session) transport(ctx context.Context, what string, err error, deadline time.Time) error {
	e := &dirError{url: s.c.URL, kind: ErrUnreachable, cause: err}
	var nerr net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		e.msg, e.kind, e.cause = what+": cancelled", nil, ctx.Err()
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.msg = "unreachable: no answer to " + what + " before the request's deadline"
	case s.tlsErr != nil:
		e.msg, e.kind, e.cause = "its certificate is not trusted: "+s.tlsErr.Error(), ErrUntrusted, s.tlsErr
	case !time.Now().Before(deadline) || errors.As(err, &nerr) && nerr.Timeout():
		e.msg = "unreachable: no answer to " + what + " within " + s.c.Timeout.String()
	default:
		e.msg = "unreachable: " + what + ": " + err.Error()
	}
	return e
}

func (s *session) close() {
	s.stop()
	if s.conn != nil {
		s.conn.Close()
	}
	s.raw.Close()
}
