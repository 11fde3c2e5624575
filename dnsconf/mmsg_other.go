//go:build !linux

package dnsconf

import (
	"context"
	"errors"
	"net"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchConn is ipv4's or ipv6's PacketConn: the same methods.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

func (w *worker) run(ctx context.Context) error {
	var pc batchConn = ipv4.NewPacketConn(w.conn)
	if a, ok := w.conn.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		pc = ipv6.NewPacketConn(w.conn)
	}
	in, out := make([]ipv4.Message, batch), make([]ipv4.Message, batch)
	bufs := make([][]byte, batch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, dns.MaxMsgSize)}
		bufs[i] = make([]byte, w.s.cfg.MaxUDP)
		out[i].Buffers = [][]byte{nil}
	}
	for {
		n, err := pc.ReadBatch(in, 0)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		replies := 0
		for _, m := range in[:n] {
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			if r := w.packet(ctx, m.Buffers[0][:m.N], ua.AddrPort(), bufs[replies]); r != nil {
				out[replies].Buffers[0], out[replies].Addr = r, m.Addr
				replies++
			}
		}
		for sent := 0; sent < replies; {
			k, err := pc.WriteBatch(out[sent:replies], 0)
			if err != nil || k == 0 {
				break // a reply lost like a datagram: the client asks again
			}
			sent += k
		}
	}
}
