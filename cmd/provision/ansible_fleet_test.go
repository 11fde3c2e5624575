package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// ansibleFleetYAML is a registry of n systems (at most 1,000) over four
// subnets (two of site east, one of west, one of none), four profiles
// on two images, in every lifecycle state, each with a rack, some with
// their own role, some with a secret one, every one with a BMC whose
// password, like every secret here, holds "s3cret".
func ansibleFleetYAML(n int) []byte {
	var b strings.Builder
	b.WriteString("settings: {role: base, ntp: 10.0.0.2}\nsecret_settings: {root.hash: s3cret-root}\nsubnets:\n")
	for i, site := range []string{"east", "east", "west", ""} {
		fmt.Fprintf(&b, "  - {name: net%d, cidr: 10.64.%d.0/22, gateway: 10.64.%d.254, site: %q}\n", i, 4*i, 4*i+3, site)
	}
	b.WriteString("images:\n")
	for _, img := range []string{"img-a", "img-b"} {
		fmt.Fprintf(&b, "  - {name: %s, kind: install, files: {kernel: {sha256: %s, size: 1}, initrd: {sha256: %s, size: 1}}}\n", img, strings.Repeat("a", 64), strings.Repeat("b", 64))
	}
	b.WriteString(`profiles:
  - {name: web, image: img-a, kickstart: debian12-preseed, settings: {role: web}}
  - {name: db, image: img-b, kickstart: debian12-preseed, settings: {role: db}, secret_settings: {db.password: s3cret-db}}
  - {name: lvs, image: img-a, settings: {role: lvs}}
  - {name: cache.v2, image: img-b, kickstart: debian12-preseed}
systems:
`)
	profiles := []string{"web", "db", "lvs", "cache.v2"}
	states := []string{"installed", "failed", "pending", "installing"}
	for i := range n {
		profile, state, extra := profiles[(i/2)%4], states[(i/3)%4], ""
		if profile == "lvs" {
			state = "diskless"
		}
		switch {
		case i%11 == 0:
			extra = fmt.Sprintf(", secret_settings: {role: s3cret-role-%d}", i)
		case i%7 == 0:
			extra = fmt.Sprintf(", settings: {rack: R-%02d, role: special-%d}", i/40, i%3)
		}
		if !strings.Contains(extra, "rack") {
			extra = fmt.Sprintf(", settings: {rack: R-%02d}", i/40) + extra
		}
		fmt.Fprintf(&b, "  - {name: n%04d, macs: [\"02:40:00:00:%02x:%02x\"], ip: 10.64.%d.%d, profile: %s, netboot: true, status: %s, "+
			"bmc: {address: 10.65.%d.%d, user: admin, password: s3cret-bmc-%d}%s}\n",
			i, i>>8, i&0xff, 4*(i%4), 1+(i/4)%250, profile, state, i/250, 1+i%250, i, extra)
	}
	return []byte(b.String())
}

// Issue 31, item 2's figure: ansible-inventory over 1,000 systems agrees
// with the registry (groups, host vars, the graph); how long each answer
// takes is logged, not asserted. The server is the build without -race.
func TestAnsibleInventoryFleet(t *testing.T) {
	defer parallel(t)()
	testenv.NeedCommand(t, "ansible-inventory")
	const n = 1000
	s := startServerBinary(t, cli, t.TempDir())
	file := filepath.Join(t.TempDir(), "fleet.yaml")
	os.WriteFile(file, ansibleFleetYAML(n), 0o644)
	s.ok("import", file)
	want := wantAnsible(t, s, "role", "rack")
	if len(want.hosts) != n || len(want.groups["state"]) != 5 || len(want.groups["site"]) != 2 || len(want.groups["role"]) != 7 {
		t.Fatalf("the fleet: %d hosts, groups state %v, site %v, role %v", len(want.hosts), want.groups["state"], want.groups["site"], want.groups["role"])
	}
	timed := func(f func() string) (string, time.Duration) {
		start := time.Now()
		out := f()
		return out, time.Since(start)
	}
	api, tAPI := timed(func() string {
		code, body := s.get("/api/v1/inventory?group_by=role&group_by=rack")
		if code != 200 {
			t.Fatalf("GET /api/v1/inventory: %d %s", code, body)
		}
		return body
	})
	want.checkList(t, "GET /api/v1/inventory", api)
	list, tCLI := timed(func() string { return s.ok("inventory", "--group-by", "role,rack") })
	want.checkList(t, "provision inventory", list)
	// Debian's python3 runs the script, as beside Debian's ansible-core,
	// not a version manager's shim earlier in $PATH (pyenv's costs 0.9 s).
	env := []string{"PROVISION_SERVER=" + s.URL, "PROVISION_TOKEN=" + s.Token, "PROVISION_GROUP_BY=role,rack",
		"PATH=/usr/bin:" + os.Getenv("PATH")}
	script := ansibleScript(t)
	_, tScript := timed(func() string {
		cmd := exec.Command(script, "--list")
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("provision_inventory.py --list: %v", err)
		}
		return string(out)
	})
	ansible, tList := timed(func() string { return ansibleInventory(t, env, "-i", script, "--list") })
	want.checkList(t, "ansible-inventory --list", ansible)
	graph, tGraph := timed(func() string { return ansibleInventory(t, env, "-i", script, "--graph") })
	want.checkGraph(t, graph)
	for _, out := range []string{api, list, ansible, graph} {
		if strings.Contains(out, "s3cret") {
			t.Fatalf("a secret in the inventory")
		}
	}
	t.Logf("%d systems, %d groups, %d KiB of JSON: GET /api/v1/inventory %v, provision inventory %v, provision_inventory.py --list %v, ansible-inventory --list %v, --graph %v",
		n, len(want.groups), len(api)>>10, tAPI.Round(time.Millisecond), tCLI.Round(time.Millisecond), tScript.Round(time.Millisecond),
		tList.Round(time.Millisecond), tGraph.Round(time.Millisecond))
}
