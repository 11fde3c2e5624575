package httpserve

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"time"
)

// ReadFrom copies a file's body: a small one into the response buffer, for
// one write with the headers, a large one with sendfile(2).
func (w *fastResponse) ReadFrom(src io.Reader) (n int64, err error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	if !w.committed {
		n0, err := io.CopyBuffer(writerOnly{w}, io.LimitReader(src, 512), buf)
		n += n0
		if err != nil || n0 < 512 {
			return n, err
		}
		w.commitPending(false) // as net/http: the headers go before the rest
	}
	c := w.c
	if w.chunking || !bodyAllowed(w.status) || w.req.Method == http.MethodHead || c.werr != nil {
		n0, err := io.CopyBuffer(writerOnly{w}, src, buf)
		return n + n0, err
	}
	if lr, ok := src.(*io.LimitedReader); ok && lr.N <= fastCopyMax {
		// Read it after the headers, for one write.
		size := int(lr.N)
		if w.contentLength != -1 && w.written+int64(size) > w.contentLength {
			n0, err := io.CopyBuffer(writerOnly{w}, src, buf)
			return n + n0, err
		}
		c.out = slices.Grow(c.out, size)
		m, err := io.ReadFull(lr, c.out[len(c.out):len(c.out)+size])
		c.out = c.out[:len(c.out)+m]
		n += int64(m)
		w.written += int64(m)
		if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			err = nil // the source was shorter: as io.Copy
		}
		if len(c.out) >= fastFlushAt {
			c.flush()
		}
		return n, err
	}
	// Corked, as nginx's tcp_nopush: the headers and the file go out in
	// full segments, not each sendfile(2) with a short one at its end
	// (twice the throughput on loopback). Uncorking sends what is left.
	if cork(c.c.TCPConn, true) {
		defer cork(c.c.TCPConn, false)
	}
	if c.flush(); c.werr != nil {
		return n, c.werr
	}
	n0, err := c.sendFile(src)
	n += n0
	w.written += n0
	if err != nil {
		c.werr = err
	}
	return n, err
}

// Config.SendSlots bounds the connections sending a large file at one
// moment, and sendChunk how much one sends before it lets another take its
// turn (nginx's sendfile_max_chunk does the same within a worker). A thousand
// machines pulling their initrd at once otherwise share the cores among
// a thousand sockets, each woken to send what its buffer has room for:
// the storm moved 2.4 GB/s where 16 streams move 3.3. A connection
// waiting for its turn has its headers and part of its body already; the
// longest wait is about one turn of every other (1,000 x 4 MiB at 3 GB/s:
// a second), which neither TCP nor a boot loader notices.
//
// A turn lasts at most Config.TurnHold: a client that reads slowly gives
// up its slot and waits for another turn; one that read nothing in a whole turn
// (a machine switched off mid-download) sends the rest outside the turns,
// so that dead clients cannot hold the slots until TCP gives up on them.
const sendChunk = 4 << 20

// unread moves r back over the n bytes read from it but not sent. A turn
// that is over before sendfile(2) begins (its goroutine held up longer
// than TurnHold) finds the deadline passed: net then falls back to a copy,
// which reads a buffer of the file before its write times out.
func unread(r io.Reader, n int64) error {
	if n <= 0 {
		return nil
	}
	s, ok := r.(io.Seeker)
	if !ok {
		return fmt.Errorf("httpserve: %d bytes of a body read but not sent", n)
	}
	_, err := s.Seek(-n, io.SeekCurrent)
	return err
}

// sendFile sends src, a file or a part of one, with sendfile(2), in
// chunks of sendChunk, each in a turn of a Server.sendSlots slot.
func (c *fastConn) sendFile(src io.Reader) (int64, error) {
	lr, ok := src.(*io.LimitedReader)
	if !ok || c.wdeadline { // a deadline of the handler's own: not ours to change
		return c.c.ReadFrom(src)
	}
	var n int64
	turns := true
	for lr.N > 0 {
		part := &io.LimitedReader{R: lr.R, N: min(lr.N, sendChunk)}
		if !turns {
			part.N = lr.N
		}
		if turns {
			c.fs.s.sendSlots <- struct{}{}
			c.c.SetWriteDeadline(time.Now().Add(c.fs.s.turnHold))
		}
		size := part.N
		m, err := c.c.ReadFrom(part) // sendfile(2), when lr.R is a file
		timedOut := false
		if turns {
			<-c.fs.s.sendSlots
			c.c.SetWriteDeadline(time.Time{})
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				// Slow: another turn; stuck: no more turns.
				err, timedOut, turns = unread(lr.R, size-part.N-m), true, m > 0
			}
		}
		n += m
		lr.N -= m
		if err != nil {
			return n, err
		}
		if m == 0 && !timedOut {
			break // the file ended early
		}
	}
	return n, nil
}
