package lab

import (
	"fmt"
	"io"
	"net"
)

// relay takes l's connections until l is closed and joins each to a new
// connection that dial makes (a server in another namespace), carrying
// the bytes both ways until either side closes, then closing both. A
// failed dial drops the connection and is logged to log, naming what.
func relay(l net.Listener, log io.Writer, what string, dial func() (net.Conn, error)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := dial()
			if err != nil {
				fmt.Fprintf(log, "lab: %s: %v\n", what, err)
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(up, c); done <- struct{}{} }()
			go func() { io.Copy(c, up); done <- struct{}{} }()
			<-done
		}()
	}
}

// dialServer returns a dial for relay: a TCP connection to address in
// n's server namespace.
func dialServer(n *Net, address string) func() (net.Conn, error) {
	return func() (up net.Conn, err error) {
		err = inNamespace(n.ServerNS, func() (err error) {
			up, err = net.Dial("tcp", address)
			return err
		})
		return up, err
	}
}
