package httpserve

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
)

// parse parses the request at buf[r:w]: more is true when it is not all
// there yet; ok is false when net/http should answer it. On ok, r moves
// past it.
func (c *fastConn) parse() (req *http.Request, ok, more bool) {
	p := c.buf[c.r:c.w]
	line, rest, found := cutLine(p)
	if !found {
		return nil, false, line == nil
	}
	var method string
	switch {
	case bytes.HasPrefix(line, []byte("GET ")):
		method, line = http.MethodGet, line[4:]
	case bytes.HasPrefix(line, []byte("HEAD ")):
		method, line = http.MethodHead, line[5:]
	default:
		return nil, false, false
	}
	target, proto, found := bytes.Cut(line, []byte(" "))
	if !found || string(proto) != "HTTP/1.1" || !c.fs.s.cleanTarget(target) {
		return nil, false, false
	}
	var host []byte
	hosts, close := 0, false
	clear(c.header)
	for n := 0; ; n++ {
		line, rest, found = cutLine(rest)
		if !found {
			return nil, false, line == nil
		}
		if len(line) == 0 {
			break
		}
		if n == fastMaxHeader {
			return nil, false, false
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !validToken(name) {
			return nil, false, false
		}
		value = bytes.Trim(value, " \t")
		if !validValue(value) {
			return nil, false, false
		}
		switch key := canonicalKey(name); key {
		case "Host":
			host, hosts = value, hosts+1
		case "Content-Length":
			if string(value) != "0" {
				return nil, false, false
			}
			c.header.Add(key, string(value))
		case "Transfer-Encoding", "Expect", "Upgrade", "Te", "Trailer", "Http2-Settings":
			return nil, false, false
		case "Connection":
			for _, tok := range strings.Split(string(value), ",") {
				switch tok = strings.TrimSpace(tok); {
				case strings.EqualFold(tok, "close"):
					close = true
				case strings.EqualFold(tok, "keep-alive"):
				default:
					return nil, false, false
				}
			}
			c.header.Add(key, string(value))
		default:
			c.header.Add(key, string(value))
		}
	}
	if hosts != 1 || !validHost(host) {
		return nil, false, false
	}
	c.r = c.w - len(rest)
	path := string(target)
	req = new(http.Request)
	*req = *c.base // its context
	req.Method, req.URL, req.Host, req.RequestURI, req.Close = method, &url.URL{Path: path}, string(host), path, close
	return req, true, false
}

// cutLine cuts the CRLF-ended line at the start of p. A nil line with
// found false: it has not all arrived; a line with a bare LF or CR is
// returned non-nil with found false, for net/http.
func cutLine(p []byte) (line, rest []byte, found bool) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		if bytes.IndexByte(p, '\r') >= 0 && p[len(p)-1] != '\r' {
			return p, nil, false
		}
		return nil, nil, false
	}
	if i == 0 || p[i-1] != '\r' || bytes.IndexByte(p[:i-1], '\r') >= 0 {
		return p, nil, false
	}
	return p[:i-1], p[i+1:], true
}

// cleanTarget: an origin-form target of one of FastPaths that
// http.ServeMux takes as it is: no query, no escape, no dot segment, no
// empty segment.
func (s *Server) cleanTarget(t []byte) bool {
	if len(t) == 0 || t[0] != '/' || !s.isFast(t) {
		return false
	}
	for _, b := range t {
		if !pathByte[b] {
			return false
		}
	}
	return !bytes.Contains(t, []byte("//")) && !bytes.Contains(t, []byte("/./")) && !bytes.Contains(t, []byte("/../")) &&
		!bytes.HasSuffix(t, []byte("/.")) && !bytes.HasSuffix(t, []byte("/.."))
}

// pathByte: the bytes a path segment may hold unescaped (RFC 3986 pchar),
// as url.URL.EscapedPath leaves them.
var pathByte = func() (t [256]bool) {
	for _, b := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/") {
		t[b] = true
	}
	return t
}()

// tokenByte: RFC 9110 tchar.
var tokenByte = func() (t [256]bool) {
	for _, b := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~") {
		t[b] = true
	}
	return t
}()

func validToken[T string | []byte](b T) bool {
	if len(b) == 0 {
		return false
	}
	for i := 0; i < len(b); i++ {
		if !tokenByte[b[i]] {
			return false
		}
	}
	return true
}

// validValue: no control character but tab (httpguts.ValidHeaderFieldValue).
func validValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// maxHostLen fits a DNS name (253) and a port.
const maxHostLen = 253 + len(":65535")

// validHost: a name or address and port, the bytes of which net/http
// takes as they are; anything else is net/http's to judge.
func validHost(b []byte) bool {
	if len(b) == 0 || len(b) > maxHostLen {
		return false
	}
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	return true
}

// canonicalKey is http.CanonicalHeaderKey without an allocation for the
// headers boot clients send.
func canonicalKey(name []byte) string {
	switch len(name) {
	case 4:
		if bytes.EqualFold(name, []byte("Host")) {
			return "Host"
		}
	case 5:
		if bytes.EqualFold(name, []byte("Range")) {
			return "Range"
		}
		if bytes.EqualFold(name, []byte("Accept")) {
			return "Accept"
		}
	case 10:
		if bytes.EqualFold(name, []byte("Connection")) {
			return "Connection"
		}
		if bytes.EqualFold(name, []byte("User-Agent")) {
			return "User-Agent"
		}
	}
	return http.CanonicalHeaderKey(string(name))
}
