package httpserve

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// answer serves req with h (Config.Fast); false: close the connection.
func (c *fastConn) answer(req *http.Request, h http.Handler) bool {
	clear(c.respHeader)
	c.resp = fastResponse{c: c, req: req, header: c.respHeader, contentLength: -1, pend: c.pend[:0]}
	w := &c.resp
	h.ServeHTTP(w, req)
	w.finish()
	return !w.closeAfter && c.werr == nil && !c.fs.closing.Load() &&
		!(req.Method != http.MethodHead && w.contentLength != -1 && bodyAllowed(w.status) && w.contentLength != w.written)
}

// fastResponse is the http.ResponseWriter of the fast path.
type fastResponse struct {
	c             *fastConn
	req           *http.Request
	header        http.Header
	wroteHeader   bool
	status        int
	contentLength int64 // -1: not known
	written       int64 // body bytes the handler wrote
	pend          []byte
	snap          headerSnap
	committed     bool // the headers are in c.out
	chunking      bool
	closeAfter    bool
}

func (w *fastResponse) Header() http.Header { return w.header }

func (w *fastResponse) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		c := w.c
		c.out = appendStatus(c.out, code)
		c.out = appendHeader(c.out, w.header, excludeNoBody)
		c.out = append(c.out, "\r\n"...)
		c.flush()
		return
	}
	w.wroteHeader, w.status = true, code
	if cl := w.header.Get("Content-Length"); cl != "" {
		v, err := strconv.ParseInt(cl, 10, 64)
		if err == nil && v >= 0 {
			w.contentLength = v
		} else {
			w.c.fs.srv.ErrorLog.Printf("http: invalid Content-Length of %q", cl)
			w.header.Del("Content-Length")
		}
	}
	// As net/http, the headers are those of now: the handler may change
	// the map afterwards.
	h := w.header
	w.snap = headerSnap{ordinary: appendHeader(w.c.hdrBuf[:0], h, specialHeaders), contentType: h["Content-Type"],
		contentLength: h["Content-Length"], transferEncoding: h["Transfer-Encoding"], connection: h["Connection"],
		contentEncoding: h.Get("Content-Encoding")}
	_, w.snap.hasType = h["Content-Type"]
	_, w.snap.hasLength = h["Content-Length"]
	_, w.snap.hasDate = h["Date"]
	w.c.hdrBuf = w.snap.ordinary[:0]
}

// headerSnap is the response's header map when WriteHeader was called:
// the headers commit may leave out or add to apart, the others written.
type headerSnap struct {
	ordinary                                                 []byte
	contentType, contentLength, transferEncoding, connection []string
	contentEncoding                                          string
	hasType, hasLength, hasDate                              bool
}

var specialHeaders = []string{"Content-Type", "Content-Length", "Transfer-Encoding", "Connection"}

func (w *fastResponse) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if w.c.werr != nil {
		return 0, w.c.werr
	}
	if !w.committed {
		if len(w.pend)+len(p) <= fastChunking {
			w.pend = append(w.pend, p...)
			return len(p), nil
		}
		n := 0
		if len(w.pend) > 0 { // fill the buffer, as bufio does
			n = copy(w.pend[len(w.pend):fastChunking], p)
			w.pend = w.pend[:len(w.pend)+n]
			w.commit(w.pend, false)
			w.body(w.pend)
		} else {
			w.commit(p, false)
		}
		w.body(p[n:])
	} else {
		w.body(p)
	}
	if w.c.werr != nil {
		return 0, w.c.werr
	}
	return len(p), nil
}

// Flush implements http.Flusher.
func (w *fastResponse) Flush() {
	w.commitPending(false)
	w.c.flush()
}

// commitPending puts the headers, if they are not yet, and the body bytes
// held back for them into the output; done says the body is all there.
func (w *fastResponse) commitPending(done bool) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.pend, done)
		w.body(w.pend)
		w.pend = w.pend[:0]
	}
}

// SetReadDeadline and SetWriteDeadline are for http.ResponseController.
func (w *fastResponse) SetReadDeadline(t time.Time) error { return w.c.c.SetReadDeadline(t) }

func (w *fastResponse) SetWriteDeadline(t time.Time) error {
	w.c.wdeadline = true
	return w.c.c.SetWriteDeadline(t)
}

func (w *fastResponse) finish() {
	w.commitPending(true)
	if w.chunking && w.req.Method != http.MethodHead {
		w.c.out = append(w.c.out, "0\r\n\r\n"...)
	}
	w.c.flush()
	if cap(w.c.out) > 16<<10 { // after a large answer: not kept while idle
		w.c.out = nil
	}
	if w.c.wdeadline {
		w.c.c.SetWriteDeadline(time.Time{})
		w.c.wdeadline = false
	}
}

// body adds body bytes to the output.
func (w *fastResponse) body(p []byte) {
	c := w.c
	if len(p) == 0 || w.req.Method == http.MethodHead || c.werr != nil {
		return
	}
	if w.chunking {
		c.out = strconv.AppendInt(c.out, int64(len(p)), 16)
		c.out = append(c.out, "\r\n"...)
	}
	if len(c.out)+len(p) > fastFlushAt && len(p) > fastFlushAt/2 {
		c.flush()
		if c.werr == nil {
			_, c.werr = c.c.Write(p)
		}
	} else {
		c.out = append(c.out, p...)
	}
	if w.chunking {
		c.out = append(c.out, "\r\n"...)
	}
	if len(c.out) >= fastFlushAt {
		c.flush()
	}
}

func (c *fastConn) flush() {
	if len(c.out) > 0 && c.werr == nil {
		_, c.werr = c.c.Write(c.out)
	}
	c.out = c.out[:0]
}

// excludeNoBody: the headers an informational answer leaves out.
var excludeNoBody = []string{"Content-Length", "Transfer-Encoding"}

// commit puts the status line and the headers into the output, as
// net/http's chunkWriter.writeHeader does; p is the first part of the
// body, and done says whether it is all of it.
func (w *fastResponse) commit(p []byte, done bool) {
	w.committed = true
	h := &w.snap
	isHEAD := w.req.Method == http.MethodHead
	te := first(h.transferEncoding)
	hasTE := te != ""
	var autoLength []byte
	if done && !hasTE && bodyAllowed(w.status) && !h.hasLength && (!isHEAD || len(p) > 0) {
		w.contentLength = int64(len(p))
		autoLength = strconv.AppendInt(nil, int64(len(p)), 10)
	}
	hasCL := w.contentLength != -1
	if w.req.Close || first(h.connection) == "close" {
		w.closeAfter = true
	}
	var ctype, connection, tencoding string
	keepType, keepLength, keepTE, keepConnection := true, true, true, true
	code := w.status
	if bodyAllowed(code) {
		if h.contentEncoding == "" && !h.hasType && !hasTE && len(p) > 0 {
			ctype = http.DetectContentType(p)
		}
	} else {
		keepLength, keepTE = false, false
		if code == http.StatusNotModified {
			keepType = false
		}
	}
	if hasCL && hasTE && te != "identity" {
		w.c.fs.srv.ErrorLog.Printf("http: WriteHeader called with both Transfer-Encoding of %q and a Content-Length of %d", te, w.contentLength)
		keepLength, hasCL = false, false
	}
	switch {
	case isHEAD || !bodyAllowed(code) || code == http.StatusNoContent, hasCL:
		keepTE = false
	case hasTE && te == "identity":
		w.closeAfter, keepTE = true, false
	default:
		w.chunking, tencoding = true, "chunked"
		if te == "chunked" {
			keepTE = false
		}
	}
	if w.chunking {
		keepLength = false
	}
	if w.closeAfter && !hasToken(first(h.connection), "close") {
		keepConnection, connection = false, "close"
	}
	c := w.c
	c.out = appendStatus(c.out, code)
	c.out = append(c.out, h.ordinary...)
	for _, kv := range []struct {
		key  string
		vs   []string
		keep bool
	}{{"Content-Type", h.contentType, keepType}, {"Content-Length", h.contentLength, keepLength},
		{"Transfer-Encoding", h.transferEncoding, keepTE}, {"Connection", h.connection, keepConnection}} {
		if kv.keep {
			c.out = appendValues(c.out, kv.key, kv.vs)
		}
	}
	if !h.hasDate {
		c.out = append(c.out, "Date: "...)
		c.out = c.fs.s.appendDate(c.out, time.Now())
		c.out = append(c.out, "\r\n"...)
	}
	if autoLength != nil {
		c.out = append(c.out, "Content-Length: "...)
		c.out = append(c.out, autoLength...)
		c.out = append(c.out, "\r\n"...)
	}
	for _, kv := range [][2]string{{"Content-Type", ctype}, {"Connection", connection}, {"Transfer-Encoding", tencoding}} {
		if kv[1] != "" {
			c.out = append(c.out, kv[0]+": "+kv[1]+"\r\n"...)
		}
	}
	c.out = append(c.out, "\r\n"...)
}

func first(vs []string) string {
	if len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == http.StatusNoContent || status == http.StatusNotModified)
}

// hasToken: token is one of v's comma-separated elements, in any case.
func hasToken(v, token string) bool {
	for _, e := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(e), token) {
			return true
		}
	}
	return false
}

func appendStatus(b []byte, code int) []byte {
	b = append(b, "HTTP/1.1 "...)
	if text := http.StatusText(code); text != "" {
		b = strconv.AppendInt(b, int64(code), 10)
		b = append(b, ' ')
		b = append(b, text...)
		return append(b, "\r\n"...)
	}
	return fmt.Appendf(b, "%03d status code %d\r\n", code, code)
}

// appendHeader writes h but exclude as http.Header.Write does: sorted by
// key, invalid keys dropped, CR and LF in values as spaces, values trimmed.
func appendHeader(b []byte, h http.Header, exclude []string) []byte {
	var keys [16]string
	ks := keys[:0]
	for k := range h {
		if !slices.Contains(exclude, k) && validToken(k) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	for _, k := range ks {
		b = appendValues(b, k, h[k])
	}
	return b
}

func appendValues(b []byte, k string, vs []string) []byte {
	for _, v := range vs {
		if !plainValue(v) {
			v = strings.NewReplacer("\n", " ", "\r", " ").Replace(v)
			v = strings.Trim(v, " \t\r\n")
		}
		b = append(b, k...)
		b = append(b, ": "...)
		b = append(b, v...)
		b = append(b, "\r\n"...)
	}
	return b
}

// plainValue: v has no CR or LF, nor white space to trim at its ends.
func plainValue(v string) bool {
	if v != "" && (v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '\r' || v[i] == '\n' {
			return false
		}
	}
	return true
}

// The Date header, formatted once a second.
type dateText struct {
	sec  int64
	text []byte
}

// appendDate appends now as a Date header value, from s.date when it is
// of the same second.
func (s *Server) appendDate(b []byte, now time.Time) []byte {
	sec := now.Unix()
	d := s.date.Load()
	if d == nil || d.sec != sec {
		d = &dateText{sec, now.UTC().AppendFormat(nil, http.TimeFormat)}
		s.date.Store(d)
	}
	return append(b, d.text...)
}
