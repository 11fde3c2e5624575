package tftp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/provision/provision/internal/textsafe"
)

// resends is how often a packet is sent again before a transfer is given
// up: the send and 5 resends, as tftpd-hpa and pin/tftp do.
const resends = 5

// errTimeout: the client stopped acknowledging.
var errTimeout = errors.New("no acknowledgement")

// transfer sends one file to one client from its own socket (its TID,
// RFC 1350 section 4), block by block, each sent again after timeout
// until acknowledged. The first exchange is the one a forged request
// never completes: under pressure it is given firstACK in all.
type transfer struct {
	ctx        context.Context
	conn       *net.UDPConn
	peer       *net.UDPAddr
	slot       *slot
	timeout    time.Duration // the server's, until the client has acknowledged a packet
	optTimeout time.Duration // the client's timeout option (RFC 2349), after that
	firstACK   time.Duration
	start      time.Time
	acked      bool   // the client has acknowledged a packet
	buf        []byte // the DATA packet
	in         []byte // what the client sends: ACK or ERROR
}

// sendError sends an ERROR packet for err; the transfer ends with it.
func (t *transfer) sendError(err error) {
	t.conn.WriteToUDP(errorPacket(err), t.peer)
}

// run negotiates the options and sends r (size bytes, -1 if unknown).
// It returns the bytes of the file sent, acknowledged or not.
func (t *transfer) run(r io.Reader, n negotiated) (int64, error) {
	// A forged request never acknowledges: the client's timeout (up to
	// 255 s) applies once it has, so it cannot hold a slot for 6 × 255 s.
	t.optTimeout = time.Duration(n.timeout) * time.Second
	if len(n.oack) > 0 {
		if err := t.exchange(oackPacket(n.oack), 0); err != nil {
			return 0, fmt.Errorf("option acknowledgement: %w", err)
		}
	}
	t.buf = make([]byte, 4+n.blksize)
	binary.BigEndian.PutUint16(t.buf, opDATA)
	var sent int64
	for block := uint16(1); ; block++ { // block numbers roll over to 0, as tftpd-hpa's do
		l, err := io.ReadFull(r, t.buf[4:])
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return sent, fmt.Errorf("read block %d: %w", block, err)
		}
		binary.BigEndian.PutUint16(t.buf[2:], block)
		sent += int64(l)
		if err := t.exchange(t.buf[:4+l], block); err != nil {
			return sent, fmt.Errorf("block %d: %w", block, err)
		}
		if l < n.blksize {
			return sent, nil
		}
	}
}

// exchange sends p until the client acknowledges block. A duplicate ACK
// of an earlier block is ignored rather than answered (the Sorcerer's
// Apprentice bug, RFC 1123 4.2.3.1); a packet from another address or
// port is ignored.
func (t *transfer) exchange(p []byte, block uint16) error {
	if t.in == nil {
		t.in = make([]byte, 4+512)
	}
	in := t.in
	for try := 0; ; try++ {
		if _, err := t.conn.WriteToUDP(p, t.peer); err != nil {
			return t.stopped(err)
		}
		wait := t.timeout
		if t.acked && t.optTimeout > 0 {
			wait = t.optTimeout
		}
		resend := time.Now().Add(wait)
		for {
			if t.dropUnderPressure() {
				return fmt.Errorf("%w within %v of the request, with the server under pressure", errTimeout, t.firstACK)
			}
			deadline := resend
			// Unacknowledged, wake up at firstACK to look at the pressure;
			// pressure that comes later is seen at the next resend.
			if check := t.start.Add(t.firstACK); !t.acked && check.After(time.Now()) && check.Before(deadline) {
				deadline = check
			}
			t.conn.SetReadDeadline(deadline)
			n, from, err := t.conn.ReadFromUDP(in)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if time.Now().Before(resend) {
					continue // a look at the pressure, not a resend
				}
				break
			}
			if err != nil {
				return t.stopped(err)
			}
			if !from.IP.Equal(t.peer.IP) || from.Port != t.peer.Port || n < 4 {
				continue
			}
			switch binary.BigEndian.Uint16(in) {
			case opACK:
				if binary.BigEndian.Uint16(in[2:]) == block {
					if !t.acked {
						t.acked = true
						t.slot.acknowledged()
					}
					return nil
				}
			case opError:
				return fmt.Errorf("%w with error %d: %s", errFromClient, binary.BigEndian.Uint16(in[2:]),
					textsafe.Strip(string(trimNUL(in[4:n]))))
			}
		}
		if try == resends {
			return fmt.Errorf("%w after %d sends %v apart", errTimeout, resends+1, wait)
		}
	}
}

// dropUnderPressure reports whether the transfer should end: no
// acknowledgement yet, firstACK since the request, and the server under
// pressure.
func (t *transfer) dropUnderPressure() bool {
	return !t.acked && time.Since(t.start) >= t.firstACK && t.slot.s.underPressure()
}

// stopped explains a socket error: the server stopping, the slot given
// to a newer request, or the error itself.
func (t *transfer) stopped(err error) error {
	switch {
	case t.ctx.Err() != nil:
		return errors.New("server shutting down")
	case t.slot.wasEvicted():
		return fmt.Errorf("%w: gave way to a newer request before the first acknowledgement", ErrBusy)
	}
	return err
}

func trimNUL(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
