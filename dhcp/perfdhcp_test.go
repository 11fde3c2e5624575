package dhcp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// perfClients is how many MACs perfdhcp simulates (-R). perfdhcp draws r
// uniformly in [0, perfClients) and adds it to the base MAC (-b) from the
// last octet up, one byte of r per octet, without carry: with a base
// ending in 00:00, client r is base[0:4] + r>>8 + r&0xff.
const perfClients = 1000

var perfBase = net.HardwareAddr{0x02, 0x50, 0, 0, 0, 0}

func perfMAC(r int) net.HardwareAddr {
	m := append(net.HardwareAddr(nil), perfBase...)
	m[4] += byte(r >> 8)
	m[5] += byte(r)
	return m
}

// TestPerfdhcpReservations has perfdhcp (Debian: kea-admin) run DORA
// exchanges for 1,000 reserved MACs against the Server for a bounded time
// and asserts that none was dropped.
func TestPerfdhcpReservations(t *testing.T) {
	if testing.Short() {
		t.Skip("perfdhcp runs for 10 seconds")
	}
	// DHCP_PERF_RATE and DHCP_PERF_SECONDS override the load. (bench/dhcp.sh,
	// which compares servers, runs the provision binary and TestPerfdhcpServe.)
	testenv.NeedCommand(t, "perfdhcp")
	v := newVethBits(t, net.HardwareAddr{0x02, 0xfa, 0, 0, 0, 1}, 22)
	client := v.addr(2)
	v.inNS(t, "ip", "addr", "add", fmt.Sprintf("%s/%d", client, v.prefix.Bits()), "dev", v.peer)
	s := v.subnet(false)
	var hosts []Host
	for r := range perfClients {
		hosts = append(hosts, Host{Name: fmt.Sprintf("perf%04d", r), MAC: perfMAC(r), IP: v.addr(uint32(10 + r)), Subnet: s})
	}
	srv := v.serve(t, s, newFakeHosts([]Subnet{s}, hosts...), nil)

	rate, seconds := envInt(t, "DHCP_PERF_RATE", perfRate), envInt(t, "DHCP_PERF_SECONDS", 10)
	before := udpRcvbufErrors(t)
	res := v.perfdhcp(t, client, rate, seconds)
	t.Logf("UDP receive-buffer overflows on the server's side (whole root namespace): %d", udpRcvbufErrors(t)-before)
	t.Logf("RESULT provision asked=%d/s acks=%d/s sent=%v received=%v drops=%v server=%+v",
		rate, res.received[1]/seconds, res.sent, res.received, res.drops, srv.Stats())
	if res.sent[0] == 0 || res.received[0] == 0 {
		t.Fatalf("perfdhcp exchanged nothing: %+v", res)
	}
	if st := srv.Stats(); st.Ignored != 0 || st.RateLimited != 0 {
		t.Errorf("server stats %+v: perfdhcp used MACs that are not reserved, or was rate limited", st)
	}
	if res.drops[0] != 0 || res.drops[1] != 0 {
		where := "requests lost before the server read them"
		if st := srv.Stats(); st.Replied == uint64(res.sent[0]+res.sent[1]) {
			where = "the server answered every request: replies lost or late on perfdhcp's side (machine overloaded?)"
		}
		t.Errorf("drops: DISCOVER-OFFER %d, REQUEST-ACK %d; want none (%s)", res.drops[0], res.drops[1], where)
	}
}

// perfResult holds perfdhcp's counters for DISCOVER-OFFER [0] and
// REQUEST-ACK [1].
type perfResult struct {
	sent, received, drops [2]int
	output                string
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

var perfCounter = regexp.MustCompile(`(?m)^(sent packets|received packets|drops): (\d+)$`)

// perfdhcp runs perfdhcp in the namespace from local against the server.
func (v *veth) perfdhcp(t *testing.T, local netip.Addr, rate, seconds int) perfResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+30)*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", v.ns, "perfdhcp", "-4", "-l", local.String(),
		"-r", strconv.Itoa(rate), "-p", strconv.Itoa(seconds), "-R", strconv.Itoa(perfClients),
		"-b", "mac="+perfBase.String(), "-d", "2", "-W", "2000000", v.server.String())
	out, err := cmd.CombinedOutput()
	if snmp, err := exec.Command("ip", "netns", "exec", v.ns, "grep", "^Udp:", "/proc/net/snmp").Output(); err == nil {
		t.Logf("UDP counters on perfdhcp's side:\n%s", snmp) // RcvbufErrors: perfdhcp fell behind
	}
	res := perfResult{output: string(out)}
	t.Logf("perfdhcp:\n%s", out)
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 3) { // 3: some exchanges failed
		t.Fatalf("perfdhcp: %v", err)
	}
	seen := map[string]int{}
	for _, m := range perfCounter.FindAllStringSubmatch(res.output, -1) {
		n, _ := strconv.Atoi(m[2])
		i := seen[m[1]]
		seen[m[1]]++
		if i > 1 {
			continue
		}
		switch m[1] {
		case "sent packets":
			res.sent[i] = n
		case "received packets":
			res.received[i] = n
		case "drops":
			res.drops[i] = n
		}
	}
	return res
}

// udpRcvbufErrors reads RcvbufErrors from /proc/net/snmp: datagrams the
// kernel dropped because a socket's receive buffer was full.
func udpRcvbufErrors(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.Atoi(f[i])
				return v
			}
		}
	}
	return 0
}
