package collect

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/inventory"
)

// tlv is one LLDP TLV: 7 bits of type, 9 of length, the value.
func tlv(typ int, value ...[]byte) []byte {
	v := bytes.Join(value, nil)
	return append(binary.BigEndian.AppendUint16(nil, uint16(typ)<<9|uint16(len(v))), v...)
}

// lldpFrame is an Ethernet frame to LLDP's group from 52:54:00:aa:bb:cc
// carrying tlvs, then the End TLV.
func lldpFrame(tlvs ...[]byte) []byte {
	f := append([]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc}, 0x88, 0xcc)
	for _, t := range tlvs {
		f = append(f, t...)
	}
	return append(f, tlv(0)...)
}

// switchFrame is what a top-of-rack switch sends: chassis id (a MAC),
// port id (locally assigned), TTL, port description, system name, and
// the 802.1 port VLAN id.
func switchFrame(sysName string) []byte {
	return lldpFrame(
		tlv(1, []byte{4}, []byte{0x00, 0x1c, 0x73, 0x01, 0x02, 0x03}),
		tlv(2, []byte{7}, []byte("Ethernet1/7")),
		tlv(3, []byte{0, 120}),
		tlv(4, []byte("server a12-07")),
		tlv(5, []byte(sysName)),
		tlv(127, []byte{0x00, 0x80, 0xc2, 1}, []byte{0, 12}),
	)
}

func TestParseLLDP(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
		want  *inventory.LLDP
	}{
		{"switch", switchFrame("tor-a12"), &inventory.LLDP{ChassisID: "00:1c:73:01:02:03", SwitchName: "tor-a12",
			PortID: "Ethernet1/7", PortDescription: "server a12-07", VLAN: 12}},
		{"mandatory TLVs only, MAC port, IPv4 chassis", lldpFrame(
			tlv(1, []byte{5, 1, 10, 0, 0, 1}),
			tlv(2, []byte{3, 0x00, 0x1c, 0x73, 0x0a, 0x0b, 0x0c}),
			tlv(3, []byte{0, 120}),
		), &inventory.LLDP{ChassisID: "10.0.0.1", PortID: "00:1c:73:0a:0b:0c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLLDP(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseLLDP (-want +got):\n%s", d)
			}
		})
	}
}

// TestParseLLDPShutdown: a shutdown LLDPDU (TTL 0) is no neighbour.
func TestParseLLDPShutdown(t *testing.T) {
	f := lldpFrame(
		tlv(1, []byte{4}, []byte{0x00, 0x1c, 0x73, 0x01, 0x02, 0x03}),
		tlv(2, []byte{3, 0xaa, 0x86, 0x31, 0x72, 0x3d, 0x82}),
		tlv(3, []byte{0, 0}),
	)
	if l, err := ParseLLDP(f); !errors.Is(err, ErrLLDPShutdown) {
		t.Fatalf("a TTL 0 frame: %+v, %v", l, err)
	}
}

// TestParseLLDPMalformed cuts a good frame at every length and flips its
// bytes at random: an error or a neighbour, never a panic; and a frame
// cut inside its mandatory TLVs, or another protocol's, is an error.
func TestParseLLDPMalformed(t *testing.T) {
	good := switchFrame("tor-a12")
	mandatory := 14 + 2 + 7 + 2 + 12 + 2 + 2 // Ethernet, chassis, port, TTL
	for n := range len(good) {
		l, err := ParseLLDP(good[:n])
		if n < mandatory && err == nil {
			t.Errorf("a frame cut at %d of %d bytes parsed: %+v", n, len(good), l)
		}
	}
	ipv4 := append(append([]byte{}, good[:12]...), 0x08, 0x00, 0x45, 0, 0, 20)
	if _, err := ParseLLDP(ipv4); err == nil {
		t.Error("an IPv4 frame parsed as LLDP")
	}
	r := rand.New(rand.NewPCG(29, 29))
	for range 20000 {
		f := append([]byte{}, good...)
		for range 1 + r.IntN(4) {
			f[14+r.IntN(len(f)-14)] = byte(r.Uint32())
		}
		ParseLLDP(f[:14+r.IntN(len(f)-13)])
	}
}

// TestLLDPHostileNames: what a switch names itself reaches the
// inventory without its control characters.
func TestLLDPHostileNames(t *testing.T) {
	l, err := ParseLLDP(switchFrame("tor\x1b[2J-a12\r\n\x00"))
	if err != nil {
		t.Fatal(err)
	}
	inv := inventory.Inventory{NICs: []inventory.NIC{{Name: "eth0", LLDP: l}}}.Clean()
	if got := inv.NICs[0].LLDP.SwitchName; got != "tor[2J-a12" {
		t.Errorf("switch name %q, want %q", got, "tor[2J-a12")
	}
}

// TestListenLLDPD: Debian's lldpd, as a switch in a network namespace,
// announces tor-test and port Ethernet1/7 across a veth pair; Listen on
// this end (down until it brings it up) hears them.
func TestListenLLDPD(t *testing.T) {
	testenv.NeedRoot(t)
	lldpd := testenv.NeedCommand(t, "lldpd")
	testenv.NeedCommand(t, "lldpcli")
	testenv.NeedCommand(t, "ip")
	ns, here, there := fmt.Sprintf("pa-lldp-%d", os.Getpid()), fmt.Sprintf("pal%d", os.Getpid()%100000), "sw0"
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run(t, "ip", "link", "add", here, "type", "veth", "peer", "name", there, "netns", ns)
	t.Cleanup(func() { exec.Command("ip", "link", "del", here).Run() })
	run(t, "ip", "netns", "exec", ns, "ip", "link", "set", there, "up")

	// lldpd's privilege-separated half (user _lldpd) opens the socket.
	dir, err := os.MkdirTemp("", "lldpd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "lldpd.conf")
	text := "configure system hostname tor-test\nconfigure lldp tx-interval 1\n" +
		"configure ports " + there + " lldp portidsubtype local Ethernet1/7 description uplink-a12\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var log testenv.Buffer
	cmd := exec.Command("ip", "netns", "exec", ns, lldpd, "-d", "-u", filepath.Join(dir, "lldpd.sock"), "-O", conf, "-I", there)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	// lldpd's first frames may precede its configuration: listen again
	// until the configured ones come.
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	for {
		l, err := Listen(ctx, here)
		if err != nil {
			t.Fatalf("Listen %s: %v; lldpd said:\n%s", here, err, log.String())
		}
		if l.SwitchName == "tor-test" && l.PortID == "Ethernet1/7" {
			if l.PortDescription != "uplink-a12" || l.ChassisID == "" {
				t.Errorf("neighbour %+v: want port description uplink-a12 and a chassis id", l)
			}
			return
		}
		t.Logf("a frame before lldpd's configuration: %+v", l)
	}
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}
