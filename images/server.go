package images

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Limits of Serve. There is no write timeout: a rootfs over a slow link
// may take minutes, and an idle client is cut by the kernel's TCP timers.
// A request's body must arrive within readTimeout (a handler that takes a
// long upload, after checking who sends it, lifts it with
// http.ResponseController); a request without a body has the deadline
// lifted once its headers are read, or net/http would cancel a long
// answer (an event stream, a slow rootfs) when it passes. At most maxConns
// connections are open at once; more wait in the kernel's accept queue.
const (
	shutdownGrace = 5 * time.Second // for transfers in flight at shutdown
	maxConns      = 2048
)

// Variables for the tests.
var (
	readTimeout       = 30 * time.Second
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// Serve answers HTTP on l with h until ctx is done, then stops accepting,
// gives the requests in flight shutdownGrace to finish, closes the rest and
// returns nil. Serve owns l and closes it.
func Serve(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := newServer(ctx, h)
	l = newLimitListener(l, maxConns)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return fmt.Errorf("images: http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("images: http: %w", err)
	}
	return nil
}

// newServer is the net/http server of Serve and ServeBoot.
func newServer(ctx context.Context, h http.Handler) *http.Server {
	inner := h
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 {
			http.NewResponseController(w).SetReadDeadline(time.Time{})
		}
		inner.ServeHTTP(w, r)
	})
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout, IdleTimeout: idleTimeout,
		BaseContext: func(net.Listener) context.Context { return ctx }}
}
