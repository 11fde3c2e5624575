package images

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzBootHandler sends arbitrary paths, Host and Range headers: the
// handler never panics or fails, and what it serves is a script, the
// checksum list or a piece of a stored file.
func FuzzBootHandler(f *testing.F) {
	for _, s := range []struct{ path, host, rng string }{
		{"/boot.ipxe", "10.0.0.1", ""},
		{"/boot/52:54:00:aa:bb:01.ipxe", "", ""},
		{"/boot/5254.00aa.bb01.ipxe", "[::1]:80", ""},
		{"/images/centos9/kernel", "h", "bytes=0-10,20-30"},
		{"/images/centos9/SHA256SUMS", "h", "bytes=-5"},
		{"/images/centos9/..%2f..%2fsecret", "h", "bytes=5-1"},
		{"/images/%2e%2e/kernel", "h${x}", "bytes=99999999999999999999-"},
	} {
		f.Add(s.path, s.host, s.rng)
	}
	fx := newFixture(f)
	h, err := BootHandler(BootConfig{Hosts: fx.hosts, Blobs: fx.store})
	if err != nil {
		f.Fatal(err)
	}
	sums, _ := sha256Sums(fx.digest)
	scripts := [][]byte{}
	for _, host := range []Host{web01, db01} {
		s, _ := Script(host, "http://x", fx.digest)
		scripts = append(scripts, s[:40])
	}
	f.Fuzz(func(t *testing.T, target, host, rng string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := (&http.Request{Method: "GET", URL: u, RequestURI: target, Host: host, RemoteAddr: "10.0.0.11:1",
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{"Range": {rng}}}).
			WithContext(context.WithValue(context.Background(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 80}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body := w.Body.Bytes()
		switch w.Code {
		case 200, 206:
			if !servedFromFixture(fx, w.Header().Get("Content-Type"), body, sums, scripts) {
				t.Errorf("GET %q (Range %q) = %d with %d bytes from nowhere:\n%.200q", target, rng, w.Code, len(body), body)
			}
		case 301, 307, 304, 400, 404, 405, 416:
		default:
			t.Errorf("GET %q Host %q Range %q = %d", target, host, rng, w.Code)
		}
	})
}

func servedFromFixture(fx *fixture, ctype string, body, sums []byte, scripts [][]byte) bool {
	if mt, params, _ := mime.ParseMediaType(ctype); mt == "multipart/byteranges" {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return true
			}
			if err != nil {
				return false
			}
			part, err := io.ReadAll(p)
			if err != nil || !servedFromFixture(fx, p.Header.Get("Content-Type"), part, sums, scripts) {
				return false
			}
		}
	}
	if len(body) == 0 || bytes.Contains(sums, body) {
		return true
	}
	for _, s := range scripts {
		if bytes.HasPrefix(body, s) {
			return true
		}
	}
	for _, c := range fx.content {
		if bytes.Contains(c, body) {
			return true
		}
	}
	return false
}

// FuzzParseMAC: a parsed MAC has 6 bytes and reads back the same from its
// canonical form.
func FuzzParseMAC(f *testing.F) {
	for _, s := range []string{"52:54:00:aa:bb:01", "52-54-00-AA-BB-01", "5254.00aa.bb01", "525400aabb01", "", "zz", "02:00:00:00:00:00:00:01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mac, err := parseMAC(s)
		if err != nil {
			return
		}
		back, err := parseMAC(mac.String())
		if len(mac) != 6 || err != nil || back.String() != mac.String() {
			t.Errorf("parseMAC(%q) = %v, reads back as %v, %v", s, mac, back, err)
		}
	})
}
