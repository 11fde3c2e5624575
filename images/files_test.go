package images

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/provision/provision/internal/testenv"
)

func TestFileRoutes(t *testing.T) {
	f := newFixture(t)
	h, events := newHandler(t, f, "")
	kernel, initrd := f.content[KindKernel], f.content[KindInitrd]
	etag := `"` + f.digest[KindKernel] + `"`
	tests := []struct {
		name, path string
		hdr        []string
		code       int
		body       []byte
		respHdr    map[string]string
	}{
		{"kernel", "/images/centos9/kernel", nil, 200, kernel, map[string]string{
			"ETag": etag, "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes",
			"Content-Length": fmt.Sprint(len(kernel))}},
		{"initrd", "/images/centos9/initrd", nil, 200, initrd, nil},
		{"rootfs", "/images/centos9/rootfs", nil, 200, f.content[KindRootfs], nil},
		{"range", "/images/centos9/kernel", []string{"Range", "bytes=100-199"}, 206, kernel[100:200], map[string]string{
			"Content-Range": fmt.Sprintf("bytes 100-199/%d", len(kernel)), "Content-Length": "100", "ETag": etag}},
		{"suffix range", "/images/centos9/initrd", []string{"Range", "bytes=-10"}, 206, initrd[len(initrd)-10:], map[string]string{
			"Content-Range": fmt.Sprintf("bytes %d-%d/%d", len(initrd)-10, len(initrd)-1, len(initrd))}},
		{"open range", "/images/centos9/kernel", []string{"Range", "bytes=99990-"}, 206, kernel[99990:], nil},
		{"range past the end", "/images/centos9/kernel", []string{"Range", "bytes=200000-"}, 416, nil, map[string]string{
			"Content-Range": fmt.Sprintf("bytes */%d", len(kernel))}},
		{"if-none-match", "/images/centos9/kernel", []string{"If-None-Match", etag}, 304, nil, map[string]string{"ETag": etag}},
		{"if-none-match weak", "/images/centos9/kernel", []string{"If-None-Match", "W/" + etag}, 304, nil, nil},
		{"if-none-match other", "/images/centos9/kernel", []string{"If-None-Match", `"0000"`}, 200, kernel, nil},
		{"if-range match", "/images/centos9/kernel", []string{"Range", "bytes=0-9", "If-Range", etag}, 206, kernel[:10], nil},
		{"if-range stale", "/images/centos9/kernel", []string{"Range", "bytes=0-9", "If-Range", `"old"`}, 200, kernel, nil},
		{"if-modified-since", "/images/centos9/kernel", []string{"If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, 304, nil, nil},
		{"HEAD", "/images/centos9/kernel", nil, 200, nil, map[string]string{"Content-Length": fmt.Sprint(len(kernel))}},
		{"unknown image", "/images/centos8/kernel", nil, 404, []byte("# provision: not found\n"), nil},
		{"unknown file", "/images/centos9/vmlinuz", nil, 404, []byte("# provision: not found\n"), nil},
		{"digest as a name", "/images/centos9/" + f.digest[KindKernel], nil, 404, []byte("# provision: not found\n"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "GET"
			if tt.name == "HEAD" {
				method = "HEAD"
			}
			w := get(h, method, tt.path, "10.0.0.11:1", tt.hdr...)
			anyBody := tt.code == http.StatusRequestedRangeNotSatisfiable // net/http's own text
			if w.Code != tt.code || !anyBody && !bytes.Equal(w.Body.Bytes(), tt.body) {
				t.Errorf("%s %s %v = %d with %d bytes, want %d with %d", method, tt.path, tt.hdr, w.Code, w.Body.Len(), tt.code, len(tt.body))
			}
			for k, v := range tt.respHdr {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			evs := events.take()
			if len(evs) != 1 || evs[0].Status != tt.code || evs[0].Bytes != int64(w.Body.Len()) || evs[0].Host != "web01" {
				t.Errorf("events %+v, want one of web01 with status %d and %d bytes", evs, tt.code, w.Body.Len())
			}
		})
	}
}

func TestLastModified(t *testing.T) {
	f := newFixture(t)
	h, _ := newHandler(t, f, "")
	stored := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(f.store.path(f.digest[KindKernel]), stored, stored); err != nil {
		t.Fatal(err)
	}
	w := get(h, "GET", "/images/centos9/kernel", "10.0.0.11:1")
	if got := w.Header().Get("Last-Modified"); got != stored.Format(http.TimeFormat) {
		t.Errorf("Last-Modified %q", got)
	}
	w = get(h, "GET", "/images/centos9/kernel", "10.0.0.11:1", "If-Modified-Since", stored.Format(http.TimeFormat))
	if w.Code != 304 {
		t.Errorf("If-Modified-Since = %d", w.Code)
	}
}

// TestSHA256SUMS downloads every file and the list, and lets sha256sum(1)
// check them.
func TestSHA256SUMS(t *testing.T) {
	sha256sum := testenv.NeedCommand(t, "sha256sum")
	f := newFixture(t)
	h, events := newHandler(t, f, "")
	dir := t.TempDir()
	w := get(h, "GET", "/images/centos9/SHA256SUMS", "10.0.0.11:1")
	want := fmt.Sprintf("%s  initrd\n%s  kernel\n%s  rootfs\n", f.digest[KindInitrd], f.digest[KindKernel], f.digest[KindRootfs])
	if diff := cmp.Diff(want, w.Body.String()); w.Code != 200 || diff != "" {
		t.Fatalf("SHA256SUMS = %d (-want +got):\n%s", w.Code, diff)
	}
	if ev := events.take(); len(ev) != 1 || ev[0].Kind != KindSums {
		t.Errorf("events %+v", ev)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("SHA256SUMS", w.Body.Bytes())
	for _, role := range []string{KindKernel, KindInitrd, KindRootfs} {
		write(role, get(h, "GET", "/images/centos9/"+role, "10.0.0.11:1").Body.Bytes())
	}
	check := func() ([]byte, error) {
		cmd := exec.Command(sha256sum, "--strict", "-c", "SHA256SUMS")
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	if out, err := check(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	write(KindInitrd, []byte("tampered")) // the check can fail
	if out, err := check(); err == nil || !strings.Contains(string(out), "initrd: FAILED") {
		t.Errorf("sha256sum -c passed a tampered file: %v\n%s", err, out)
	}
	if etag := w.Header().Get("ETag"); len(etag) != 66 {
		t.Errorf("SHA256SUMS ETag %q", etag)
	}
}

// TestTraversal: names in the URL are keys, never paths. A secret beside
// the store's blobs and /etc/passwd are never served.
func TestTraversal(t *testing.T) {
	f := newFixture(t)
	secret := []byte("SECRET-" + t.Name())
	if err := os.WriteFile(filepath.Join(f.store.root, "secret"), secret, 0o644); err != nil {
		t.Fatal(err)
	}
	f.hosts.images["bad"] = map[string]string{"kernel": "../../secret", "initrd": strings.Repeat("0", 64)}
	h, _ := newHandler(t, f, "")
	passwd, _ := os.ReadFile("/etc/passwd")
	paths := []string{
		"/images/centos9/../../secret", "/images/centos9/..%2f..%2fsecret", "/images/..%2f..%2f/secret",
		"/images/centos9/%2e%2e/%2e%2e/secret", "/images/centos9/kernel%00", "/images/centos9/kernel/",
		"/images/centos9/sha256/" + f.digest[KindKernel][:2] + "/" + f.digest[KindKernel],
		"/images/..%2fsecret/kernel", "/images/centos9/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
		"/images/%2e%2e/%2e%2e/etc/passwd", "/images//etc/passwd", "/images/centos9//etc/passwd",
		"/boot/..%2f..%2fsecret.ipxe", "/boot/../images/centos9/../../secret",
		"/images/bad/kernel", "/images/bad/initrd", "/images/bad/SHA256SUMS",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			w := get(h, "GET", p, "10.0.0.11:1")
			switch {
			case w.Code == 200 || w.Code == 206:
				t.Errorf("GET %s = %d", p, w.Code)
			case bytes.Contains(w.Body.Bytes(), secret), len(passwd) > 0 && bytes.Contains(w.Body.Bytes(), passwd[:20]):
				t.Errorf("GET %s served a file outside the image:\n%s", p, w.Body)
			}
		})
	}
}

// TestBlobMissing: a file the registry knows but the store lacks is the
// appliance's fault: 500, not 404.
func TestBlobMissing(t *testing.T) {
	f := newFixture(t)
	f.hosts.images["ghost"] = map[string]string{KindKernel: strings.Repeat("e", 64)}
	h, events := newHandler(t, f, "")
	if w := get(h, "GET", "/images/ghost/kernel", "10.0.0.9:1"); w.Code != 500 {
		t.Errorf("= %d", w.Code)
	}
	if ev := events.take(); len(ev) != 1 || ev[0].Err == nil || ev[0].Host != "" || ev[0].Kind != KindKernel {
		t.Errorf("events %+v", ev)
	}
}

// TestBootSequenceEvents: one machine's boot, as iPXE runs it, is reported
// in order with the right kinds, sizes and statuses.
func TestBootSequenceEvents(t *testing.T) {
	f := newFixture(t)
	h, events := newHandler(t, f, "")
	steps := []struct {
		path string
		hdr  []string
	}{
		{"/boot/52-54-00-aa-bb-01.ipxe", nil},
		{"/images/centos9/kernel", nil},
		{"/images/centos9/initrd", nil},
		{"/images/centos9/rootfs", []string{"Range", "bytes=0-4095"}},
		{"/images/centos9/rootfs", []string{"If-None-Match", `"` + f.digest[KindRootfs] + `"`}},
	}
	for _, s := range steps {
		get(h, "GET", s.path, "10.0.0.11:40000", s.hdr...)
	}
	mac := "52:54:00:aa:bb:01"
	type row struct {
		Kind, Host, MAC, Path, Client string
		Status                        int
		Bytes                         int64
		Err                           bool
	}
	want := []row{
		{KindScript, "web01", mac, steps[0].path, "10.0.0.11", 200, int64(len(golden(t, "web01.ipxe"))), false},
		{KindKernel, "web01", mac, steps[1].path, "10.0.0.11", 200, int64(len(f.content[KindKernel])), false},
		{KindInitrd, "web01", mac, steps[2].path, "10.0.0.11", 200, int64(len(f.content[KindInitrd])), false},
		{KindRootfs, "web01", mac, steps[3].path, "10.0.0.11", 206, 4096, false},
		{KindRootfs, "web01", mac, steps[4].path, "10.0.0.11", 304, 0, false},
	}
	var got []row
	var last time.Time
	for _, e := range events.take() {
		got = append(got, row{e.Kind, e.Host, e.MAC.String(), e.Path, e.Client.String(), e.Status, e.Bytes, e.Err != nil})
		if e.Time.Before(last) || e.Duration < 0 || e.Method != "GET" {
			t.Errorf("event %+v: time %v after %v", e, e.Time, last)
		}
		last = e.Time
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestSmallBlobAsServeContent: a small file served from memory gets what
// http.ServeContent of the stored file gives, whatever the request.
func TestSmallBlobAsServeContent(t *testing.T) {
	f := newFixture(t)
	small := randomBytes(11, 5000)
	d := f.addImage(t, "tiny", KindKernel, small)
	h, _ := newHandler(t, f, "")
	reference := func(r *http.Request) *httptest.ResponseRecorder {
		file, err := f.store.Open(d)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		fi, _ := file.Stat()
		w := httptest.NewRecorder()
		blobHeader(w.Header(), d)
		http.ServeContent(w, r, "", fi.ModTime(), file)
		return w
	}
	file, _ := f.store.Open(d)
	fi, _ := file.Stat()
	file.Close()
	mod := fi.ModTime().UTC().Format(http.TimeFormat)
	for _, hdr := range [][]string{
		nil,
		{"Range", "bytes=0-99"},
		{"Range", "bytes=-10"},
		{"Range", "bytes=0-1,3-4"},
		{"Range", "bytes=9999-"},
		{"If-None-Match", `"` + d + `"`},
		{"If-None-Match", `"other"`},
		{"If-Match", `"other"`},
		{"If-Modified-Since", mod},
		{"If-Unmodified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"},
		{"If-Range", `"` + d + `"`, "Range", "bytes=0-9"},
		{"If-Range", `"x"`, "Range", "bytes=0-9"},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			for round := range 2 { // read from the store, then from memory
				r := httptest.NewRequest(method, "/images/tiny/kernel", nil)
				r.RemoteAddr = "10.0.0.11:1"
				for i := 0; i+1 < len(hdr); i += 2 {
					r.Header.Set(hdr[i], hdr[i+1])
				}
				got := httptest.NewRecorder()
				h.ServeHTTP(got, r)
				want := reference(r)
				clean := func(w *httptest.ResponseRecorder) string {
					hd := w.Header().Clone()
					body := w.Body.String()
					if _, params, err := mime.ParseMediaType(hd.Get("Content-Type")); err == nil && params["boundary"] != "" {
						body = strings.ReplaceAll(body, params["boundary"], "B")
						hd.Set("Content-Type", strings.ReplaceAll(hd.Get("Content-Type"), params["boundary"], "B"))
					}
					return fmt.Sprintf("%d %v %q", w.Code, hd, body)
				}
				if g, w := clean(got), clean(want); g != w {
					t.Errorf("%s %v (round %d):\n got %.300s\nwant %.300s", method, hdr, round, g, w)
				}
			}
		}
	}
}
