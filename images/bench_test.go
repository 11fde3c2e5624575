package images_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"

	"github.com/provision/provision/bind"
	"github.com/provision/provision/images"
	"github.com/provision/provision/internal/httpserve"
	"github.com/provision/provision/registry"
)

// TestBenchServer is bench/http.sh's server: the appliance's HTTP boot
// path as `provision serve` wires it, in one process. A registry (SQLite,
// in a temporary directory) holds the diskless image "bench" of the files
// kernel, initrd and rootfs in $PROVISION_BENCH_DIR, hard-linked into an
// image Store, and the system bench01 of IP 127.0.0.1, so that
// GET /boot.ipxe from 127.0.0.1 is its script. The boot handler has the
// appliance's logger (slog's text handler on stderr), its boot events go
// to a registry.EventLog written to the database, and it is served through
// a mux as the appliance's, by httpserve. It prints the base URL as
// PROVISION_BENCH_URL=... on stdout and runs until SIGTERM or SIGINT.
// With $PROVISION_BENCH_CPUPROFILE it writes a CPU profile there, from
// start to stop. Without $PROVISION_BENCH_DIR it skips.
func TestBenchServer(t *testing.T) {
	dir := os.Getenv("PROVISION_BENCH_DIR")
	if dir == "" {
		t.Skip("a server for bench/http.sh: set PROVISION_BENCH_DIR")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	tmp := t.TempDir()
	store, err := images.NewStore(filepath.Join(tmp, "images"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]registry.File{}
	for _, role := range []string{"kernel", "initrd", "rootfs"} {
		files[role] = linkBlob(t, filepath.Join(dir, role), filepath.Join(tmp, "images"))
	}
	st, err := registry.OpenSQLite(ctx, filepath.Join(tmp, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(ctx, st, "bench")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if _, err := reg.Import(ctx, []byte(benchRegistry(files)), false); err != nil {
		t.Fatal(err)
	}

	events := registry.NewEventLog(st, 200) // as openAppliance and serve
	events.SetIdentity(func(name string) string { id, _ := reg.Snapshot().SystemID(name); return id })
	evDone := make(chan error, 1)
	go func() { evDone <- events.Run(ctx) }()
	lines := httpserve.NewLineWriter(os.Stderr) // as cmd/provision's startHTTP
	defer lines.Close()
	boot, err := images.BootHandler(images.BootConfig{
		Hosts: bind.NewBoot(reg, ""), Blobs: store, Log: slog.New(slog.NewTextHandler(lines, nil)),
		OnEvent: func(e images.BootEvent) {
			if ev, ok := bind.BootEvent(e); ok {
				events.Record(ev)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux() // the appliance's has the API and /ks beside
	mux.HandleFunc("/ks/", http.NotFound)
	mux.HandleFunc("/api/", http.NotFound)
	for _, p := range images.BootPaths() {
		mux.Handle(p, boot)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("PROVISION_BENCH_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("PROVISION_BENCH_URL=http://%s\n", l.Addr())
	cfg := httpserve.Config{Handler: mux, Fast: boot, FastPaths: images.BootPaths()}
	if os.Getenv("PROVISION_BENCH_NETHTTP") != "" { // net/http only, for comparison
		cfg.Fast, cfg.FastPaths = nil, nil
	}
	if err := httpserve.New(cfg).Serve(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := <-evDone; err != nil {
		t.Error(err)
	}
	t.Logf("boot events dropped: %d", events.Dropped())
}

// linkBlob hard-links file into the store at root under its sha256, as
// Store.Put would have stored it, without copying a large file.
func linkBlob(t *testing.T, file, root string) registry.File {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	d := hex.EncodeToString(h.Sum(nil))
	dst := filepath.Join(root, "sha256", d[:2], d)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(file, dst); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	return registry.File{SHA256: d, Size: n}
}

// benchRegistry is the registry of the benchmark: one diskless system of
// IP 127.0.0.1, with the kernel arguments of a real one (and some more, so
// that its script is about 2 KiB; the kernel's command line is at most
// 2047 bytes).
func benchRegistry(files map[string]registry.File) string {
	var b strings.Builder
	b.WriteString("subnets: [{name: lo, cidr: 127.0.0.0/8}]\n")
	b.WriteString("images:\n  - name: bench\n    kind: diskless\n    files:\n")
	for _, role := range []string{"kernel", "initrd", "rootfs"} {
		fmt.Fprintf(&b, "      %s: {sha256: %s, size: %d}\n", role, files[role].SHA256, files[role].Size)
	}
	args := "console=tty0 console=ttyS0,115200n8 earlyprintk=ttyS0 panic=30 net.ifnames=0 biosdevname=0 ipv6.disable=1 " +
		"rd.neednet=1 ip=dhcp rd.retry=30 systemd.show_status=auto loglevel=4 mitigations=auto intel_iommu=on iommu=pt"
	for i := 0; len(args) < 1400; i++ {
		args += fmt.Sprintf(" provision.bench.arg%02d=%s", i, strings.Repeat("x", 40))
	}
	fmt.Fprintf(&b, "profiles: [{name: bench, image: bench, kernel_args: %q}]\n", args)
	b.WriteString("systems:\n  - {name: bench01, macs: [\"52:54:00:be:4c:01\"], ip: 127.0.0.1, profile: bench, netboot: true, status: diskless}\n")
	return b.String()
}
