// Package httpserve serves HTTP/1.1 on the appliance's listeners: net/http
// with the limits each listener wants (connections open at once, header,
// body and idle timeouts, a grace period at shutdown) and, for the few
// routes a boot storm asks for, a fast path in front of it.
//
// A Server is built by New from a Config and serves a listener with Serve
// until its context ends:
//
//	srv := httpserve.New(httpserve.Config{
//		Handler:   mux,  // every request net/http reads; sends FastPaths to boot
//		Fast:      boot, // the plain GET and HEAD requests for FastPaths
//		FastPaths: []string{"/boot.ipxe", "/boot/", "/images/"},
//		Log:       log,
//	})
//	err := srv.Serve(ctx, ln)
//
// The fast path reads and answers a plain HTTP/1.1 GET or HEAD for one of
// FastPaths on the connection's own goroutine, calls Fast directly and
// writes the headers and a small body with one write(2), a large file
// with sendfile(2) in turns (Config.SendSlots). It answers as net/http
// would, byte for byte; everything else goes to net/http, on the same
// connection (see fast.go). A 1,000-machine boot storm boots in 10 s
// through it, 22 to 27 s on net/http alone.
//
// Each listener's connections are limited (limit.go): MaxConns open at
// once, MaxConnsPerClient from one client, and those waiting for a
// request go first: at a limit the oldest idle connections close to make
// room, so that idle keep-alive connections, however many, never lock a
// new client out. On a listener the boot routes share with the API and
// the dashboard, Config.Reserved names the latter's routes: ReservedConns
// connections are kept for them, a boot request that would take one is
// answered 503 (share.go). Server.Stats counts what the limits did.
//
// The package also holds what the appliance's HTTP handlers share: a
// Recorder that notes a response's status, bytes and write error without
// hiding sendfile, and a LineWriter that takes the per-request log lines
// off the requests' goroutines.
//
// Logging: Config.Log gets the server's own errors, net/http's ErrorLog
// lines (a handler's panic, a failed TLS handshake...) and the fast path's
// same lines, at level Error; a nil Log is slog.Default(), which by
// default writes where net/http's default error log did (the log
// package's standard logger).
package httpserve
