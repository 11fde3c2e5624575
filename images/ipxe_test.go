package images

import (
	"errors"
	"net"
	"strings"
	"testing"
)

var centosFiles = map[string]string{
	KindKernel: strings.Repeat("a", 64), KindInitrd: strings.Repeat("b", 64), KindRootfs: strings.Repeat("c", 64),
}

// fakeCmdline is a Host.Cmdline that writes line, with the server's URL
// for each "SERVER", after initrd=NAME when the script names one. The
// registry makes the real ones (registry.Snapshot.AppendKernelArgs),
// tested in package registry and, against the goldens here, in package
// bind.
func fakeCmdline(line string) func([]byte, string, net.HardwareAddr, string) ([]byte, error) {
	return func(b []byte, server string, _ net.HardwareAddr, initrd string) ([]byte, error) {
		if initrd != "" {
			b = append(b, "initrd="+initrd+" "...)
		}
		return append(b, strings.ReplaceAll(line, "SERVER", server)...), nil
	}
}

func TestScriptGolden(t *testing.T) {
	quoting := web01
	quoting.Name = "odd01"
	quoting.Cmdline = fakeCmdline(`inst.ks="http://10.0.0.1/ks/a b" root=live:http://h/x?a=1&b=2%20 ` +
		`init=/bin/sh$HOME 'single' -- x=é a#b y||z a;b & $ {x} provision.host=odd01 provision.zone=internal provision.server=SERVER`)
	noInitrd := web01
	noInitrd.Name, noInitrd.MAC = "bare01", nil
	noInitrd.Cmdline = fakeCmdline("provision.host=bare01 provision.server=SERVER")
	installing := web01
	installing.Name = "inst01"
	installing.Install = &Install{Kind: "preseed"}
	installing.Cmdline = fakeCmdline("console=ttyS0 auto=true priority=critical url=SERVER/ks/0123456789abcdef0123456789abcdef " +
		"provision.ks=SERVER/ks/0123456789abcdef0123456789abcdef provision.host=inst01 provision.zone=internal provision.server=SERVER")
	installed := db01
	installed.Name, installed.Reason = "done01", "installed"
	tests := []struct {
		golden string
		host   Host
		server string
		files  map[string]string
	}{
		{"web01.ipxe", web01, "http://10.0.0.1:8080", centosFiles},
		{"inst01-installer.ipxe", installing, "http://10.0.0.1", centosFiles},
		{"done01-installed.ipxe", installed, "http://10.0.0.1", nil},
		{"db01-local.ipxe", db01, "http://10.0.0.1:8080", nil},
		{"odd01-quoting.ipxe", quoting, "http://[fd00::1]:8080/prov", centosFiles},
		{"bare01-kernel-only.ipxe", noInitrd, "http://boot.internal", map[string]string{KindKernel: centosFiles[KindKernel]}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := Script(tt.host, tt.server, tt.files)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, got)
		})
	}
}

// TestScriptRefuses covers the values Script writes as words of its own
// that would change the meaning of the script, and a kernel command line
// that cannot be made. (The kernel arguments themselves are checked by the
// registry: registry.CheckKernelArgs.)
func TestScriptRefuses(t *testing.T) {
	with := func(f func(*Host)) Host { h := web01; f(&h); return h }
	refused := errors.New("profile web: kernel args: control character U+000A at byte 5")
	tests := []struct {
		name   string
		host   Host
		server string
		files  map[string]string
		want   string
		is     error
	}{
		{"space in name", with(func(h *Host) { h.Name = "web 01" }), "", centosFiles, "name: white space at byte 3", ErrBadArgs},
		{"newline in profile", with(func(h *Host) { h.Profile = "web\nshell" }), "", nil, "profile: control character U+000A at byte 3", ErrBadArgs},
		{"expansion in image", with(func(h *Host) { h.Image = "${x}" }), "", centosFiles, `image: iPXE setting expansion "${" at byte 0`, ErrBadArgs},
		{"space in server", web01, "http://a b", centosFiles, "server: white space", ErrBadArgs},
		{"no name", with(func(h *Host) { h.Name = "" }), "", centosFiles, "without a name", ErrBadArgs},
		{"command line refused", with(func(h *Host) {
			h.Cmdline = func([]byte, string, net.HardwareAddr, string) ([]byte, error) { return nil, refused }
		}), "", centosFiles, "script of web01: " + refused.Error(), refused},
		{"command line refused, also", with(func(h *Host) {
			h.Cmdline = func([]byte, string, net.HardwareAddr, string) ([]byte, error) { return nil, refused }
		}), "", centosFiles, "", ErrBadArgs},
		{"no command line", with(func(h *Host) { h.Cmdline = nil }), "", centosFiles, "no kernel command line", ErrBadArgs},
		{"unknown image", web01, "", nil, `image "centos9"`, ErrUnknownImage},
		{"no kernel", web01, "", map[string]string{KindInitrd: centosFiles[KindInitrd]}, "has no kernel", ErrUnknownFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := tt.server
			if server == "" {
				server = "http://10.0.0.1"
			}
			got, err := Script(tt.host, server, tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.is) {
				t.Fatalf("Script error = %v, want %v containing %q\nscript:\n%s", err, tt.is, tt.want, got)
			}
			if strings.Contains(err.Error(), "shell") {
				t.Errorf("error %q quotes the value", err)
			}
		})
	}
}

// TestScriptNetbootOffIgnoresArgs: a system that boots its disk gets its
// script even while its kernel arguments are broken.
func TestScriptNetbootOffIgnoresArgs(t *testing.T) {
	h := db01
	h.Cmdline = func([]byte, string, net.HardwareAddr, string) ([]byte, error) {
		return nil, errors.New("profile db: kernel args: control character U+000A at byte 1")
	}
	got, err := Script(h, "http://10.0.0.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(got), "\nexit\n") || strings.Contains(string(got), "kernel") {
		t.Errorf("script:\n%s", got)
	}
}

// The script asks for the command line from its own server, for the MAC
// of the host, naming the initrd only when the image has one.
func TestScriptAsksForItsCmdline(t *testing.T) {
	for _, files := range []map[string]string{centosFiles, {KindKernel: centosFiles[KindKernel]}} {
		var server, initrd string
		var mac net.HardwareAddr
		h := web01
		h.Cmdline = func(b []byte, s string, m net.HardwareAddr, i string) ([]byte, error) {
			server, mac, initrd = s, m, i
			return append(b, "x"...), nil
		}
		if _, err := Script(h, "http://10.0.0.1:8080", files); err != nil {
			t.Fatal(err)
		}
		_, has := files[KindInitrd]
		if server != "http://10.0.0.1:8080" || mac.String() != "52:54:00:aa:bb:01" || (initrd == "initrd") != has || has == (initrd == "") {
			t.Errorf("files %v: asked for server %q, mac %v, initrd %q", files, server, mac, initrd)
		}
	}
}
