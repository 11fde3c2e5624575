package main

import (
	"database/sql"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to read the leases table

	"github.com/provision/provision/internal/lab"
	"github.com/provision/provision/internal/pgtest"
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
