package dnsconf

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// mmsghdr is Linux's struct mmsghdr: a msghdr and the length received.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// mmsgs is a batch of datagrams for recvmmsg and sendmmsg, made once per
// worker: the loop allocates nothing per datagram.
type mmsgs struct {
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // big enough for IPv4 and IPv6 addresses
}

func newMmsgs(bufs [][]byte) *mmsgs {
	m := &mmsgs{hdrs: make([]mmsghdr, len(bufs)), iovs: make([]unix.Iovec, len(bufs)), names: make([]unix.RawSockaddrInet6, len(bufs))}
	for i := range bufs {
		m.set(i, bufs[i], &m.names[i], unix.SizeofSockaddrInet6)
	}
	return m
}

// set points message i at buf and the address name of length namelen.
func (m *mmsgs) set(i int, buf []byte, name *unix.RawSockaddrInet6, namelen uint32) {
	m.iovs[i].Base = unsafe.SliceData(buf)
	m.iovs[i].SetLen(len(buf))
	h := &m.hdrs[i].hdr
	h.Name, h.Namelen = (*byte)(unsafe.Pointer(name)), namelen
	h.Iov, h.Iovlen = &m.iovs[i], 1
}

// addr returns the address of message i as received.
func (m *mmsgs) addr(i int) (netip.AddrPort, bool) {
	raw := (*[unix.SizeofSockaddrInet6]byte)(unsafe.Pointer(&m.names[i]))
	port := binary.BigEndian.Uint16(raw[2:4])
	switch m.names[i].Family {
	case unix.AF_INET:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(raw[4:8])), port), true
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(raw[8:24])), port), true
	}
	return netip.AddrPort{}, false
}

// run answers the worker's socket with recvmmsg and sendmmsg on its file
// descriptor, through the runtime's poller (a full socket buffer or an
// empty one parks the goroutine, as net.UDPConn does).
func (w *worker) run(ctx context.Context) error {
	rc, err := w.conn.SyscallConn()
	if err != nil {
		return err
	}
	inBufs, outBufs := make([][]byte, batch), make([][]byte, batch)
	for i := range inBufs {
		inBufs[i] = make([]byte, dns.MaxMsgSize)
		outBufs[i] = make([]byte, w.s.cfg.MaxUDP)
	}
	in, out := newMmsgs(inBufs), newMmsgs(outBufs)
	for {
		for i := range in.hdrs {
			in.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		}
		n, err := mmsg(rc.Read, unix.SYS_RECVMMSG, in.hdrs)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		replies := 0
		for i := range n {
			from, ok := in.addr(i)
			if !ok {
				continue
			}
			if r := w.packet(ctx, inBufs[i][:in.hdrs[i].n], from, outBufs[replies]); r != nil {
				out.set(replies, r, &in.names[i], in.hdrs[i].hdr.Namelen)
				replies++
			}
		}
		for sent := 0; sent < replies; {
			k, err := mmsg(rc.Write, unix.SYS_SENDMMSG, out.hdrs[sent:replies])
			if err != nil || k == 0 {
				break // a reply lost like a datagram: the client asks again
			}
			sent += k
		}
	}
}

// mmsg runs recvmmsg or sendmmsg (call) on hdrs through the poller (do:
// RawConn.Read or Write), and returns how many messages went through.
//
// The call is a raw one: the socket is non-blocking, so it returns at
// once (EAGAIN parks the goroutine in the poller instead), and the
// runtime need not know of it. Through Syscall6 a sendmmsg of 32
// datagrams, which delivers each through loopback or a veth in the
// same call, outlasted sysmon's 20 us often enough for it to hand the
// worker's P to another thread: a thread switch and a P to win back,
// 7 % of the CPU per query under dnsperf.
func mmsg(do func(func(uintptr) bool) error, call uintptr, hdrs []mmsghdr) (int, error) {
	var n int
	var errno unix.Errno
	err := do(func(fd uintptr) bool {
		r, _, e := unix.RawSyscall6(call, fd, uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), 0, 0, 0)
		n, errno = int(r), e
		return e != unix.EAGAIN && e != unix.EINTR
	})
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}
