package collect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/inventory"
)

// The BMC simulator's configuration, as lab/bmcsim.go has it: a LAN
// channel on 127.0.0.1 and user 2, admin. ipmi_sim answers Get LAN
// Configuration Parameters with zeros (and "unspecified" for the
// source), whatever its addr line says, unless a lan_config_program
// gives them: it runs "PROGRAM get PARAMETER" and reads "PARAMETER:
// value" lines (simLANControl).
const simEmu = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
`

const simLAN = `name "bmc1"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 %d
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
    lan_config_program "%s"
  endlan
  serial 15 127.0.0.1 %d codec VM
  startcmd "exec sleep 600"
  startnow false
  poweroff_wait 1
  kill_wait 1
  user 2 true "admin" "%s" admin 10 none md2 md5 straight
`

// simLANControl is the BMC's LAN settings, as its lan_config_program
// prints them.
const simLANControl = `#!/bin/sh
for p in "$@"; do
  case $p in
  ip_addr_src) echo "ip_addr_src: static" ;;
  ip_addr) echo "ip_addr: 10.9.8.7" ;;
  mac_addr) echo "mac_addr: 52:54:00:12:34:99" ;;
  subnet_mask) echo "subnet_mask: 255.255.255.0" ;;
  default_gw_ip_addr) echo "default_gw_ip_addr: 10.9.8.1" ;;
  esac
done
`

// bmcSim is a running ipmi_sim on 127.0.0.1.
type bmcSim struct {
	port     int
	password string // admin's
}

// startBMCSim runs OpenIPMI's ipmi_sim until the test ends and waits
// until ipmitool gets an answer.
func startBMCSim(t *testing.T) *bmcSim {
	t.Helper()
	bin := testenv.NeedCommand(t, "ipmi_sim")
	testenv.NeedCommand(t, "ipmitool")
	s := &bmcSim{port: freePort(t, "udp"), password: "admin-pass"}
	dir := t.TempDir()
	lanControl := filepath.Join(dir, "lancontrol")
	for name, data := range map[string]string{
		"lan.conf":   fmt.Sprintf(simLAN, s.port, lanControl, freePort(t, "tcp"), s.password),
		"bmc.emu":    simEmu,
		"lancontrol": simLANControl,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	var log testenv.Buffer
	cmd := exec.Command(bin, "-n", "-c", filepath.Join(dir, "lan.conf"), "-f", filepath.Join(dir, "bmc.emu"), "-s", filepath.Join(dir, "state"))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := s.ipmitool("admin", s.password, "chassis", "power", "status"); err == nil {
			return s
		} else if time.Now().After(deadline) {
			t.Fatalf("ipmi_sim did not answer: %v\n%s", err, log.String())
		}
	}
}

// ipmitool runs the real ipmitool over lanplus, the password in its
// environment.
func (s *bmcSim) ipmitool(user, password string, args ...string) (string, error) {
	argv := append([]string{"-I", "lanplus", "-H", "127.0.0.1", "-p", strconv.Itoa(s.port), "-U", user, "-E", "-C", "3", "-N", "1", "-R", "1"}, args...)
	cmd := exec.Command("ipmitool", argv...)
	cmd.Env = []string{"IPMITOOL_PASSWORD=" + password, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// client is a go-ipmi client logged in over the LAN as admin: the same
// type the agent opens in-band on /dev/ipmi0.
func (s *bmcSim) client(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.NewClient("127.0.0.1", s.port, "admin", s.password)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("connecting to ipmi_sim: %v", err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	return c
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestEnrolUser creates the provision user in ipmi_sim: admin's slot is
// left alone, ipmitool lists the new user as an administrator and its
// credentials work; enrolling again reuses the slot and sets the
// password again, in its 20-byte form when it is longer than 16.
// (ipmi_sim accepts a 20-byte password but opens no RMCP+ session with
// one, set by ipmitool or by EnrolUser, and its Test Password says
// "Success" to any password: the login is checked with a 16-byte one,
// the 20-byte form by the old password's login failing after it.) ipmi_sim refuses Set User
// Payload Access (0xc1, invalid command): ErrSOL, with the user made.
func TestEnrolUser(t *testing.T) {
	s := startBMCSim(t)
	c := s.client(t)
	ctx := context.Background()
	const password = "short-16-bytes!!"
	id, ch, err := EnrolUser(ctx, c, "provision", password)
	if err != nil && !errors.Is(err, ErrSOL) {
		t.Fatalf("EnrolUser: %v", err)
	}
	t.Logf("slot %d, channel %d, %v", id, ch, err)
	if id != 3 || ch != 1 {
		t.Errorf("slot %d channel %d, want slot 3 (after admin's 2) on channel 1", id, ch)
	}
	list, err := s.ipmitool("admin", s.password, "user", "list", "1")
	if err != nil {
		t.Fatalf("user list: %v: %s", err, list)
	}
	if !userListed(list, "3", "provision", "ADMINISTRATOR") || !userListed(list, "2", "admin", "ADMINISTRATOR") {
		t.Errorf("user list 1 does not show admin (2) and provision (3) as administrators:\n%s", list)
	}
	if out, err := s.ipmitool("provision", password, "chassis", "power", "status"); err != nil || !strings.Contains(out, "Chassis Power is") {
		t.Errorf("power status as provision: %v: %s", err, out)
	}
	if out, err := s.ipmitool("provision", "wrong-password!!", "chassis", "power", "status"); err == nil {
		t.Errorf("power status with a wrong password worked: %s", out)
	}

	const long = "Zq8-long-password-20" // 20 bytes
	if id2, _, err := EnrolUser(ctx, c, "provision", long); (err != nil && !errors.Is(err, ErrSOL)) || id2 != id {
		t.Errorf("enrolling again: slot %d, %v; want slot %d", id2, err, id)
	}
	if out, err := s.ipmitool("provision", password, "chassis", "power", "status"); err == nil {
		t.Errorf("the old password still logs in after enrolling again with another: %s", out)
	}
}

func userListed(list, id, name, priv string) bool {
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[0] == id && f[1] == name && strings.Contains(line, priv) {
			return true
		}
	}
	return false
}

// TestEnrolUserRefuses: names and passwords IPMI cannot hold are refused
// before the BMC is asked.
func TestEnrolUserRefuses(t *testing.T) {
	for _, tc := range []struct{ user, password string }{
		{"", "pw"}, {"a-user-name-of-17", "pw"}, {"provision", ""}, {"provision", "a-password-of-21-byte"},
	} {
		if _, _, err := EnrolUser(context.Background(), nil, tc.user, tc.password); err == nil {
			t.Errorf("EnrolUser(%q, %q): no error", tc.user, tc.password)
		}
	}
}

// TestBMCLAN reads ipmi_sim's LAN channel: what its lan_config_program
// says.
func TestBMCLAN(t *testing.T) {
	s := startBMCSim(t)
	b, err := BMCLAN(context.Background(), s.client(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ipmi_sim's LAN parameters: %+v", *b)
	want := inventory.BMCLAN{Channel: 1, IP: "10.9.8.7", MAC: "52:54:00:12:34:99", Netmask: "255.255.255.0", Gateway: "10.9.8.1", Source: "static"}
	if d := cmp.Diff(want, *b); d != "" {
		t.Errorf("BMCLAN (-want +got):\n%s", d)
	}
}
