package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pin/tftp/v3"
)

// tftpGet fetches name from server as a PXE ROM does (octet mode, tsize,
// blksize), with pin/tftp's client: timeout per packet, resends per
// packet, and attempts whole transfers (a busy server refuses at once);
// retries counts both the packets resent and the transfers restarted.
// The client's socket is pin/tftp's: an ephemeral port on the default
// source address (10.77.0.2), not the machine's leased address.
func tftpGet(ctx context.Context, server, name string, blksize int, timeout time.Duration, resends, attempts int, retries *int) (int64, error) {
	var last error
	for a := 0; a < attempts; a++ {
		if a > 0 {
			*retries++
			if err := sleep(ctx, backoff(a)); err != nil {
				return 0, err
			}
		}
		c, err := tftp.NewClient(server)
		if err != nil {
			return 0, err
		}
		c.SetTimeout(timeout)
		c.SetRetries(resends)
		c.SetBlockSize(blksize)
		// A packet resent after its timeout counts as a retry; no random
		// pause on top of the timeout (pin/tftp's default adds up to 1 s).
		c.SetBackoff(func(int) time.Duration { *retries++; return 0 })
		c.RequestTSize(true)
		wt, err := c.Receive(name, "octet")
		if err != nil {
			last = fmt.Errorf("tftp %s %s: %w", server, name, err)
			continue
		}
		want, hasSize := wt.(tftp.IncomingTransfer).Size()
		var n int64
		n, err = wt.WriteTo(io.Discard)
		if err == nil && hasSize && n != want {
			err = fmt.Errorf("got %d bytes, tsize said %d", n, want)
		}
		if err == nil {
			return n, nil
		}
		last = fmt.Errorf("tftp %s %s after %d bytes: %w", server, name, n, err)
	}
	return 0, last
}

// backoff before attempt a (1, 2, ...): 1 s, 2 s, 4 s, capped at 8 s.
func backoff(a int) time.Duration {
	d := time.Second << (a - 1)
	return min(d, 8*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// httpClient is one machine's HTTP: its own connections, from its own
// leased address when local is set, as iPXE's would be.
func httpClient(local net.IP, headerTimeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:           d.DialContext,
		DisableCompression:    true,
		MaxIdleConnsPerHost:   1,
		ResponseHeaderTimeout: headerTimeout,
		ReadBufferSize:        64 << 10,
		Proxy:                 nil,
	}}
}

// bufPool holds the copy buffers: large reads, few system calls.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// counter counts bytes, and hashes them when h is set. It has no
// ReadFrom, so io.CopyBuffer uses the pooled buffer.
type counter struct {
	n int64
	h hash.Hash
}

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.h != nil {
		c.h.Write(p)
	}
	return len(p), nil
}

// httpGet downloads url to nowhere, with attempts tries each bounded by
// timeout; the length must match Content-Length (or a 206's
// Content-Range), and the SHA-256 sum must be wantSum when it is set. It
// returns the body, when keep is set. With resume, a try after a cut one
// asks for the rest (Range: bytes=N-), as wget -c does, and hashes on
// from where the cut one stopped; a server that answers 200 sends it all
// again.
func httpGet(ctx context.Context, c *http.Client, url string, timeout time.Duration, attempts int, wantSum string, keep, resume bool, retries *int) (int64, []byte, error) {
	var (
		last error
		cnt  *counter
	)
	for a := 0; a < attempts; a++ {
		if a > 0 {
			*retries++
			if err := sleep(ctx, backoff(a)); err != nil {
				return 0, nil, err
			}
		}
		if cnt == nil || !resume {
			cnt = newCounter(wantSum)
		}
		n, body, err := httpOnce(ctx, c, url, timeout, wantSum, keep, cnt)
		if err == nil {
			return n, body, nil
		}
		if ctx.Err() != nil {
			return 0, nil, err
		}
		last = err
		var perm permanent
		if errors.As(err, &perm) {
			break
		}
	}
	return 0, nil, last
}

// permanent is an answer that a retry would not change (404, a bad sum).
type permanent struct{ error }

func newCounter(wantSum string) *counter {
	c := &counter{}
	if wantSum != "" {
		c.h = sha256.New()
	}
	return c
}

// reset starts the count (and the hash) again from the first byte.
func (c *counter) reset() {
	c.n = 0
	if c.h != nil {
		c.h.Reset()
	}
}

// httpOnce is one try of httpGet: the whole file, or, when cnt already
// holds the first cnt.n bytes of it, the rest.
func httpOnce(ctx context.Context, c *http.Client, url string, timeout time.Duration, wantSum string, keep bool, cnt *counter) (int64, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, permanent{err}
	}
	req.Header.Set("User-Agent", "iPXE/1.0.0+ (storm)")
	from := cnt.n
	if from > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", from))
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	total := resp.ContentLength // of the whole file; -1: unknown
	switch {
	case resp.StatusCode == http.StatusPartialContent && from > 0:
		start, size, err := contentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != from {
			cnt.reset()
			return 0, nil, fmt.Errorf("GET %s from byte %d: Content-Range %q", url, from, resp.Header.Get("Content-Range"))
		}
		total = size
	case resp.StatusCode == http.StatusOK:
		cnt.reset() // the whole file again
	default:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		err := fmt.Errorf("GET %s: %s", url, resp.Status)
		if from > 0 {
			err = fmt.Errorf("GET %s from byte %d: %s", url, from, resp.Status)
		}
		cnt.reset()
		if resp.StatusCode < 500 && from == 0 {
			return 0, nil, permanent{err}
		}
		return 0, nil, err
	}
	if keep {
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return 0, nil, fmt.Errorf("GET %s after %d bytes: %w", url, len(body), err)
		}
		return int64(len(body)), body, nil
	}
	bp := bufPool.Get().(*[]byte)
	_, err = io.CopyBuffer(cnt, resp.Body, *bp)
	bufPool.Put(bp)
	switch {
	case err != nil:
		return 0, nil, fmt.Errorf("GET %s after %d bytes: %w", url, cnt.n, err)
	case total >= 0 && cnt.n != total:
		n := cnt.n
		if n > total {
			cnt.reset()
		}
		return 0, nil, fmt.Errorf("GET %s: %d bytes, want %d", url, n, total)
	case cnt.h != nil && hex.EncodeToString(cnt.h.Sum(nil)) != wantSum:
		return 0, nil, permanent{fmt.Errorf("GET %s: SHA-256 %x, want %s", url, cnt.h.Sum(nil), wantSum)}
	}
	return cnt.n, nil, nil
}

// contentRange parses a 206's "bytes START-END/SIZE".
func contentRange(v string) (start, size int64, err error) {
	var end int64
	if _, err := fmt.Sscanf(v, "bytes %d-%d/%d", &start, &end, &size); err != nil {
		return 0, 0, err
	}
	if start < 0 || end < start || end >= size {
		return 0, 0, fmt.Errorf("content range %q", v)
	}
	return start, size, nil
}

// scriptFiles finds the kernel and initrd URLs in an iPXE script: the
// first http(s) word of its "kernel" and "initrd" lines.
func scriptFiles(script []byte) (kernel, initrd string) {
	for _, line := range strings.Split(string(script), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var dst *string
		switch f[0] {
		case "kernel", "chain", "imgexec", "boot":
			dst = &kernel
		case "initrd", "imgfetch", "module":
			dst = &initrd
		default:
			continue
		}
		for _, w := range f[1:] {
			if (strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "https://")) && *dst == "" {
				*dst = w
				break
			}
		}
	}
	return kernel, initrd
}
