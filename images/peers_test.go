package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func digestOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// A peer's file is kept only when it hashes to the registry's digest; a
// file that no peer serves, or serves altered, stays missing and is
// reported with the image and file it is.
func TestPeersSync(t *testing.T) {
	files := map[string]string{"/images/web/kernel": "the kernel", "/images/web/initrd": "an altered initrd"}
	var hits int
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	defer peer.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // a peer that does not answer at all

	st, err := NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := &Peers{URLs: []string{down.URL, peer.URL}, Store: st}
	want := []Want{
		{Image: "web", Role: "kernel", SHA256: digestOf("the kernel")},
		{Image: "web", Role: "initrd", SHA256: digestOf("the initrd")},
		{Image: "web", Role: "rootfs", SHA256: digestOf("a rootfs")},
	}
	missing, err := p.Sync(context.Background(), want)
	if missing != 2 || err == nil {
		t.Fatalf("Sync: %d missing, %v; want the initrd and the rootfs missing", missing, err)
	}
	if !strings.Contains(err.Error(), "image web file") {
		t.Errorf("the error does not name the file: %v", err)
	}
	if !st.Has(want[0].SHA256) {
		t.Error("the kernel, served right by the second peer, is not in the store")
	}
	if st.Has(want[1].SHA256) || st.Has(digestOf("an altered initrd")) {
		t.Error("the altered initrd was kept")
	}
	hits = 0
	files["/images/web/initrd"] = "the initrd"
	if missing, err := p.Sync(context.Background(), want[:2]); missing != 0 || err != nil || !st.Has(want[1].SHA256) {
		t.Fatalf("second Sync: %d missing, %v", missing, err)
	}
	if hits != 1 {
		t.Errorf("the second Sync asked the peer %d times, want once (the kernel is here already)", hits)
	}
}
