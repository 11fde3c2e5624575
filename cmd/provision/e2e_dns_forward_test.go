package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/provision/provision/internal/testenv"
)

// dnsmasq is a real upstream resolver on 127.0.0.1 (Debian dnsmasq-base)
// that knows mirror.example (192.0.2.80, TTL 300), refuses every other
// name, and logs the queries it gets. It never asks anyone else.
type dnsmasq struct {
	t    *testing.T
	addr string
	cmd  *exec.Cmd
	log  *testenv.Buffer
	done chan struct{}
}

func startDnsmasq(t *testing.T) *dnsmasq {
	t.Helper()
	path, err := exec.LookPath("dnsmasq")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/dnsmasq"); serr != nil {
			testenv.Missing(t, "dnsmasq is not installed (Debian dnsmasq-base)")
		}
		path = "/usr/sbin/dnsmasq"
	}
	dir := t.TempDir()
	for range 10 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		d := &dnsmasq{t: t, addr: "127.0.0.1:" + strconv.Itoa(port), log: &testenv.Buffer{}, done: make(chan struct{})}
		d.cmd = exec.Command(path, "--keep-in-foreground", "--log-facility=-", "--log-queries",
			"--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file="+filepath.Join(dir, "pid"),
			"--port="+strconv.Itoa(port), "--listen-address=127.0.0.1", "--bind-interfaces",
			"--address=/mirror.example/192.0.2.80", "--local-ttl=300")
		d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
		if err := d.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { d.cmd.Wait(); close(d.done) }()
		t.Cleanup(d.stop)
		if d.ready() {
			return d
		}
		d.stop()
		t.Logf("dnsmasq on port %d did not start:\n%s", port, d.log)
	}
	t.Fatal("dnsmasq did not start")
	return nil
}

// ready waits until dnsmasq answers over UDP and TCP, or exits.
func (d *dnsmasq) ready() bool {
	m := new(dns.Msg)
	m.SetQuestion("ready.mirror.example.", dns.TypeA)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-d.done:
			return false
		default:
		}
		ok := true
		for _, network := range []string{"udp", "tcp"} {
			c := &dns.Client{Net: network, Timeout: time.Second}
			if r, _, err := c.Exchange(m, d.addr); err != nil || len(r.Answer) == 0 {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// queries counts the queries for name dnsmasq logged.
func (d *dnsmasq) queries(name string) int {
	return len(regexp.MustCompile(`query\[\w+\] `+regexp.QuoteMeta(name)+` from`).FindAllString(d.log.String(), -1))
}

func (d *dnsmasq) stop() {
	if d.cmd.Process != nil {
		d.cmd.Process.Kill()
		<-d.done
	}
}

// digFull runs dig against addr with args and returns its whole output.
func digFull(t *testing.T, addr string, args ...string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append([]string{"@" + host, "-p", port, "+time=5", "+tries=1"}, args...)
	out, err := exec.CommandContext(ctx, "dig", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// metric returns the value of a metric without labels from /metrics.
func (s *server) metric(name string) float64 {
	s.t.Helper()
	code, body := s.get("/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		s.t.Fatalf("GET /metrics: %d, lacks %s", code, name)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

var mirrorA = regexp.MustCompile(`(?m)^mirror\.example\.\s+\d+\s+IN\s+A\s+192\.0\.2\.80$`)

// With --dns-forward, the appliance answers this host (127.0.0.1) the
// names outside its zone through a real upstream, dnsmasq, and then from
// its cache; another client (127.0.0.5, in no registered subnet) gets
// REFUSED, and the zone's own names stay authoritative.
func TestDNSForwardDig(t *testing.T) {
	defer parallel(t)()
	testenv.NeedCommand(t, "dig")
	up := startDnsmasq(t)
	s := startServer(t, t.TempDir(), "--zone", "dsas", "--dns-forward", up.addr)
	if want := "upstreams=" + up.addr + " from=--dns-forward"; !strings.Contains(s.Log(), want) {
		t.Errorf("the log does not say %q:\n%s", want, s.Log())
	}
	seed(t, s)
	s.ok("system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:02", "--ip", "10.0.0.12", "--profile", "centos-web")
	s.waitDNS("A", "web001.dsas", "10.0.0.12")

	out := digFull(t, s.DNS, "mirror.example", "A")
	if !strings.Contains(out, "status: NOERROR") || !strings.Contains(out, ";; flags: qr rd ra;") || !mirrorA.MatchString(out) {
		t.Fatalf("dig mirror.example from 127.0.0.1: want NOERROR, RA without AA, 192.0.2.80:\n%s\ndnsmasq:\n%s", out, up.log)
	}
	if n := up.queries("mirror.example"); n != 1 {
		t.Errorf("dnsmasq got %d queries for mirror.example, want 1", n)
	}
	if out := digFull(t, s.DNS, "+tcp", "mirror.example", "A"); !mirrorA.MatchString(out) || up.queries("mirror.example") != 1 {
		t.Errorf("second query, over TCP: dnsmasq asked %d times in all, want 1 (the cache):\n%s", up.queries("mirror.example"), out)
	}

	for _, name := range []string{"mirror.example", "other.example"} { // cached or not
		out := digFull(t, s.DNS, "-b", "127.0.0.5", name, "A")
		if !strings.Contains(out, "status: REFUSED") || !strings.Contains(out, ";; flags: qr rd;") || strings.Contains(out, "192.0.2.80") {
			t.Errorf("dig -b 127.0.0.5 %s: want REFUSED without RA:\n%s", name, out)
		}
	}
	if n := up.queries("other.example"); n != 0 {
		t.Errorf("a query of 127.0.0.5 was forwarded")
	}

	for _, args := range [][]string{{"web001.dsas", "A"}, {"nosuch.dsas", "A"}, {"-x", "10.0.0.12"}} {
		out := digFull(t, s.DNS, args...)
		if !strings.Contains(out, ";; flags: qr aa rd ra;") {
			t.Errorf("dig %v: want an authoritative answer:\n%s", args, out)
		}
	}
	if strings.Contains(up.log.String(), "dsas") || strings.Contains(up.log.String(), "in-addr.arpa") {
		t.Errorf("a name of the zone was forwarded:\n%s", up.log)
	}

	up.stop()
	if out := digFull(t, s.DNS, "mirror.example", "A"); !mirrorA.MatchString(out) {
		t.Errorf("with dnsmasq stopped, the cache does not answer:\n%s", out)
	}
	if out := digFull(t, s.DNS, "other.example", "A"); !strings.Contains(out, "status: SERVFAIL") || !strings.Contains(out, " ra;") {
		t.Errorf("with dnsmasq stopped, a name not cached: want SERVFAIL:\n%s", out)
	}
	for name, want := range map[string]float64{"provision_dns_forwarded_total": 2, "provision_dns_cache_hits_total": 2,
		"provision_dns_upstream_failures_total": 1, "provision_dns_cache_entries": 1} {
		if got := s.metric(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// An upstream that does not answer gives SERVFAIL within the timeout
// (2 s a try, 4 s in all).
func TestDNSForwardTimeout(t *testing.T) {
	defer parallel(t)()
	testenv.NeedCommand(t, "dig")
	silent, err := net.ListenPacket("udp", "127.0.0.1:0") // reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	s := startServer(t, t.TempDir(), "--dns-forward", silent.LocalAddr().String())
	start := time.Now()
	out := digFull(t, s.DNS, "+time=10", "mirror.example", "A")
	took := time.Since(start)
	if !strings.Contains(out, "status: SERVFAIL") || !strings.Contains(out, " ra;") {
		t.Errorf("want SERVFAIL with RA:\n%s", out)
	}
	if took < 1500*time.Millisecond || took > 5*time.Second {
		t.Errorf("SERVFAIL after %v, want about 2 s", took)
	}
	if got := s.metric("provision_dns_upstream_failures_total"); got != 1 {
		t.Errorf("provision_dns_upstream_failures_total = %v, want 1", got)
	}
}

// --dns-forward none: names outside the zone are REFUSED to this host
// too, without RA, as before forwarding existed.
func TestDNSForwardNone(t *testing.T) {
	defer parallel(t)()
	testenv.NeedCommand(t, "dig")
	s := startServer(t, t.TempDir(), "--dns-forward", "none")
	if !strings.Contains(s.Log(), "dns: not forwarding names outside the zone") {
		t.Errorf("the log does not say that nothing is forwarded:\n%s", s.Log())
	}
	out := digFull(t, s.DNS, "mirror.example", "A")
	if !strings.Contains(out, "status: REFUSED") || !strings.Contains(out, ";; flags: qr rd;") {
		t.Errorf("want REFUSED without RA:\n%s", out)
	}
}
