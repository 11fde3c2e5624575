package tftp

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// Flood tests: read requests that are never acknowledged arrive from
// one address, or from a new address each (UDP sources are spoofable),
// while tftp-hpa's client fetches the boot loader from another address.
// Each flood is bounded in packets and in time; the client must get the
// whole file within 200 ms every time, and the test process (the server)
// must stay under a bound of open descriptors.

// floodBudget is how long a flood runs; the client fetches from 60% of
// it on, when the old server (slots held ~12 s) was long full;
// clientDeadline is the liveness bound for the real client.
const (
	floodBudget    = 2 * time.Second
	clientDeadline = 200 * time.Millisecond
)

// 3,000 requests from one address (1,500 a second; the 175 kept
// the old server down) are held to MaxPerClient transfers.
func TestFloodOneAddress(t *testing.T) {
	src := net.IPv4(127, 0, 0, 2)
	floodTest(t, Config{Timeout: 2 * time.Second}, 3000, func(int) net.IP { return src }, 100)
}

// The flood comes from 500 addresses (127.1.x.y, 250 a second; the issue's
// 175 kept the old server down), so the per-client cap does not hold it:
// more than half the slots (256 here, for a short test) fill, transfers that see no acknowledgement are dropped
// after FirstACKTimeout, and when every slot is taken the oldest of them
// gives way to a newer request. Each slot holds a socket and a file; one
// that gave way has its socket closed at once and its file when its
// goroutine next runs, hence the bound of 3 descriptors a slot.
func TestFloodManyAddresses(t *testing.T) {
	addr := func(i int) net.IP { return net.IPv4(127, 1, byte(i/250), byte(i%250+1)) }
	floodTest(t, Config{Timeout: 2 * time.Second, MaxTransfers: 256}, 500, addr, 3*256+100)
}

// floodTest sends packets RRQs from source(i), spread over floodBudget,
// and fetches bootFile with tftp-hpa three times during the flood. The
// open descriptors of the process must stay below baseline+maxFDs.
func floodTest(t *testing.T, cfg Config, packets int, source func(int) net.IP, maxFDs int) {
	client := testenv.NeedCommand(t, "tftp")
	root, boot := newRoot(t)
	cfg.Root = root
	ts := startServerConfig(t, cfg)
	go func() { // OnTransfer must not block: drain the reports
		for range ts.events {
		}
	}()
	idle, err := fetchHPA(client, ts.addr, filepath.Join(t.TempDir(), "out"), boot)
	if err != nil {
		t.Fatalf("fetch before the flood: %v", err)
	}
	base := openFDs(t)
	ctx, cancel := context.WithTimeout(t.Context(), floodBudget)
	defer cancel()
	var peak atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); flood(t, ctx, ts.addr, packets, source) }()
	go func() { defer wg.Done(); watchFDs(ctx, &peak) }()

	time.Sleep(floodBudget * 6 / 10) // let the flood take the slots it can
	var worst time.Duration
	for i := range 3 {
		took, err := fetchHPA(client, ts.addr, filepath.Join(t.TempDir(), "out"), boot)
		if err != nil {
			t.Errorf("fetch %d during the flood: %v (after %v)", i, err, took)
		}
		if took > clientDeadline {
			t.Errorf("fetch %d during the flood took %v, want under %v", i, took, clientDeadline)
		}
		worst = max(worst, took)
	}
	wg.Wait()
	extra := int(peak.Load()) - base
	t.Logf("%d packets: fetch %v before the flood, slowest during it %v; open descriptors %d at rest, at most %d more during the flood", packets, idle, worst, base, extra)
	if extra > maxFDs {
		t.Errorf("the flood opened %d descriptors, want at most %d", extra, maxFDs)
	}
}

// flood sends packets RRQs for bootFile, from a new socket for each new
// source address, evenly over ctx's time, and never reads a reply.
func flood(t *testing.T, ctx context.Context, srv *net.UDPAddr, packets int, source func(int) net.IP) {
	deadline, _ := ctx.Deadline()
	interval := time.Until(deadline) / time.Duration(packets)
	var conn *net.UDPConn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	pkt := rrqPacket(bootFile)
	next := time.Now()
	for i := 0; i < packets && ctx.Err() == nil; i++ {
		if ip := source(i); conn == nil || !conn.LocalAddr().(*net.UDPAddr).IP.Equal(ip) {
			if conn != nil {
				conn.Close()
			}
			var err error
			if conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: ip}); err != nil {
				t.Errorf("flood source %s: %v", ip, err)
				return
			}
		}
		conn.WriteToUDP(pkt, srv)
		if next = next.Add(interval); time.Until(next) > time.Millisecond {
			time.Sleep(time.Until(next))
		}
	}
}

// fetchHPA fetches bootFile with tftp-hpa's client into out and checks it.
func fetchHPA(client string, srv *net.UDPAddr, out string, want []byte) (time.Duration, error) {
	start := time.Now()
	code, output := runQuiet(filepath.Dir(out), client, srv.IP.String(), fmt.Sprint(srv.Port), "-m", "binary", "-c", "get", bootFile, out)
	took := time.Since(start)
	if code != 0 || output != "" {
		return took, fmt.Errorf("tftp exit %d: %s", code, output)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		return took, err
	}
	if d := diffBytes(got, want); d != "" {
		return took, fmt.Errorf("%s: %s", out, d)
	}
	return took, nil
}

// openFDs counts the process's open descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(fds)
}

// watchFDs records the most descriptors open at once until ctx is done.
func watchFDs(ctx context.Context, peak *atomic.Int64) {
	for ctx.Err() == nil {
		if fds, err := os.ReadDir("/proc/self/fd"); err == nil && int64(len(fds)) > peak.Load() {
			peak.Store(int64(len(fds)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runQuiet runs a program in dir and returns its exit code and output.
func runQuiet(dir, prog string, args ...string) (int, string) {
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		return -1, err.Error()
	}
	return cmd.ProcessState.ExitCode(), string(out)
}
