package lab

import (
	"fmt"
	"net"
	"sync"
)

// solRelay carries a PoweredVM's serial port to its BMC's serial-over-LAN
// across the two namespaces, as the wire between a server's UART and its
// BMC does. QEMU runs in the bridge namespace and connects its serial
// port to a Unix socket (VMOptions.Serial) at every power-on; ipmi_sim
// runs in the server namespace and connects to its SOL address (the
// "sol" line of its LAN configuration) whenever a SOL session is
// activated. Each side's newest connection is joined to the other's
// newest, so a SOL session outlives the VM's power cycles and reaches the
// next QEMU; the machine's bytes with no SOL session open are lost, as
// on a real serial port with nobody listening.
type solRelay struct {
	mu  sync.Mutex
	bmc net.Conn // ipmi_sim's, while a SOL session is active
	vm  net.Conn // QEMU's, while it runs
	// wire is what the machine sent on its serial port, each line with
	// the time it crossed the wire, whoever listened (PoweredVM.Wire).
	wire *Transcript
}

// relaySOL listens on the Unix socket path for QEMU and on addr:0 (TCP,
// in n's server namespace) for ipmi_sim, until the Env closes, and
// returns the TCP address for ipmi_sim's "sol" line, and the wire's
// Transcript.
func (e *Env) relaySOL(n *Net, path, addr string) (string, *Transcript, error) {
	vms, err := net.Listen("unix", path)
	if err != nil {
		return "", nil, fmt.Errorf("lab: SOL relay: %w", err)
	}
	e.Defer(func() { vms.Close() })
	bmcs, err := e.Listen(n, "tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		vms.Close()
		return "", nil, fmt.Errorf("lab: SOL relay: %w", err)
	}
	r := &solRelay{wire: newTranscript()}
	e.Defer(r.close)
	go r.accept(vms, &r.vm, &r.bmc)
	go r.accept(bmcs, &r.bmc, &r.vm)
	return bmcs.Addr().String(), r.wire, nil
}

// accept takes l's connections, each replacing the last as *side, and
// copies what each sends to the other side's current connection.
func (r *solRelay) accept(l net.Listener, side, other *net.Conn) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		if *side != nil {
			(*side).Close()
		}
		*side = c
		r.mu.Unlock()
		go r.copy(c, side, other)
	}
}

// copy sends what c reads to the current *other (dropping it while
// there is none) until c ends, then clears *side if it is still c.
func (r *solRelay) copy(c net.Conn, side, other *net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 && side == &r.vm {
			r.wire.Write(buf[:n])
		}
		if n > 0 {
			r.mu.Lock()
			to := *other
			r.mu.Unlock()
			if to != nil {
				to.Write(buf[:n]) // a closed peer drops the bytes; its own reader clears it
			}
		}
		if err != nil {
			break
		}
	}
	r.mu.Lock()
	if *side == c {
		*side = nil
	}
	r.mu.Unlock()
	c.Close()
}

// close ends both connections (the listeners are closed by their own
// cleanups).
func (r *solRelay) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range []net.Conn{r.bmc, r.vm} {
		if c != nil {
			c.Close()
		}
	}
}
