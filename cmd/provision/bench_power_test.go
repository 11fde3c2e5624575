package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
)

// BenchmarkPowerStatusAll400: `provision power status --all` against 400
// simulated BMCs (one OpenIPMI ipmi_sim each, on its own loopback
// address), side by side with what an operator runs without us: ipmitool
// for each BMC, 32 at a time (xargs -P 32), the same concurrency.
func BenchmarkPowerStatusAll400(b *testing.B) {
	testenv.NeedRoot(b)
	const n, pw = 400, "bench-bmc-pw"
	sims := make([]*lab.BMCSim, n)
	for i := range sims {
		sims[i] = lab.StartBMCSimAt(b, fmt.Sprintf("127.0.%d.%d", 10+i/200, 1+i%200), pw)
	}
	s := startServerBinary(b, cli, b.TempDir(), "--power-poll", "0")
	var doc strings.Builder
	doc.WriteString("subnets: [{name: big, cidr: 172.16.0.0/16}]\n")
	doc.WriteString("images: [{name: img, kind: install, files: {kernel: {sha256: " + strings.Repeat("a", 64) + ", size: 1}, initrd: {sha256: " + strings.Repeat("b", 64) + ", size: 1}}}]\n")
	doc.WriteString("profiles: [{name: web, image: img}]\nsystems:\n")
	for i, sim := range sims {
		fmt.Fprintf(&doc, "  - {name: b%03d, macs: [\"02:00:00:00:%02x:%02x\"], ip: 172.16.%d.%d, profile: web, netboot: true, "+
			"bmc: {address: %s, port: %d, user: admin, password: %s}}\n", i, i>>8, i&0xff, 1+i/200, 2+i%200, sim.Address, sim.Port, pw)
	}
	file := filepath.Join(b.TempDir(), "fleet.yaml")
	os.WriteFile(file, []byte(doc.String()), 0o600)
	s.ok("import", file)
	b.Run("provision", func(b *testing.B) {
		for b.Loop() {
			var out []api.PowerResult
			json.Unmarshal([]byte(s.ok("power", "status", "--all", "--fresh", "--json")), &out)
			for _, r := range out {
				if r.State != "off" {
					b.Fatalf("%s: %+v", r.System, r)
				}
			}
			if len(out) != n {
				b.Fatalf("%d answers", len(out))
			}
		}
	})
	b.Run("ipmitool-xargs-P32", func(b *testing.B) {
		var list strings.Builder
		for _, sim := range sims {
			fmt.Fprintf(&list, "%s %d\n", sim.Address, sim.Port)
		}
		for b.Loop() {
			cmd := exec.Command("sh", "-c", `xargs -P 32 -L 1 sh -c 'ipmitool -I lanplus -H "$0" -p "$1" -U admin -E -C 3 chassis power status' | grep -c "is off"`)
			cmd.Stdin = strings.NewReader(list.String())
			cmd.Env = append(os.Environ(), "IPMITOOL_PASSWORD="+pw)
			out, err := cmd.Output()
			if err != nil || strings.TrimSpace(string(out)) != fmt.Sprint(n) {
				b.Fatalf("ipmitool: %q %v", out, err)
			}
		}
	})
}
