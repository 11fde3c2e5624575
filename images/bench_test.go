package images

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// fileBlobs serves one file outside any store as one digest, so that the
// benchmark need not copy a large file into a Store.
type fileBlobs struct{ digest, path string }

func (b fileBlobs) Open(digest string) (*os.File, error) {
	if digest != b.digest {
		return nil, ErrNotFound
	}
	return os.Open(b.path)
}

// TestBenchServer is bench/http.sh's server: it serves the file
// $PROVISION_BENCH_FILE (of sha256 $PROVISION_BENCH_SHA256) as
// /images/bench/rootfs through BootHandler and Serve, prints the URL, and
// runs until SIGTERM or SIGINT. Without the variable it skips.
func TestBenchServer(t *testing.T) {
	path, digest := os.Getenv("PROVISION_BENCH_FILE"), os.Getenv("PROVISION_BENCH_SHA256")
	if path == "" || digest == "" {
		t.Skip("a server for bench/http.sh: set PROVISION_BENCH_FILE and PROVISION_BENCH_SHA256")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	hosts := &fakeHosts{byIP: map[netip.Addr]Host{}, byMAC: map[string]Host{},
		images: map[string]map[string]string{"bench": {KindRootfs: digest}}}
	q := NewEventQueue(1024)
	go func() { // a consumer, as the appliance has
		for range q.Events() {
		}
	}()
	h, err := BootHandler(BootConfig{Hosts: hosts, Blobs: fileBlobs{digest, path}, OnEvent: q.Report})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("PROVISION_BENCH_URL=http://%s/images/bench/rootfs\n", l.Addr())
	if err := Serve(ctx, l, h); err != nil {
		t.Fatal(err)
	}
	t.Logf("events lost: %d", q.Lost())
}
