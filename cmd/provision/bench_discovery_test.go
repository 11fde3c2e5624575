package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/provision/provision/inventory"
)

// BenchmarkDiscoveryByRule: machines that report their inventory to a
// running appliance (POST /discovery/inventory, as the agent does, each
// from an address of its own on a discovery subnet) and that a rule
// accepts at once: the inventory stored, the rule matched, the name
// rendered, the lowest free address taken, the system committed, before
// the agent gets its answer. ms/machine is the time of one report and
// accept as the agent waits for it; db-bytes/machine what the database
// (SQLite, with its WAL) grows per machine.
func BenchmarkDiscoveryByRule(b *testing.B) {
	data := b.TempDir()
	s := startServerBinary(b, cli, data)
	dir := b.TempDir()
	kernel := filepath.Join(dir, "vmlinuz")
	os.WriteFile(kernel, bytes.Repeat([]byte("kernel"), 5000), 0o644)
	s.ok("subnet", "add", "loop", "--cidr", "127.0.0.0/16", "--pool", "127.0.255.1-127.0.255.250", "--discovery", "on")
	s.ok("image", "add", "inst", "--kernel", kernel, "--initrd", kernel)
	s.ok("profile", "add", "web", "--image", "inst")
	s.ok("rule", "add", "rack", "--match", `lldp.switch == "tor-b" && lldp.port =~ "Ethernet1/([0-9]+)"`,
		"--name", "b-{{ .LLDP.PortNumber }}", "--profile", "web", "--ip", "auto")
	size := func() int64 {
		var n int64
		for _, f := range []string{"registry.db", "registry.db-wal"} {
			if st, err := os.Stat(filepath.Join(data, f)); err == nil {
				n += st.Size()
			}
		}
		return n
	}
	before := size()
	var took time.Duration
	n := 0
	for i := 0; b.Loop(); i++ {
		mac := fmt.Sprintf("52:54:00:b0:%02x:%02x", i>>8&0xff, i&0xff)
		inv := sampleInventory(mac, fmt.Sprintf("52:54:00:b1:%02x:%02x", i>>8&0xff, i&0xff), fmt.Sprintf("SER-%06d", i), fmt.Sprint(i+1), fmt.Sprintf("10.9.%d.%d", i/250, i%250+1))
		inv.NICs[0].LLDP.SwitchName = "tor-b"
		body, _ := json.Marshal(inventory.Report{Inventory: inv})
		from := fmt.Sprintf("127.0.%d.%d", i/250, i%250+1) // the rate limit is per address
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
		start := time.Now()
		resp, err := c.Post(s.URL+"/discovery/inventory", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took += time.Since(start)
		n++
		if resp.StatusCode != 200 || !bytes.Contains(out, []byte(`registered as b-`+fmt.Sprint(i+1))) {
			b.Fatalf("report %d from %s: %d %s", i, from, resp.StatusCode, out)
		}
	}
	b.ReportMetric(float64(took.Microseconds())/1000/float64(n), "ms/machine")
	b.ReportMetric(float64(size()-before)/float64(n), "db-bytes/machine")
}
