package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/api"
	lab "github.com/provision/provision/lab/labtest"
)

// provision power against OpenIPMI's ipmi_sim: the same state as the real
// ipmitool, on and off start and stop the machine behind the BMC, every
// BMC at once with one that does not answer, and clear errors.
func TestPowerVerbsAgainstIPMISim(t *testing.T) {
	defer parallel(t)()
	bmc := lab.StartBMCSim(t, "e2e-bmc-pw")
	s := startServer(t, t.TempDir(), "--power-poll", "1s")
	seed(t, s)
	env := []string{"PW=" + bmc.Password}
	port := fmt.Sprint(bmc.Port)
	if r := s.run(env, "system", "add", "vm1", "--mac", "52:54:00:00:02:01", "--ip", "10.0.0.31", "--profile", "centos-web",
		"--bmc-address", bmc.Address, "--bmc-port", port, "--bmc-user", "admin", "--bmc-password-env", "PW"); r.Code != 0 {
		t.Fatal(r.Err)
	}
	dead := fmt.Sprint(lab.FreePort(t, "udp"))
	if r := s.run(env, "system", "add", "gone1", "--mac", "52:54:00:00:02:02", "--ip", "10.0.0.32", "--profile", "centos-web",
		"--bmc-address", "127.0.0.2", "--bmc-port", dead, "--bmc-user", "admin", "--bmc-password-env", "PW"); r.Code != 0 {
		t.Fatal(r.Err)
	}
	s.ok("system", "add", "nobmc", "--mac", "52:54:00:00:02:03", "--ip", "10.0.0.33", "--profile", "centos-web")
	same := func(want string) {
		t.Helper()
		if out := s.ok("power", "vm1", "status", "--fresh"); out != "vm1: "+want+"\n" {
			t.Fatalf("power vm1 status: %q, want %s", out, want)
		}
		if out, err := bmc.IPMItool("chassis", "power", "status"); err != nil || out != "Chassis Power is "+want {
			t.Fatalf("ipmitool: %q %v", out, err)
		}
	}
	same("off")
	s.ok("power", "vm1", "on")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, ok := bmc.MachinePID(); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("power on did not start the machine")
		}
	}
	same("on")
	// The poller sees it: /metrics, and a power event.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, m := s.get("/metrics")
		if strings.Contains(m, `provision_power_on{system="vm1"} 1`) && strings.Contains(m, `provision_bmc_up{system="gone1"} 0`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics after power on:\n%s", grepLines(m, "provision_power_on", "provision_bmc_up"))
		}
	}
	if ev := s.ok("events", "--system", "vm1"); !strings.Contains(ev, "the BMC says on") {
		t.Fatalf("no poll event:\n%s", ev)
	}
	start := time.Now()
	var all []api.PowerResult
	json.Unmarshal([]byte(s.ok("power", "status", "--all", "--fresh", "--json")), &all)
	if len(all) != 2 || all[0].System != "gone1" || all[0].Error == "" || all[1].System != "vm1" || all[1].State != "on" {
		t.Fatalf("power status --all: %+v", all)
	}
	if d := time.Since(start); d > 14*time.Second {
		t.Fatalf("power status --all took %v: the BMC that does not answer held it up", d)
	}
	if !strings.Contains(all[0].Error, "system gone1: bmc 127.0.0.2:"+dead) {
		t.Fatalf("the dead BMC's error: %q", all[0].Error)
	}
	s.ok("power", "vm1", "off")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, ok := bmc.MachinePID(); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("power off did not stop the machine")
		}
	}
	same("off")
	s.fails("system nobmc has no BMC", "power", "nobmc", "status", "--fresh")
	s.fails(`power action "explode"`, "power", "vm1", "explode")
	s.fails("system nosuch not found", "power", "nosuch", "on")
	if out := s.ok("events", "--system", "vm1"); !strings.Contains(out, "on by the operator") {
		t.Fatalf("events:\n%s", out)
	}
	if h := s.ok("history", "vm1"); !strings.Contains(h, "on by the operator") || !strings.Contains(h, "off by the operator") {
		t.Fatalf("history:\n%s", h)
	}
	if strings.Contains(s.Log(), bmc.Password) {
		t.Fatal("the BMC password is in the log")
	}
}

// grepLines keeps the lines of s that contain one of the words.
func grepLines(s string, words ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
