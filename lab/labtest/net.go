package labtest

import (
	"net"
	"net/netip"
	"net/url"
	"testing"

	"github.com/provision/provision/lab"
)

// Net is a lab.Net (its fields and Addr, Command, InBridge) whose methods
// that make something take the test, as BootVM does.
type Net struct{ *lab.Net }

// NewNet is lab.Env.NewNet: name (letters, digits, '-') labels the
// namespaces, which t's end removes, and everything in them.
func NewNet(t testing.TB, name string) *Net {
	t.Helper()
	n, err := env(t).NewNet(name)
	check(t, err)
	return &Net{n}
}

// AddServer is lab.Env.AddServer: another server namespace on n's bridge,
// at address at of n's subnet.
func (n *Net) AddServer(t testing.TB, name string, at netip.Addr) *Net {
	t.Helper()
	s, err := env(t).AddServer(n.Net, name, at)
	check(t, err)
	return &Net{s}
}

// Listen is lab.Env.Listen: a listener in the server namespace, closed
// when t ends.
func (n *Net) Listen(t testing.TB, network, address string) net.Listener {
	t.Helper()
	l, err := env(t).Listen(n.Net, network, address)
	check(t, err)
	return l
}

// Forward is lab.Env.Forward: 127.0.0.1:PORT here, relayed to address
// in n's server namespace until t ends.
func (n *Net) Forward(t testing.TB, address string) string {
	t.Helper()
	a, err := env(t).Forward(n.Net, address)
	check(t, err)
	return a
}

// Exec is lab.Env.Exec: args in the server namespace in the background,
// stopped when t ends (SIGTERM, then SIGKILL after 5 s).
func (n *Net) Exec(t testing.TB, args ...string) *Proc {
	t.Helper()
	p, err := env(t).Exec(n.Net, args...)
	check(t, err)
	return p
}

// StartDnsmasq is lab.Env.StartDnsmasq: the network's own DHCP server, at
// address at, handing out the reservations; stopped when t ends.
func (n *Net) StartDnsmasq(t testing.TB, at netip.Addr, reservations ...Reservation) *Proc {
	t.Helper()
	p, err := env(t).StartDnsmasq(n.Net, at, reservations...)
	check(t, err)
	return p
}

// StartUpstream is lab.Env.StartUpstream: a relay from n's server
// namespace to the real archives, stopped when t ends.
func (n *Net) StartUpstream(t testing.TB, archives map[string]*url.URL) *lab.Upstream {
	t.Helper()
	u, err := env(t).StartUpstream(n.Net, archives)
	check(t, err)
	return u
}

// ToolIn is lab.Env.ToolIn: a script that runs the program name in n's
// server namespace (console.ManagerConfig.Ipmitool, to reach n's BMCs).
func (n *Net) ToolIn(t testing.TB, name string) string {
	t.Helper()
	path, err := env(t).ToolIn(n.Net, name)
	check(t, err)
	return path
}
