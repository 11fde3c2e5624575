package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/insomniacslk/dhcp/iana"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to read the leases table

	"github.com/provision/provision/internal/pgtest"
	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
	"github.com/provision/provision/registry"
)

// pairApp is an appliance of a pair in a lab network: it runs in the
// server namespace of net, on the shared database url.
type pairApp struct {
	t      *testing.T
	net    *lab.Net
	data   string
	args   []string
	proc   *lab.Proc
	cli    func(args ...string) string
	stopAt time.Time
}

// startPairApp starts an appliance named name in net's server namespace on
// database url; key, if not empty, is the secret.key file to share.
func startPairApp(t *testing.T, net *lab.Net, url, name, key string, extra ...string) *pairApp {
	t.Helper()
	a := &pairApp{t: t, net: net, data: t.TempDir()}
	if key != "" {
		b, err := os.ReadFile(key)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(a.data, "secret.key"), b, 0o600)
	}
	ip := net.ServerIP.String()
	a.args = append([]string{binary, "serve", "--data", a.data, "--database", url, "--name", name, "--zone", "dsas",
		"--dns-forward", "none", "--address", ip, "--http", ip + ":80", "--dns", ip + ":53", "--tftp", ip + ":69",
		"--dhcp-interface", lab.ServerIface}, extra...)
	a.start()
	tok, err := os.ReadFile(filepath.Join(a.data, "token"))
	if err != nil {
		t.Fatal(err)
	}
	a.cli = labCLI(t, net, strings.TrimSpace(string(tok)))
	return a
}

func (a *pairApp) start() {
	a.t.Helper()
	a.proc = a.net.Exec(a.t, a.args...)
	if _, err := a.proc.WaitFor(regexp.MustCompile(`msg=ready`), time.Minute); err != nil {
		a.t.Fatalf("appliance in %s did not start: %v", a.net.ServerNS, err)
	}
}

func (a *pairApp) key() string { return filepath.Join(a.data, "secret.key") }

// poolLeases reads the bound leases of the shared database: ip -> mac and
// ip -> holder.
func poolLeases(t *testing.T, url string) (macs, holders map[string]string) {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT ip, mac, holder FROM leases WHERE state = 'bound'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	macs, holders = map[string]string{}, map[string]string{}
	for rows.Next() {
		var ip, mac, holder string
		if err := rows.Scan(&ip, &mac, &holder); err != nil {
			t.Fatal(err)
		}
		if macs[ip] != "" {
			t.Errorf("the leases table binds %s to %s and to %s", ip, macs[ip], mac)
		}
		macs[ip], holders[ip] = mac, holder
	}
	return macs, holders
}

// Two appliances on one PostgreSQL database serve one segment at once:
// ISC dhclients starting together on a pool get one address each, never
// one twice, and the shared leases table says which appliance holds each;
// a system removed through B no longer gets its address from A; and an
// appliance serves DHCP only for the subnets of its own site.
func TestTwoAppliancesOneSegment(t *testing.T) {
	defer parallel(t)()
	url := pgtest.DBSocket(t)
	n := lab.NewNet(t, "pair")
	nb := n.AddServer(t, "b", n.Addr(2))
	a := startPairApp(t, n, url, "a", "")
	b := startPairApp(t, nb, url, "b", a.key())

	a.cli("subnet", "add", "lab", "--cidr", n.Prefix.String(), "--pool", n.Addr(100).String()+"-"+n.Addr(140).String())
	const clients = 12
	got := make([]string, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = dhclient(t, n, fmt.Sprintf("pc%d", i), fmt.Sprintf("02:00:00:00:01:%02x", i))
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for i, ip := range got {
		addr, err := netip.ParseAddr(ip)
		if err != nil || addr.Less(n.Addr(100)) || n.Addr(140).Less(addr) {
			t.Errorf("client %d got %q, not an address of the pool", i, ip)
			continue
		}
		if j, dup := seen[ip]; dup {
			t.Errorf("clients %d and %d were both given %s", j, i, ip)
		}
		seen[ip] = i
	}
	macs, holders := poolLeases(t, url)
	byHolder := map[string]int{}
	for ip, i := range seen {
		if want := fmt.Sprintf("02:00:00:00:01:%02x", i); macs[ip] != want {
			t.Errorf("the leases table has %s bound to %q, want %s", ip, macs[ip], want)
		}
		byHolder[holders[ip]]++
	}
	for h := range byHolder {
		if h != "a" && h != "b" {
			t.Errorf("a lease is held by %q, neither appliance", h)
		}
	}
	t.Logf("%d pool clients at once: leases held by %v", clients, byHolder)

	// A reservation made through A is served; removed through B, A no
	// longer gives that address, but a pool one.
	dir := t.TempDir()
	kernel := filepath.Join(dir, "k")
	os.WriteFile(kernel, []byte("kernel"), 0o644)
	a.cli("image", "add", "img", "--kernel", kernel, "--initrd", kernel)
	a.cli("profile", "add", "p", "--image", "img")
	const known = "52:54:00:aa:00:01"
	a.cli("system", "add", "known1", "--mac", known, "--ip", n.Addr(61).String(), "--profile", "p")
	offers := dhcpOffers(t, n, "off1", known)
	if len(offers) != 2 {
		t.Fatalf("a PXE DISCOVER of a registered MAC got %d offers, want one from each appliance", len(offers))
	}
	if x, y := sameReply(offers[0]), sameReply(offers[1]); x != y {
		t.Errorf("the two appliances offer the registered host different things:\n%s\n%s", x, y)
	} else {
		t.Logf("both appliances offer the registered host: %s", x)
	}
	if ip := dhclient(t, n, "kn1", known); ip != n.Addr(61).String() {
		t.Fatalf("the registered MAC got %q, want %s", ip, n.Addr(61))
	}
	b.cli("system", "remove", "known1")
	for deadline := time.Now().Add(2 * time.Second); strings.Contains(a.cli("system", "list"), "known1"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("2 s after its removal through B, A still lists known1")
		}
	}
	b.proc.Stop()
	if ip := dhclient(t, n, "kn2", known); ip == n.Addr(61).String() || ip == "" {
		t.Fatalf("removed through B, the MAC got %q from A, want a pool address", ip)
	}

	// Sites: A of site east does not serve subnet lab of site west, and
	// serves it as soon as the subnet is moved to east.
	a.proc.Stop()
	a.args = append(a.args, "--site", "east")
	a.start()
	a.cli("subnet", "edit", "lab", "--site", "west")
	if ip := dhclient(t, n, "st1", "02:00:00:00:02:01"); ip != "" {
		t.Fatalf("an appliance of site east answered on subnet lab of site west: %s", ip)
	}
	a.cli("subnet", "edit", "lab", "--site", "east")
	if ip := dhclient(t, n, "st2", "02:00:00:00:02:02"); ip == "" {
		t.Fatal("the subnet moved to site east, its appliance still does not answer")
	}
}

// try runs the CLI against a and returns what it printed and its error.
func (a *pairApp) try(args ...string) (string, error) {
	tok, err := os.ReadFile(filepath.Join(a.data, "token"))
	if err != nil {
		return "", err
	}
	cmd := a.net.Command(append([]string{cli}, args...)...)
	cmd.Env = append(os.Environ(), "PROVISION_SERVER=http://"+a.net.ServerIP.String(), "PROVISION_TOKEN="+strings.TrimSpace(string(tok)))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// txt asks a's DNS for the TXT record of name and returns its text, or
// "" when there is no answer.
func (a *pairApp) txt(name string) string {
	out, _ := a.net.Command("dig", "+short", "+time=1", "+tries=1", "@"+a.net.ServerIP.String(), name+".dsas", "TXT").Output()
	return strings.Trim(strings.TrimSpace(string(out)), `"`)
}

// eventually polls f every 20 ms until it is true or d has passed.
func eventually(d time.Duration, f func() bool) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// The faults a shared database brings, with two appliances serving:
// PostgreSQL restarted under them (they reconnect and catch up), stopped
// for 30 s (DHCP and DNS keep answering from the Snapshot, writes fail
// with an error that says why, and everything converges once it is
// back), and one appliance killed with SIGKILL in the middle of a burst
// of writes (every write it acknowledged is in the registry).
func TestPairFaults(t *testing.T) {
	defer parallel(t)()
	testenv.NeedCommand(t, "dig")
	pg := pgtest.Private(t)
	url, _ := pg.NewDB(t)
	n := lab.NewNet(t, "fault")
	nb := n.AddServer(t, "b", n.Addr(2))
	a := startPairApp(t, n, url, "a", "")
	b := startPairApp(t, nb, url, "b", a.key())
	a.cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	kernel := filepath.Join(t.TempDir(), "k")
	os.WriteFile(kernel, []byte("kernel"), 0o644)
	a.cli("image", "add", "img", "--kernel", kernel, "--initrd", kernel)
	a.cli("profile", "add", "p", "--image", "img")
	const mac = "52:54:00:fa:00:01"
	a.cli("system", "add", "s1", "--mac", mac, "--ip", n.Addr(71).String(), "--profile", "p")
	a.cli("setting", "set", "lvs.vrid", "1")
	if !eventually(2*time.Second, func() bool { return b.txt("lvs.vrid") == "1" }) {
		t.Fatalf("B's DNS for lvs.vrid says %q, want the 1 set through A", b.txt("lvs.vrid"))
	}

	// A restart of PostgreSQL: both reconnect, and a change through A
	// reaches B without anyone restarting an appliance.
	pg.Down(t)
	pg.Up(t)
	if !eventually(10*time.Second, func() bool { _, err := a.try("setting", "set", "lvs.vrid", "2"); return err == nil }) {
		out, err := a.try("setting", "set", "lvs.vrid", "2")
		t.Fatalf("10 s after PostgreSQL came back, a write through A still fails: %v\n%s", err, out)
	}
	if !eventually(10*time.Second, func() bool { return b.txt("lvs.vrid") == "2" }) {
		t.Fatalf("after the database restart B's DNS says %q, want the 2 set through A", b.txt("lvs.vrid"))
	}
	for _, x := range []*pairApp{a, b} {
		if _, err := x.proc.WaitFor(regexp.MustCompile(`following the database's changes again`), 5*time.Second); err != nil {
			t.Errorf("%s did not log that it follows the database again: %v", x.net.ServerNS, err)
		}
	}

	// 30 s without the database: the Snapshot serves, writes fail.
	pg.Down(t)
	down := time.Now()
	out, err := a.try("setting", "set", "lvs.vrid", "lost")
	if err == nil {
		t.Fatalf("with the database down, a write through A was acknowledged:\n%s", out)
	}
	if !strings.Contains(out, "lvs.vrid") || !strings.Contains(strings.ToLower(out), "database") {
		t.Errorf("the refused write does not say what and why:\n%s", out)
	}
	if ip := dhclient(t, n, "c1", mac); ip != n.Addr(71).String() {
		t.Errorf("with the database down, s1 got %q from the pair, want %s", ip, n.Addr(71))
	}
	for _, x := range []*pairApp{a, b} {
		if got := x.txt("lvs.vrid"); got != "2" {
			t.Errorf("with the database down, %s's DNS says %q for lvs.vrid, want 2", x.net.ServerNS, got)
		}
	}
	time.Sleep(30*time.Second - time.Since(down))
	if ip := dhclient(t, n, "c2", mac); ip != n.Addr(71).String() {
		t.Errorf("30 s into the outage, s1 got %q from the pair, want %s", ip, n.Addr(71))
	}
	pg.Up(t)
	if !eventually(10*time.Second, func() bool { _, err := b.try("setting", "set", "lvs.vrid", "3"); return err == nil }) {
		t.Fatal("10 s after the outage, a write through B still fails")
	}
	if !eventually(10*time.Second, func() bool { return a.txt("lvs.vrid") == "3" }) {
		t.Fatalf("after the outage A's DNS says %q, want the 3 set through B", a.txt("lvs.vrid"))
	}

	// SIGKILL in the middle of a burst of writes through A: whatever A
	// acknowledged is there, as B sees it.
	a.cli("subnet", "add", "burst", "--cidr", "10.252.0.0/16")
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
		stop  = make(chan struct{})
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("burst%d-%d", w, i)
				if out, err := a.try("system", "add", name, "--mac", fmt.Sprintf("02:00:00:%02x:%02x:%02x", w, i/256, i%256),
					"--ip", fmt.Sprintf("10.252.%d.%d", w, i%250+1), "--profile", "p"); err != nil {
					if i == 0 {
						t.Logf("burst worker %d: the first write failed: %v\n%s", w, err, out)
					}
					return
				}
				mu.Lock()
				acked = append(acked, name)
				mu.Unlock()
			}
		}()
	}
	// The kill comes in the middle of the burst: once some writes are
	// acknowledged (how fast they come depends on the machine's load).
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 20 {
			break
		}
	}
	a.proc.Kill()
	close(stop)
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d writes were acknowledged before the kill: no burst", len(acked))
	}
	// B sees them once it follows the database again: its notifications'
	// connection, lost in the outage above, is made again at most 5 s
	// apart (registry's listen backoff), so B may still be catching up.
	var missing []string
	eventually(10*time.Second, func() bool {
		list := b.cli("system", "list")
		missing = missing[:0]
		for _, name := range acked {
			if !strings.Contains(list, name+" ") && !strings.Contains(list, name+"\n") {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			time.Sleep(200 * time.Millisecond) // a CLI run each time: not every 20 ms
		}
		return len(missing) == 0
	})
	if len(missing) > 0 {
		t.Fatalf("%d of %d writes A acknowledged before its SIGKILL are not in the registry: %v", len(missing), len(acked), missing)
	}
	t.Logf("%d writes acknowledged by A before its SIGKILL, all in the registry", len(acked))
}

// The master pair: two appliances of one site on one database, each
// naming the other as its --peer. An image uploaded to A is fetched by B
// (checked against the registry's digest); then A is killed, and a VM
// powered on boots from B alone: DHCP, script, kernel and initrd, every
// step of its timeline marked as served by b.
func TestVMMasterPair(t *testing.T) {
	defer parallel(t)()
	kernel, initrd := lab.Assets(t)
	url := pgtest.DBSocket(t)
	n := lab.NewNet(t, "master")
	nb := n.AddServer(t, "b", n.Addr(2))
	a := startPairApp(t, n, url, "a", "", "--peer", "http://"+nb.ServerIP.String())
	b := startPairApp(t, nb, url, "b", a.key(), "--peer", "http://"+n.ServerIP.String())

	const mac = "52:54:00:12:34:77"
	vmIP := n.Addr(52).String()
	a.cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	a.cli("image", "add", "labimg", "--kernel", kernel, "--initrd", initrd)
	a.cli("profile", "add", "lab", "--image", "labimg", "--kernel-args", "console=ttyS0 panic=5")
	a.cli("system", "add", "labvm1", "--mac", mac, "--ip", vmIP, "--profile", "lab")
	for _, role := range []string{"kernel", "initrd"} {
		if _, err := b.proc.WaitFor(regexp.MustCompile(`fetched from a peer.*file=`+role), 30*time.Second); err != nil {
			t.Fatalf("B did not fetch the image's %s from A: %v", role, err)
		}
	}

	a.proc.Kill()
	vm := lab.BootVM(t, n, mac, 5*time.Minute)
	host, err := vm.WaitBooted(5 * time.Minute)
	if err != nil {
		t.Fatalf("with A killed, the VM did not boot from B: %v\n%s", err, vm.Timed())
	}
	if host != "labvm1" {
		t.Fatalf("booted with provision.host=%q, want labvm1", host)
	}
	t.Logf("A killed, power-on to marker through B: %v", time.Since(vm.Started).Round(100*time.Millisecond))
	want := []string{"dhcp", "script", "kernel", "initrd"}
	var evs []registry.Event
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		evs = nil
		json.Unmarshal([]byte(b.cli("system", "status", "labvm1", "--json")), &evs)
		if inOrder(firstOccurrences(evs), want) || time.Now().After(deadline) {
			break
		}
	}
	if kinds := firstOccurrences(evs); !inOrder(kinds, want) {
		t.Fatalf("timeline %v, want %v in order", kinds, want)
	}
	for _, e := range evs {
		if e.Appliance != "b" {
			t.Errorf("with A dead, the timeline has %s served by %q, want b", e.Kind, e.Appliance)
		}
	}
}

// dhcpOffers broadcasts a PXE DISCOVER from a new veth with mac, again
// every 500 ms until an offer comes (a link just made up may drop the
// first), and returns the first OFFER of each server that answered
// within 1.5 s of the first one (or none within 10 s).
func dhcpOffers(t *testing.T, n *lab.Net, name, mac string) []*dhcpv4.DHCPv4 {
	t.Helper()
	plugClient(t, n, name, mac)
	hw, _ := net.ParseMAC(mac)
	var offers []*dhcpv4.DHCPv4
	err := n.InBridge(func() error {
		conn, err := nclient4.NewRawUDPConn(name, dhcpv4.ClientPort)
		if err != nil {
			return err
		}
		defer conn.Close()
		d, err := dhcpv4.NewDiscovery(hw, dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00000:UNDI:002001")),
			dhcpv4.WithOption(dhcpv4.OptClientArch(iana.INTEL_X86PC)))
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		deadline := time.Now().Add(10 * time.Second)
		buf := make([]byte, 1500)
		for time.Now().Before(deadline) {
			if len(offers) == 0 {
				if _, err := conn.WriteTo(d.ToBytes(), &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpv4.ServerPort}); err != nil {
					return err
				}
			}
			conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			k, _, err := conn.ReadFrom(buf)
			if err != nil {
				continue // a timeout: send again, or stop at the deadline
			}
			m, err := dhcpv4.FromBytes(buf[:k])
			if err != nil || m.TransactionID != d.TransactionID || m.MessageType() != dhcpv4.MessageTypeOffer || seen[m.ServerIdentifier().String()] {
				continue
			}
			seen[m.ServerIdentifier().String()] = true
			if len(offers) == 0 {
				deadline = time.Now().Add(1500 * time.Millisecond)
			}
			offers = append(offers, m)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("DISCOVER from %s: %v", mac, err)
	}
	return offers
}

// sameReply is what must be alike in the offers of a master pair: all of
// it but the server's own address, which names whichever answered
// (server identifier, next server, and the address in a boot file URL).
func sameReply(m *dhcpv4.DHCPv4) string {
	self := m.ServerIdentifier()
	norm := func(v string) string {
		return strings.ReplaceAll(strings.ReplaceAll(v, self.String(), "SELF"), string(self.To4()), "<SELF>")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "yiaddr=%s siaddr-is-self=%v file=%s", m.YourIPAddr, m.ServerIPAddr.Equal(self), norm(m.BootFileName))
	codes := make([]int, 0, len(m.Options))
	for code := range m.Options {
		if code != dhcpv4.OptionServerIdentifier.Code() {
			codes = append(codes, int(code))
		}
	}
	sort.Ints(codes)
	for _, c := range codes {
		fmt.Fprintf(&b, " %d=%q", c, norm(string(m.Options[uint8(c)])))
	}
	return b.String()
}
