package tftp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/pin/tftp/v3/netascii"
	"github.com/provision/provision/internal/textsafe"
)

// handler answers the requests of one Serve call.
type handler struct {
	srv  *Server
	ctx  context.Context
	root *os.Root
	conn *requestConn
	mtus mtus
	wg   sync.WaitGroup // the transfers in flight
}

// loop reads requests until the socket is closed.
func (h *handler) loop() error {
	buf := make([]byte, 4096) // a request with options is far shorter
	for {
		n, info, err := h.conn.read(buf)
		switch {
		case h.ctx.Err() != nil || errors.Is(err, net.ErrClosed):
			return err
		case err != nil: // a transient error (ENOBUFS, an ICMP error): do not spin
			time.Sleep(10 * time.Millisecond)
		case info.peer != nil:
			h.request(buf[:n], info)
		}
	}
}

// request answers one datagram to the request port. A packet that is no
// request (a late ACK, say) is dropped; a refused request is answered
// from this port with an ERROR, an admitted one starts its transfer.
func (h *handler) request(p []byte, info packetInfo) {
	if len(p) < 2 || (binary.BigEndian.Uint16(p) != opRRQ && binary.BigEndian.Uint16(p) != opWRQ) {
		return
	}
	client := info.peer.AddrPort().Addr().Unmap()
	req, err := parseRequest(p)
	switch {
	case err != nil:
		err = fmt.Errorf("%w: %w", errIllegal, err)
	case req.op == opWRQ:
		err = fmt.Errorf("write %q: read-only server: %w", req.name, fs.ErrPermission)
	default:
		err = checkMode(req.mode)
	}
	var sl *slot
	if err == nil {
		sl, err = h.srv.slots.acquire(client)
	}
	if err != nil { // answered from this port, with no socket or file of its own
		h.conn.reply(errorPacket(err), info)
		if h.srv.refusals.Allow(client.String(), time.Now()) { // a flood is answered, not written down
			h.report(Transfer{Client: client, File: textsafe.Strip(req.name), Err: err})
		}
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer sl.release()
		h.read(req, info, sl)
	}()
}

// read runs an admitted read request and reports it.
func (h *handler) read(req request, info packetInfo, sl *slot) {
	start := time.Now()
	client := info.peer.AddrPort().Addr().Unmap()
	tr := Transfer{Client: client, File: textsafe.Strip(req.name)}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: info.local})
	if err != nil {
		tr.Err = fmt.Errorf("read %q: %w", req.name, err)
		h.report(tr)
		return
	}
	if !sl.attach(conn) {
		tr.Err = fmt.Errorf("read %q: %w: gave way to a newer request", req.name, ErrBusy)
		h.report(tr)
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(h.ctx, func() { conn.Close() })
	defer stop()
	t := &transfer{ctx: h.ctx, conn: conn, peer: info.peer, slot: sl, timeout: h.srv.timeout,
		firstACK: h.srv.firstACK, start: start}
	var c content
	c, tr.Bytes, tr.Err = h.send(t, req, client, h.maxBlock(info))
	tr.MAC, tr.Role, tr.Duration = c.mac, c.role, time.Since(start)
	if tr.Err != nil && !errors.Is(tr.Err, errFromClient) {
		t.sendError(tr.Err) // on a closed socket (shutdown, eviction) this fails, as it should
	}
	h.report(tr)
}

// errFromClient: the client ended the transfer with an ERROR of its own.
var errFromClient = errors.New("the client ended the transfer")

// send resolves and opens a request's name and sends it; it returns what
// the name stands for and the bytes sent.
func (h *handler) send(t *transfer, req request, client netip.Addr, maxBlock int) (content, int64, error) {
	c, err := h.srv.resolve(req.name, client)
	if err != nil {
		return c, 0, err
	}
	r, size, err := h.open(c)
	if err != nil {
		return c, 0, err
	}
	defer r.Close()
	var src io.Reader = r
	if req.mode == modeNetASCII {
		src, size = netascii.ToReader(r), -1 // the size on the wire is unknown
	}
	n, err := t.run(src, negotiate(req.opts, maxBlock, size))
	if err != nil {
		return c, n, fmt.Errorf("send %q: %w", req.name, err)
	}
	return c, n, nil
}

// maxBlock is the largest block whose DATA packet fits the MTU of the
// interface the request came in on (0 if unknown): the IP and UDP
// headers and TFTP's 4 bytes (RFC 2348).
func (h *handler) maxBlock(info packetInfo) int {
	mtu := h.mtus.get(info.ifIndex)
	if mtu == 0 {
		return 0
	}
	if info.peer.IP.To4() != nil {
		return mtu - 20 - 8 - 4
	}
	return mtu - 40 - 8 - 4
}

// open returns a reader of the content and its size. A static file is opened
// through the os.Root and must be a regular file; O_NONBLOCK keeps a FIFO
// from blocking the open.
func (h *handler) open(c content) (io.ReadCloser, int64, error) {
	var f *os.File
	var err error
	switch {
	case c.image != "":
		if h.srv.images == nil {
			return nil, 0, fmt.Errorf("images/%s/%s: no images are served: %w", c.image, c.role, fs.ErrNotExist)
		}
		if f, err = h.srv.images.OpenImageFile(c.image, c.role); err != nil {
			return nil, 0, fmt.Errorf("images/%s/%s: %w", c.image, c.role, err)
		}
	case c.file == "":
		return io.NopCloser(bytes.NewReader(c.data)), int64(len(c.data)), nil
	default:
		if f, err = h.root.OpenFile(c.file, os.O_RDONLY|syscall.O_NONBLOCK, 0); err != nil {
			return nil, 0, openError(c.file, err)
		}
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file: %w", c.file, fs.ErrNotExist)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// openError keeps "not found" and classes any other failure to open a
// name under the root (a symlink out of it, a forbidden file) as refused.
func openError(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	return fmt.Errorf("%w (%w)", fs.ErrPermission, err)
}

// report logs a request once and hands it to OnTransfer.
func (h *handler) report(t Transfer) {
	h.srv.log.LogAttrs(h.ctx, logLevel(t.Err), "tftp request",
		slog.String("client", t.Client.String()), slog.String("file", t.File),
		slog.Int64("bytes", t.Bytes), slog.Duration("duration", t.Duration),
		slog.Any("err", t.Err))
	if h.srv.onTransfer != nil {
		h.srv.onTransfer(t)
	}
}

func logLevel(err error) slog.Level {
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
		return slog.LevelInfo
	default:
		return slog.LevelWarn
	}
}
