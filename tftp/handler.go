package tftp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/pin/tftp/v3"
)

// handler answers the requests of one Serve call.
type handler struct {
	srv  *Server
	ctx  context.Context
	root *os.Root
}

// read is pin/tftp's read handler: it runs on the transfer's goroutine.
func (h *handler) read(name string, rf io.ReaderFrom) error {
	select {
	case h.srv.slots <- struct{}{}:
		defer func() { <-h.srv.slots }()
	default:
		err := fmt.Errorf("read %q: %w (%d)", name, ErrBusy, cap(h.srv.slots))
		h.report(rf, Transfer{File: name, Err: err})
		return wireError(err)
	}
	start := time.Now()
	c, n, err := h.send(name, rf)
	h.report(rf, Transfer{File: name, MAC: c.mac, Role: c.role, Bytes: n, Duration: time.Since(start), Err: err})
	return wireError(err)
}

// write is pin/tftp's write handler: this server is read-only.
func (h *handler) write(name string, wt io.WriterTo) error {
	err := fmt.Errorf("write %q: read-only server: %w", name, fs.ErrPermission)
	h.report(wt, Transfer{File: name, Err: err})
	return wireError(err)
}

// send resolves and opens a name and sends it; it returns the bytes sent.
func (h *handler) send(name string, rf io.ReaderFrom) (content, int64, error) {
	c, err := h.srv.resolve(name)
	if err != nil {
		return c, 0, err
	}
	r, size, err := h.open(c)
	if err != nil {
		return c, 0, err
	}
	defer r.Close()
	if ot, ok := rf.(tftp.OutgoingTransfer); ok {
		ot.SetSize(size) // tsize, RFC 2349: our reader is no io.Seeker
	}
	n, err := rf.ReadFrom(ctxReader{h.ctx, r})
	if err != nil {
		return c, n, fmt.Errorf("send %q: %w", name, err)
	}
	return c, n, nil
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

// ctxReader stops a transfer at its next block once the server stops.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, errors.New("server shutting down")
	}
	return c.r.Read(p)
}

// report fills in the client, logs the request once and hands it to
// OnTransfer. A refused request first gets its own ERROR packet (below).
func (h *handler) report(peer any, t Transfer) {
	addr, local := peerOf(peer)
	t.Client = addr.AddrPort().Addr().Unmap()
	if errors.Is(t.Err, fs.ErrPermission) {
		if err := sendError(local, addr, errAccessViolation, "access violation"); err != nil {
			t.Err = fmt.Errorf("%w; sending error 2: %w", t.Err, err)
		}
	}
	h.srv.log.LogAttrs(h.ctx, logLevel(t.Err), "tftp request",
		slog.String("client", t.Client.String()), slog.String("file", t.File),
		slog.Int64("bytes", t.Bytes), slog.Duration("duration", t.Duration),
		slog.Any("err", t.Err))
	if h.srv.onTransfer != nil {
		h.srv.onTransfer(t)
	}
}

// peerOf returns the client's address and the local IP its request came
// to, from pin/tftp's transfer (OutgoingTransfer or IncomingTransfer).
func peerOf(transfer any) (remote net.UDPAddr, local net.IP) {
	if t, ok := transfer.(interface{ RemoteAddr() net.UDPAddr }); ok {
		remote = t.RemoteAddr()
	}
	if t, ok := transfer.(tftp.RequestPacketInfo); ok {
		local = t.LocalIP()
	}
	return remote, local
}

func logLevel(err error) slog.Level {
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
		return slog.LevelInfo
	default:
		return slog.LevelWarn
	}
}
