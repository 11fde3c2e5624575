package lab

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Listen opens a listener inside n's server namespace, for a server that
// runs in this process (address like "10.251.0.1:0"). Only the socket is
// made there: the process stays in its own namespace. Close closes it.
func (e *Env) Listen(n *Net, network, address string) (net.Listener, error) {
	var l net.Listener
	err := inNamespace(n.ServerNS, func() (err error) {
		l, err = net.Listen(network, address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lab: listen %s %s in %s: %w", network, address, n.ServerNS, err)
	}
	e.Defer(func() { l.Close() })
	return l, nil
}

// inNamespace runs fn on a locked OS thread moved into the named network
// namespace (setns(2)), so sockets fn creates live there. The thread moves
// back afterwards; if it cannot, it stays locked and Go ends it with its
// goroutine, so no other goroutine ever runs in the wrong namespace.
func inNamespace(name string, fn func() error) error {
	target, err := os.Open("/run/netns/" + name)
	if err != nil {
		return err
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			errc <- err
			return // the thread stays locked and is discarded
		}
		defer home.Close()
		if err := setns(target); err != nil {
			errc <- err
			return
		}
		errc <- fn()
		if setns(home) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return <-errc
}

// setns moves the calling thread into the network namespace of f.
func setns(f *os.File) error {
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns %s: %w", f.Name(), err)
	}
	return nil
}

// InBridge runs fn with its sockets made in the bridge namespace, where
// the test's DHCP clients plug their veths (see Listen).
func (n *Net) InBridge(fn func() error) error { return inNamespace(n.BridgeNS, fn) }

// Forward listens on 127.0.0.1 of this process's namespace and relays
// each connection to address (host:port) in n's server namespace: a
// program that runs here (a browser) reaches a server of the lab (the
// appliance's dashboard) as "127.0.0.1:PORT", which it returns.
func (e *Env) Forward(n *Net, address string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("lab: %w", err)
	}
	e.Defer(func() { l.Close() })
	go relay(l, e.log, "forward to "+address, dialServer(n, address))
	return l.Addr().String(), nil
}
