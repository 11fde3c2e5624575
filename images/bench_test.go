package images_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"

	"github.com/provision/provision/appliance"
	"github.com/provision/provision/registry"
)

// TestBenchServer is bench/http.sh's server: the appliance itself
// (appliance.Open, then Run), in one process, with HTTP only, on a free
// port of 127.0.0.1. Its registry (SQLite, in a temporary data directory)
// holds the diskless image "bench" of the files kernel, initrd and rootfs
// in $PROVISION_BENCH_DIR, hard-linked into the appliance's image store,
// and the system bench01 of IP 127.0.0.1, so that GET /boot.ipxe from
// 127.0.0.1 is its script. It prints the base URL as
// PROVISION_BENCH_URL=... on stdout and runs until SIGTERM or SIGINT.
// With $PROVISION_BENCH_NETHTTP the boot routes go through net/http
// alone (no fast path), for comparison. With $PROVISION_BENCH_CPUPROFILE
// it writes a CPU profile there, from start to stop. Without
// $PROVISION_BENCH_DIR it skips.
func TestBenchServer(t *testing.T) {
	dir := os.Getenv("PROVISION_BENCH_DIR")
	if dir == "" {
		t.Skip("a server for bench/http.sh: set PROVISION_BENCH_DIR")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	data := t.TempDir()
	files := map[string]registry.File{}
	for _, role := range []string{"kernel", "initrd", "rootfs"} {
		files[role] = linkBlob(t, filepath.Join(dir, role), filepath.Join(data, "images"))
	}
	st, err := registry.OpenSQLite(ctx, filepath.Join(data, "registry.db")) // the appliance's
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(ctx, st, "bench")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Import(ctx, []byte(benchRegistry(files)), false); err != nil {
		t.Fatal(err)
	}
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := appliance.Defaults(true)
	cfg.Data, cfg.Zone, cfg.HTTP, cfg.DNS, cfg.TFTP = data, "bench", "127.0.0.1:0", "", ""
	cfg.BootNetHTTP = os.Getenv("PROVISION_BENCH_NETHTTP") != ""
	a, err := appliance.Open(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)))
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
	fmt.Printf("PROVISION_BENCH_URL=http://%s\n", a.Addrs().HTTP)
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

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
