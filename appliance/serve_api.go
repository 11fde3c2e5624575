package appliance

import (
	"time"

	"context"
	"crypto/tls"
	"fmt"
	"github.com/provision/provision/access"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/apitoken"
	"github.com/provision/provision/internal/httpserve"
	"github.com/provision/provision/internal/sdnotify"
	"github.com/provision/provision/internal/tlscert"
	"github.com/provision/provision/registry"
)

// auth says who a token belongs to: a user (the registry keeps their
// tokens' hashes), else one of the token files, the break-glass admin
// and viewer.
func (a *Appliance) auth(token string) (access.Principal, error) {
	return api.UserTokens(a.reg, a.fileToken, time.Now)(token)
}

// fileToken is the principal of a token file's token.
func (a *Appliance) fileToken(token string) (access.Principal, error) {
	switch name, ok := a.tokens.Check(token); {
	case ok && name == apitoken.Admin:
		return api.FileAdmin, nil
	case ok:
		return api.FileViewer, nil
	}
	return api.Tokens("", "")(token)
}

// asActor marks the registry changes h makes as made by name, from the
// client's address (history's by and from).
func asActor(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		h.ServeHTTP(w, r.WithContext(registry.WithActor(r.Context(), registry.Actor{Name: name, Addr: host})))
	})
}

// listenAPI opens the --api listener, over TLS, before anything is
// served: a certificate that cannot be read stops the start.
func (a *Appliance) listenAPI() (net.Listener, error) {
	var cert tls.Certificate
	var err error
	if a.cfg.TLSCert != "" {
		cert, err = tlscert.Load(a.cfg.TLSCert, a.cfg.TLSKey)
	} else {
		dir := filepath.Join(a.cfg.Data, "tls")
		if err = os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		names := []string{a.cfg.Address}
		if host, _, err := net.SplitHostPort(a.cfg.API); err == nil && host != "" {
			names = append(names, host)
		}
		cert, err = tlscert.Ensure(filepath.Join(dir, "api.crt"), filepath.Join(dir, "api.key"), names)
	}
	if err != nil {
		return nil, err
	}
	ln, err := a.listen("tcp", a.cfg.API, "API", "--api")
	if err != nil {
		return nil, err
	}
	a.addrs.API = ln.Addr().String()
	a.log.Info("listening", "proto", "https", "addr", ln.Addr().String(), "what", "api",
		"certificate", tlscert.Fingerprint(cert.Certificate[0]))
	a.apiCert.Store(&cert)
	return tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return a.apiCert.Load(), nil }}), nil
}

// notify tells systemd (Type=notify) how the appliance is doing.
func (a *Appliance) notify(state string) {
	if _, err := sdnotify.Notify(state); err != nil {
		a.log.Warn("systemd: cannot notify", "err", err)
	}
}

// reloadOnHUP reads the API's TLS certificate and key (--tls-cert,
// --tls-key) again on SIGHUP, so that a renewed certificate is served
// without a restart; a bad one is refused and the old one kept. The API
// tokens need no signal: their files are read again when they change.
// Other settings take a restart.
func (a *Appliance) reloadOnHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		a.notify("RELOADING=1")
		switch {
		case a.cfg.TLSCert == "":
			a.log.Info("SIGHUP: nothing to read again (the API has no --tls-cert); tokens are read when their files change, other settings take a restart")
		default:
			cert, err := tlscert.Load(a.cfg.TLSCert, a.cfg.TLSKey)
			if err != nil {
				a.log.Error("SIGHUP: the new TLS certificate is refused, the old one stays", "cert", a.cfg.TLSCert, "err", err)
				break
			}
			a.apiCert.Store(&cert)
			a.log.Info("SIGHUP: the API's TLS certificate was read again", "cert", a.cfg.TLSCert, "certificate", tlscert.Fingerprint(cert.Certificate[0]))
		}
		a.notify("READY=1")
	}
}

// listenError names the listener that could not open and the flag that
// moves it (or turns it off).
func listenError(what, flag, addr string, err error) error {
	hint := "give another address with " + flag
	if flag == "--dns" || flag == "--tftp" {
		hint += `, or ` + flag + ` "" to turn it off`
	}
	return fmt.Errorf("%s listener on %s: %w (%s)", what, addr, err, hint)
}

// serveAPI serves the API on its own listener.
func (a *Appliance) serveAPI(ln net.Listener, h http.Handler) {
	srv := httpserve.New(httpserve.Config{Handler: h, Log: a.log})
	a.httpServers["api"] = srv
	a.serve(func(ctx context.Context) error { return srv.Serve(ctx, ln) })
}
