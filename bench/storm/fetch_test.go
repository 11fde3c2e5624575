package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// cutServer serves data, but cuts the first answer after cut bytes;
// ranges says whether it honours Range (http.ServeContent) or always sends
// the whole file. It records the Range header of every request.
func cutServer(t *testing.T, data []byte, cut int, ranges bool) (*httptest.Server, func() []string) {
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Range"))
		first := len(seen) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data[:cut])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the connection is cut
		}
		if ranges {
			http.ServeContent(w, r, "rootfs", time.Time{}, bytes.NewReader(data))
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(seen) }
}

func testData(n int) ([]byte, string) {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(b)
	s := sha256.Sum256(b)
	return b, hex.EncodeToString(s[:])
}

func TestHTTPGetResumesACutRootfs(t *testing.T) {
	data, sum := testData(3 << 20)
	srv, seen := cutServer(t, data, 1<<20, true)
	var retries int
	n, _, err := httpGet(context.Background(), httpClient(nil, 5*time.Second), srv.URL+"/images/x/rootfs", time.Minute, 3, sum, false, true, &retries)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(data)) || retries != 1 {
		t.Errorf("got %d bytes with %d retries, want %d with 1", n, retries, len(data))
	}
	if got, want := seen(), []string{"", "bytes=1048576-"}; !slices.Equal(got, want) {
		t.Errorf("Range headers %q, want %q", got, want)
	}
}

func TestHTTPGetWithoutResumeStartsAgain(t *testing.T) {
	data, sum := testData(3 << 20)
	srv, seen := cutServer(t, data, 1<<20, true)
	var retries int
	n, _, err := httpGet(context.Background(), httpClient(nil, 5*time.Second), srv.URL+"/images/x/initrd", time.Minute, 3, sum, false, false, &retries)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(data)) {
		t.Errorf("got %d bytes, want %d", n, len(data))
	}
	if got, want := seen(), []string{"", ""}; !slices.Equal(got, want) {
		t.Errorf("Range headers %q, want %q", got, want)
	}
}

// A server that ignores Range sends the whole file again: counted and
// hashed from its first byte, not appended to the cut try's.
func TestHTTPGetResumeFromAServerWithoutRanges(t *testing.T) {
	data, sum := testData(3 << 20)
	srv, seen := cutServer(t, data, 1<<20, false)
	var retries int
	n, _, err := httpGet(context.Background(), httpClient(nil, 5*time.Second), srv.URL+"/rootfs", time.Minute, 3, sum, false, true, &retries)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(data)) {
		t.Errorf("got %d bytes, want %d", n, len(data))
	}
	if got := seen(); len(got) != 2 || got[1] != "bytes=1048576-" {
		t.Errorf("Range headers %q, want a resumed second request", got)
	}
}

// A resumed download whose bytes are not the file's fails its sum, once
// (a retry would not change it).
func TestHTTPGetResumedBadSumFails(t *testing.T) {
	data, _ := testData(3 << 20)
	_, other := testData(17)
	srv, seen := cutServer(t, data, 1<<20, true)
	var retries int
	_, _, err := httpGet(context.Background(), httpClient(nil, 5*time.Second), srv.URL+"/rootfs", time.Minute, 3, other, false, true, &retries)
	var perm permanent
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("err %v, want a permanent SHA-256 mismatch", err)
	}
	if len(seen()) != 2 {
		t.Errorf("%d requests, want 2 (the cut one, the resumed one)", len(seen()))
	}
}

func TestRootfsIsTheLastStage(t *testing.T) {
	// A deploy's boot environment fetches data.cdb before the rootfs
	// (bootenv/files/init), and -until's default runs every stage.
	if stageNames[stRootfs] != "rootfs" || stRootfs != stCDB+1 || stBoot != stRootfs+1 {
		t.Errorf("stages %q: want rootfs after data.cdb, last before boot", stageNames)
	}
}
