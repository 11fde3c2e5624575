package lab

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

// TestUpstreamRelay fetches an archive's file from inside the server
// namespace, which has no route out, through the relay, which reaches a
// server of this process's namespace; the fetch is counted.
func TestUpstreamRelay(t *testing.T) {
	e := testEnv(t)
	n, err := e.NewNet("upstream")
	check(t, err)
	archive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/pub/debian/dists/bookworm/Release" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "Origin: Debian\n")
	}))
	t.Cleanup(archive.Close)
	target, _ := url.Parse(archive.URL + "/pub/debian")
	up, err := e.StartUpstream(n, map[string]*url.URL{"debian": target})
	check(t, err)
	testenv.NeedCommand(t, "busybox")
	if got, err := n.Run("busybox", "wget", "-q", "-O-", up.URL+"/debian/dists/bookworm/Release"); err != nil || got != "Origin: Debian\n" {
		t.Errorf("through the relay: %q, %v", got, err)
	}
	if _, err := n.Run("busybox", "wget", "-q", "-O-", archive.URL+"/pub/debian/dists/bookworm/Release"); err == nil {
		t.Error("the server namespace reached this process's namespace without the relay")
	}
	fs := up.Fetches()
	if len(fs) != 1 || fs[0] != (Fetch{Path: "/pub/debian/dists/bookworm/Release", Status: 200, Bytes: 15}) {
		t.Errorf("fetches: %+v", fs)
	}
}
