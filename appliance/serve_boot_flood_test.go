package appliance

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/apitoken"
	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/registry"
)

// Idle keep-alive connections do not lock out the boot listener, nor the
// API it carries: during a flood of them, from one client (2,100, past
// the listener's 2,048) or from 40 (2,560), curl from another address
// fetches its machine's boot script and /api/v1/whoami, each within
// 200 ms, and the appliance holds at most the connections its limits
// allow (64 a client, 2,048 a listener) with descriptors to match.
func TestHTTPIdleFlood(t *testing.T) {
	curl := testenv.NeedCommand(t, "curl")
	cfg := devConfig(t)
	a, token := runWithBootingSystem(t, cfg)
	base := "http://" + a.Addrs().HTTP
	served := func(t *testing.T) {
		t.Helper()
		curlWithin(t, curl, 200*time.Millisecond, "200", base+"/boot.ipxe")
		curlWithin(t, curl, 200*time.Millisecond, "200", base+"/api/v1/whoami", "-H", "Authorization: Bearer "+strings.TrimSpace(string(token)))
	}
	served(t)
	before := openFDs(t)
	for _, tc := range []struct {
		name    string
		clients int
		each    int
		bound   int // connections the appliance may hold for them
	}{
		{"one client", 1, 2100, 64},
		{"40 clients", 40, 64, 2048},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := floodIdle(t, a.Addrs().HTTP, tc.clients, tc.each)
			defer f.close()
			served(t)
			held := openFDs(t) - before - f.open
			t.Logf("%d idle connections from %d clients: the appliance holds %d more descriptors (bound %d+32); %d were answered, %d closed by the appliance",
				tc.clients*tc.each, tc.clients, held, tc.bound, f.answered, f.closed())
			if held > tc.bound+32 {
				t.Errorf("the appliance holds %d more descriptors during the flood, want at most %d", held, tc.bound+32)
			}
			// The operator sees it: idle connections closed to make room.
			if n := httpMetric(t, base, strings.TrimSpace(string(token)), `provision_http_evicted_total{listener="boot"}`); n == 0 {
				t.Error(`/metrics: provision_http_evicted_total{listener="boot"} is 0 during the flood`)
			}
		})
	}
}

// httpMetric is the value of the metric line name (with its labels) in
// /metrics at base.
func httpMetric(t *testing.T, base, token, name string) float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics: %s %q", name, v)
			}
			return f
		}
	}
	t.Fatalf("/metrics (%s) lacks %s", resp.Status, name)
	return 0
}

// With the API on a listener of its own (--api, TLS), a flood of idle
// connections to the boot listener from 40 clients does not reach it:
// curl from another address gets /api/v1/whoami within 200 ms, and its
// boot script too.
func TestHTTPIdleFloodOwnAPIListener(t *testing.T) {
	curl := testenv.NeedCommand(t, "curl")
	cfg := devConfig(t)
	cfg.API = "127.0.0.1:0"
	a, token := runWithBootingSystem(t, cfg)
	f := floodIdle(t, a.Addrs().HTTP, 40, 64)
	defer f.close()
	curlWithin(t, curl, 200*time.Millisecond, "200", "https://"+a.Addrs().API+"/api/v1/whoami", "-k", "-H", "Authorization: Bearer "+strings.TrimSpace(string(token)))
	curlWithin(t, curl, 200*time.Millisecond, "200", "http://"+a.Addrs().HTTP+"/boot.ipxe")
}

// runWithBootingSystem runs an appliance of cfg until the test ends, with
// web02 (127.0.0.2) booting from the network, and returns it with its
// read-only token.
func runWithBootingSystem(t *testing.T, cfg Config) (*Appliance, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	addBootingSystem(t, a.Registry(), "web02", "127.0.0.2")
	token, err := os.ReadFile(filepath.Join(cfg.Data, apitoken.FileName(apitoken.ReadOnly)))
	if err != nil {
		t.Fatal(err)
	}
	return a, token
}

// addBootingSystem registers name at ip, booting from the network.
func addBootingSystem(t *testing.T, reg *registry.Registry, name, ip string) {
	t.Helper()
	ctx := context.Background()
	if _, err := reg.AddSubnet(ctx, registry.Subnet{Name: "lan", CIDR: "127.0.0.0/8"}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.AddImage(ctx, registry.Image{Name: "img", Files: map[string]registry.File{
		"kernel": {SHA256: strings.Repeat("a", 64)}, "initrd": {SHA256: strings.Repeat("b", 64)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.AddProfile(ctx, registry.Profile{Name: "p", Image: "img"}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.AddSystem(ctx, registry.System{Name: name, MACs: []string{"52:54:00:00:00:02"}, IP: ip, Profile: "p", Netboot: true}); err != nil {
		t.Fatal(err)
	}
}

// curlWithin fetches url with curl from 127.0.0.2 (another client than
// the flood's), and wants the status code within d, as curl measures it.
func curlWithin(t *testing.T, curl string, d time.Duration, code, url string, args ...string) {
	t.Helper()
	args = append([]string{"-s", "-o", "/dev/null", "--interface", "127.0.0.2", "--max-time", "5", "-w", "%{http_code} %{time_total}"}, args...)
	out, err := exec.Command(curl, append(args, url)...).Output()
	got, secs, _ := strings.Cut(string(out), " ")
	took, _ := strconv.ParseFloat(secs, 64)
	t.Logf("curl %s: %s in %.1f ms", url, got, took*1000)
	if err != nil || got != code || took > d.Seconds() {
		t.Errorf("curl %s during the flood: %q, %v; want %s within %v", url, out, err, code, d)
	}
}

// openFDs counts the descriptors this process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		testenv.Missing(t, "no /proc/self/fd: "+err.Error())
	}
	return len(fds)
}

// flood is idle keep-alive connections to an HTTP listener, each after
// one request for /boot.ipxe; open counts this side's descriptors.
type flood struct {
	mu       sync.Mutex
	conns    []net.Conn
	open     int
	answered int
}

// floodIdle opens each connections from each of clients addresses
// (127.0.0.10 on), 64 at a time, and leaves them idle.
func floodIdle(t *testing.T, addr string, clients, each int) *flood {
	t.Helper()
	f := &flood{}
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range clients * each {
		from := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(10+i%clients))}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			d := net.Dialer{LocalAddr: from, Timeout: 3 * time.Second}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(3 * time.Second))
			fmt.Fprint(c, "GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			ok := err == nil && !resp.Close
			if err == nil {
				io.Copy(io.Discard, resp.Body)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			f.conns, f.open = append(f.conns, c), f.open+1
			if ok {
				f.answered++
			}
		}()
	}
	wg.Wait()
	return f
}

// closed counts the flood's connections the appliance has closed.
func (f *flood) closed() int {
	n := 0
	for _, c := range f.conns {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && !os.IsTimeout(err) {
			n++
		}
	}
	return n
}

func (f *flood) close() {
	for _, c := range f.conns {
		c.Close()
	}
}
