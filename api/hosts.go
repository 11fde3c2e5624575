package api

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// CheckHost refuses, with 421 Misdirected Request, a request whose Host
// header own does not accept (nil accepts every host): a page whose DNS
// name was rebound to the appliance's address then reads nothing from the
// browsers of the network. /healthz is answered to any host.
func CheckHost(own func(host string) bool, next http.Handler) http.Handler {
	if own == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && !own(HostName(r.Host)) {
			writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf("host %q is not one of this appliance's names or addresses (api_hosts in its configuration adds one)", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// HostName is the host of a Host header without its port, in lower case
// and without a final dot: "[::1]:8443" is "::1", "Prov.Example.:443"
// is "prov.example".
func HostName(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	return strings.ToLower(h)
}

// bootURL is the appliance's URL as machines reach it (Config.BootURL),
// else the address the request came to: never the Host header, which the
// client chooses.
func (s *server) bootURL(r *http.Request) string {
	if s.BootURL != "" {
		return s.BootURL
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return "http://" + a.String()
	}
	return "http://127.0.0.1"
}
