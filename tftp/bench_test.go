package tftp

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/internal/testenv"
)

// benchFile is the 400 KiB file every benchmark fetches.
const benchFile = "bench.bin"

// benchRoot makes a world-readable root (tftpd-hpa drops to user nobody).
func benchRoot(b *testing.B) string {
	root := b.TempDir()
	data := make([]byte, 400<<10)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(root, benchFile), data, 0o644); err != nil {
		b.Fatal(err)
	}
	for dir := root; dir != os.TempDir(); dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	return root
}

// startTFTPDHPA runs tftpd-hpa in the foreground on a free loopback port and
// kills it when the benchmark ends.
func startTFTPDHPA(b *testing.B, root string) *net.UDPAddr {
	tftpd := testenv.NeedCommand(b, "in.tftpd")
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr)
	conn.Close() // tftpd-hpa binds it itself; a race with another binder is possible
	cmd := exec.Command(tftpd, "-L", "-s", root, "-a", addr.String())
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for try := 0; ; try++ { // readiness: the first fetch that succeeds
		if _, _, err := fetch(b, addr, benchFile, 0); err == nil {
			return addr
		} else if try == 50 {
			b.Fatalf("tftpd-hpa on %s: %v", addr, err)
		}
	}
}

// BenchmarkFetch fetches the 400 KiB file from this server and from
// tftpd-hpa, alone and 50 at once, with pin/tftp's client.
func BenchmarkFetch(b *testing.B) {
	root := benchRoot(b)
	servers := map[string]func() *net.UDPAddr{
		// Every client here is 127.0.0.1: lift the per-client cap above 50.
		"provision": func() *net.UDPAddr {
			return startServerConfig(b, Config{Root: root, Timeout: time.Second, MaxPerClient: 64}).addr
		},
		"tftpd-hpa": func() *net.UDPAddr { return startTFTPDHPA(b, root) },
	}
	for _, name := range []string{"provision", "tftpd-hpa"} {
		b.Run(name, func(b *testing.B) {
			addr := servers[name]()
			for _, blksize := range []int{512, 1468} {
				for _, parallel := range []int{1, 50} {
					b.Run(fmt.Sprintf("blksize=%d/clients=%d", blksize, parallel), func(b *testing.B) {
						benchFetch(b, addr, blksize, parallel)
					})
				}
			}
		})
	}
}

func benchFetch(b *testing.B, addr *net.UDPAddr, blksize, parallel int) {
	b.SetBytes(int64(parallel) * 400 << 10)
	start := time.Now()
	for b.Loop() {
		var g errgroup.Group
		for range parallel {
			g.Go(func() error {
				data, _, err := fetch(b, addr, benchFile, blksize)
				if err == nil && len(data) != 400<<10 {
					err = fmt.Errorf("got %d bytes", len(data))
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/round")
}
