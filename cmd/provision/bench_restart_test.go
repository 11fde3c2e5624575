package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/miekg/dns"
	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
)

// The DHCP client of BenchmarkRestart: a system of the lab network's
// subnet (lab.Net's 10.251.0.0/24), which the fleet holds in both modes so
// that both import the same registry.
const (
	restartLabCIDR = "10.251.0.0/24"
	restartDHCPMAC = "02:bb:00:00:00:01"
	restartDHCPIP  = "10.251.0.50"
)

// restartFleet is fleetYAML(n) plus the lab subnet and the DHCP client's
// system, after the fleet's last one.
func restartFleet(n int) []byte {
	y := strings.Replace(string(fleetYAML(n)), "subnets: [", "subnets: [{name: lab, cidr: "+restartLabCIDR+"}, ", 1)
	return []byte(y + fmt.Sprintf("  - {name: dhcpclient, macs: [%q], ip: %s, profile: web, netboot: true}\n", restartDHCPMAC, restartDHCPIP))
}

// restartRig runs the appliance (the binary built without -race), stops
// it and runs it again on the same addresses, and holds the clients that
// tell when it serves: DNS over UDP, HTTP and, as root, DHCP. Without
// root it listens on 127.0.0.1; as root it runs in a lab network's server
// namespace with --dhcp-interface, and the clients sit on veths of the
// lab's bridge, as machines would.
type restartRig struct {
	b        *testing.B
	n        *lab.Net // nil: on 127.0.0.1, without DHCP
	httpAddr string
	dnsAddr  string
	tftpAddr string
	address  string         // --address
	http     *http.Client   // no keep-alive: every request dials the server of the moment
	dns      net.Conn       // UDP, connected to dnsAddr
	dhcp     net.PacketConn // raw, on the veth with restartDHCPMAC; nil without the lab
}

func newRestartRig(b *testing.B) *restartRig {
	if os.Geteuid() != 0 {
		b.Log("ms-restart-dhcp is not measured: DHCP needs root (port 67 on a lab network's interface); DNS and HTTP run on 127.0.0.1")
		r := &restartRig{b: b, httpAddr: freeAddr(b), dnsAddr: freeAddr(b), tftpAddr: freeAddr(b), address: "127.0.0.1"}
		r.http = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
		c, err := net.Dial("udp", r.dnsAddr)
		if err != nil {
			b.Fatal(err)
		}
		r.dns = c
		b.Cleanup(func() { c.Close() })
		return r
	}
	n := lab.NewNet(b, "restart")
	if n.Prefix.String() != restartLabCIDR {
		b.Fatalf("the lab network is %s, the fleet's lab subnet %s", n.Prefix, restartLabCIDR)
	}
	ip := n.ServerIP.String()
	r := &restartRig{b: b, n: n, httpAddr: ip + ":80", dnsAddr: ip + ":53", tftpAddr: ip + ":69", address: ip}
	plugBridgeVeth(b, n, "rsip", "02:bb:00:00:00:02", n.Addr(250).String()+"/24")
	plugBridgeVeth(b, n, "rsdhcp", restartDHCPMAC, "")
	dial := func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		err = n.InBridge(func() error {
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	r.http = &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}, Timeout: time.Minute}
	err := n.InBridge(func() (err error) {
		if r.dns, err = net.Dial("udp", r.dnsAddr); err != nil {
			return err
		}
		r.dhcp, err = nclient4.NewRawUDPConn("rsdhcp", dhcpv4.ClientPort)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.dns.Close(); r.dhcp.Close() })
	return r
}

// freeAddr is 127.0.0.1:PORT with PORT free for both TCP and UDP (a DNS
// server takes both).
func freeAddr(b *testing.B) string {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addr := l.Addr().String()
		p, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			p.Close()
			return addr
		}
	}
	b.Fatal("no port of 127.0.0.1 free for both TCP and UDP")
	return ""
}

// plugBridgeVeth plugs a veth with mac into n's bridge; its end name is
// in the bridge namespace, with the address cidr unless it is "".
func plugBridgeVeth(b *testing.B, n *lab.Net, name, mac, cidr string) {
	br := []string{"ip", "-n", n.BridgeNS}
	cmds := [][]string{
		append(br, "link", "add", name, "address", mac, "type", "veth", "peer", "name", name+"p"),
		append(br, "link", "set", name+"p", "master", lab.BridgeIface, "up"),
		append(br, "link", "set", name, "up"),
	}
	if cidr != "" {
		cmds = append(cmds, append(br, "addr", "add", cidr, "dev", name))
	}
	for _, args := range cmds {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
}

// rigServer is one run of the appliance.
type rigServer struct {
	cmd  *exec.Cmd
	log  testenv.Buffer
	done chan struct{}
}

// start starts the appliance on data and returns at once: the caller
// tells when it serves.
func (r *restartRig) start(data string) *rigServer {
	args := []string{cli, "serve", "--dev", "--data", data, "--zone", "dsas", "--dns-forward", "none", "--address", r.address,
		"--http", r.httpAddr, "--dns", r.dnsAddr, "--tftp", r.tftpAddr}
	cmd := exec.Command(args[0], args[1:]...)
	if r.n != nil {
		cmd = r.n.Command(append(args, "--dhcp-interface", lab.ServerIface)...) // ip execs it: the same pid
	}
	s := &rigServer{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &s.log, &s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		r.b.Fatal(err)
	}
	go func() { cmd.Wait(); close(s.done) }()
	r.b.Cleanup(s.stop)
	return s
}

// waitReady waits for the appliance's "ready" line (up to 5 minutes).
func (s *rigServer) waitReady(b *testing.B) {
	for deadline := time.Now().Add(5 * time.Minute); !strings.Contains(s.log.String(), "msg=ready"); time.Sleep(20 * time.Millisecond) {
		select {
		case <-s.done:
			b.Fatalf("the appliance exited before it was ready:\n%s", s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("the appliance was not ready within 5 minutes:\n%s", s.log.String())
		}
	}
}

// stop sends SIGTERM and waits for the exit (SIGKILL after a minute).
func (s *rigServer) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// cli runs the CLI against the appliance and returns the CPU time it
// used, or its error with what it printed.
func (r *restartRig) cli(token string, args ...string) (time.Duration, error) {
	cmd := exec.Command(cli, args...)
	if r.n != nil {
		cmd = r.n.Command(append([]string{cli}, args...)...)
	}
	cmd.Env = append(os.Environ(), "PROVISION_SERVER=http://"+r.httpAddr, "PROVISION_TOKEN="+token)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("provision %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// txt asks the appliance for name's TXT record and returns its text ("" for
// none); an error is no answer within 50 ms, or none at all (nothing
// listens yet).
func (r *restartRig) txt(name string) (string, error) {
	q := new(dns.Msg).SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	co := &dns.Conn{Conn: r.dns}
	if err := co.WriteMsg(q); err != nil {
		return "", err
	}
	r.dns.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	for {
		m, err := co.ReadMsg()
		if err != nil {
			return "", err
		}
		if m.Id != q.Id {
			continue // the late answer of an earlier query
		}
		for _, rr := range m.Answer {
			if t, ok := rr.(*dns.TXT); ok {
				return strings.Join(t.Txt, ""), nil
			}
		}
		return "", nil
	}
}

// get GETs path and returns the status, when the response started, and
// the body.
func (r *restartRig) get(path string) (int, time.Time, []byte, error) {
	resp, err := r.http.Get("http://" + r.httpAddr + path)
	if err != nil {
		return 0, time.Time{}, nil, err
	}
	at := time.Now()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, at, body, err
}

// offered broadcasts a DISCOVER from restartDHCPMAC and reports whether
// an OFFER of its reserved address came within 20 ms.
func (r *restartRig) offered() (bool, error) {
	hw, _ := net.ParseMAC(restartDHCPMAC)
	d, err := dhcpv4.NewDiscovery(hw)
	if err != nil {
		return false, err
	}
	if _, err := r.dhcp.WriteTo(d.ToBytes(), &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpv4.ServerPort}); err != nil {
		return false, err
	}
	r.dhcp.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	buf := make([]byte, 1500)
	for {
		k, _, err := r.dhcp.ReadFrom(buf)
		if err != nil {
			return false, nil // no offer yet
		}
		m, err := dhcpv4.FromBytes(buf[:k])
		if err == nil && m.TransactionID == d.TransactionID && m.MessageType() == dhcpv4.MessageTypeOffer {
			return m.YourIPAddr.String() == restartDHCPIP, nil
		}
	}
}

// restartTimes is how long after a start each client got its first
// right answer; dhcp is 0 without the lab.
type restartTimes struct{ dns, cdb, ipxe, dhcp time.Duration }

// serving polls every client at once from t0 (the start of the process)
// until each has its right answer about the fleet's last system (name,
// its mysql.server_id id, its mac): DNS its TXT setting, HTTP a 200
// data.cdb that holds it and its iPXE script, DHCP (in the lab) the OFFER
// of the DHCP client's address. Two minutes at most.
func (r *restartRig) serving(t0 time.Time, name, id, mac string) (restartTimes, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var got restartTimes
	var g errgroup.Group
	poll := func(what string, into *time.Duration, try func() (time.Time, bool, error)) {
		g.Go(func() error {
			var last error
			for ctx.Err() == nil {
				at, ok, err := try()
				if ok {
					*into = at.Sub(t0)
					return nil
				}
				last = err
				time.Sleep(5 * time.Millisecond)
			}
			return fmt.Errorf("%s: no right answer within 2 minutes (last error: %v)", what, last)
		})
	}
	poll("DNS TXT mysql.server_id of "+name, &got.dns, func() (time.Time, bool, error) {
		v, err := r.txt("mysql.server_id." + name + "._host.dsas")
		return time.Now(), v == id, err
	})
	poll("GET /zone/data.cdb", &got.cdb, func() (time.Time, bool, error) {
		code, at, body, err := r.get("/zone/data.cdb")
		return at, code == http.StatusOK && holds(body, "mysql.server_id."+name+"._host.dsas", id), err
	})
	poll("GET /boot/"+mac+".ipxe", &got.ipxe, func() (time.Time, bool, error) {
		code, at, body, err := r.get("/boot/" + mac + ".ipxe")
		return at, code == http.StatusOK && strings.Contains(string(body), "provision.host="+name+" "), err
	})
	if r.dhcp != nil {
		poll("DHCP OFFER to "+restartDHCPMAC, &got.dhcp, func() (time.Time, bool, error) {
			ok, err := r.offered()
			return time.Now(), ok, err
		})
	}
	return got, g.Wait()
}

// settledRSS samples pid's resident memory every 250 ms until it moved
// less than 1 % over the last 2 s (30 s at most), and returns the last
// sample and how long that took.
func settledRSS(b *testing.B, pid int) (float64, time.Duration) {
	start := time.Now()
	var samples []float64
	for {
		samples = append(samples, rssMiB(b, pid))
		if w := samples[max(0, len(samples)-9):]; len(w) == 9 && slices.Max(w)-slices.Min(w) < slices.Max(w)/100 || time.Since(start) > 30*time.Second {
			return samples[len(samples)-1], time.Since(start)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// cpuMS is the CPU time process pid has used so far, user and system, in
// milliseconds (clock ticks of 10 ms).
func cpuMS(b *testing.B, pid int) float64 {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields from the 3rd (state), after the command name in parentheses.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	utime, _ := strconv.Atoi(f[14-3])
	stime, _ := strconv.Atoi(f[15-3])
	return float64(utime+stime) * 10
}

// median of xs, which it sorts.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// lifetime is one iteration of BenchmarkRestart on a new data directory:
// the first start, the import of file, the stop and the restart; it
// returns the figures by unit.
func (r *restartRig) lifetime(data, file string) map[string]float64 {
	b, n := r.b, fleetSize()
	last, id := fmt.Sprintf("h%05d", n-1), fmt.Sprint(n-1)
	mac := fmt.Sprintf("02:00:00:%02x:%02x:%02x", (n-1)>>16&0xff, (n-1)>>8&0xff, (n-1)&0xff)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	got := map[string]float64{}
	s := r.start(data)
	s.waitReady(b)
	token, err := os.ReadFile(filepath.Join(data, "token"))
	if err != nil {
		b.Fatal(err)
	}
	cpu0, start := cpuMS(b, s.cmd.Process.Pid), time.Now()
	cliCPU, err := r.cli(strings.TrimSpace(string(token)), "import", file)
	if err != nil {
		b.Fatal(err)
	}
	imported := time.Since(start)
	for v, _ := r.txt("mysql.server_id." + last + "._host.dsas"); v != id; v, _ = r.txt("mysql.server_id." + last + "._host.dsas") {
		if time.Since(start) > 10*time.Minute {
			b.Fatalf("DNS does not answer %s's setting 10 minutes after the import started", last)
		}
		time.Sleep(5 * time.Millisecond)
	}
	got["ms-import"], got["ms-import-dns"] = ms(imported), ms(time.Since(start))
	got["ms-cpu-import"], got["ms-cpu-import-cli"] = cpuMS(b, s.cmd.Process.Pid)-cpu0, ms(cliCPU)
	rss, took := settledRSS(b, s.cmd.Process.Pid)
	got["MiB-rss-import"] = rss
	s.stop()

	t0 := time.Now()
	s = r.start(data)
	t, err := r.serving(t0, last, id, mac)
	if err != nil {
		b.Fatalf("after a restart: %v\n%s", err, s.log.String())
	}
	got["ms-restart-dns"], got["ms-restart-cdb"], got["ms-restart-ipxe"] = ms(t.dns), ms(t.cdb), ms(t.ipxe)
	got["ms-restart-http"] = ms(max(t.cdb, t.ipxe))
	got["ms-cpu-restart"] = cpuMS(b, s.cmd.Process.Pid)
	if r.dhcp != nil {
		got["ms-restart-dhcp"] = ms(t.dhcp)
	}
	rss2, took2 := settledRSS(b, s.cmd.Process.Pid)
	got["MiB-rss-restart"] = rss2
	s.stop()
	b.Logf("import %v, DNS %v after its start; RSS %.0f MiB (settled in %v); restart: DNS %v, data.cdb %v, iPXE %v, DHCP %v; RSS %.0f MiB (settled in %v)",
		imported.Round(time.Millisecond), time.Duration(got["ms-import-dns"]*1e6).Round(time.Millisecond), rss, took.Round(time.Millisecond),
		t.dns.Round(time.Millisecond), t.cdb.Round(time.Millisecond), t.ipxe.Round(time.Millisecond), t.dhcp.Round(time.Millisecond), rss2, took2.Round(time.Millisecond))
	return got
}
