package images

import (
	"errors"
	"strings"
	"testing"
)

var centosFiles = map[string]string{
	KindKernel: strings.Repeat("a", 64), KindInitrd: strings.Repeat("b", 64), KindRootfs: strings.Repeat("c", 64),
}

func TestScriptGolden(t *testing.T) {
	quoting := web01
	quoting.Name = "odd01"
	quoting.KernelArgs = "  inst.ks=\"http://10.0.0.1/ks/a   b\"   root=live:http://h/x?a=1&b=2%20 " +
		"init=/bin/sh$HOME 'single' -- x=é a#b y||z a;b & $ {x} "
	noInitrd := web01
	noInitrd.Name, noInitrd.MAC, noInitrd.Zone, noInitrd.KernelArgs = "bare01", nil, "", ""
	installing := web01
	installing.Name, installing.KernelArgs = "inst01", "console=ttyS0"
	installing.Install = &Install{Kind: "preseed", Token: "0123456789abcdef0123456789abcdef"}
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

// TestScriptRefuses covers what an operator may type that would change the
// meaning of the iPXE script rather than reach the kernel.
func TestScriptRefuses(t *testing.T) {
	with := func(f func(*Host)) Host { h := web01; f(&h); return h }
	tests := []struct {
		name   string
		host   Host
		server string
		files  map[string]string
		want   string
		is     error
	}{
		{"newline in args", with(func(h *Host) { h.KernelArgs = "quiet\nshell" }), "", centosFiles, "control character U+000A at byte 5", ErrBadArgs},
		{"CR in args", with(func(h *Host) { h.KernelArgs = "quiet\r" }), "", centosFiles, "U+000D", ErrBadArgs},
		{"tab in args", with(func(h *Host) { h.KernelArgs = "a\tb" }), "", centosFiles, "U+0009", ErrBadArgs},
		{"NUL in args", with(func(h *Host) { h.KernelArgs = "a\x00b" }), "", centosFiles, "U+0000", ErrBadArgs},
		{"DEL in args", with(func(h *Host) { h.KernelArgs = "a\x7f" }), "", centosFiles, "U+007F", ErrBadArgs},
		{"C1 in args", with(func(h *Host) { h.KernelArgs = "a\u0085" }), "", centosFiles, "U+0085", ErrBadArgs},
		{"invalid UTF-8", with(func(h *Host) { h.KernelArgs = "a=\xff" }), "", centosFiles, "invalid UTF-8", ErrBadArgs},
		{"setting expansion", with(func(h *Host) { h.KernelArgs = "ip=${net0/ip}" }), "", centosFiles, `"${" at byte 3`, ErrBadArgs},
		{"or separator", with(func(h *Host) { h.KernelArgs = "quiet || shell" }), "", centosFiles, `word 2 "||"`, ErrBadArgs},
		{"and separator", with(func(h *Host) { h.KernelArgs = "quiet && shell" }), "", centosFiles, `"&&"`, ErrBadArgs},
		{"semicolon", with(func(h *Host) { h.KernelArgs = "quiet ; shell" }), "", centosFiles, `";"`, ErrBadArgs},
		{"comment", with(func(h *Host) { h.KernelArgs = "quiet #rest" }), "", centosFiles, "word 2 starts an iPXE comment", ErrBadArgs},
		{"space in name", with(func(h *Host) { h.Name = "web 01" }), "", centosFiles, "name: white space", ErrBadArgs},
		{"newline in profile", with(func(h *Host) { h.Profile = "web\nshell" }), "", nil, "profile: control", ErrBadArgs},
		{"expansion in zone", with(func(h *Host) { h.Zone = "${x}" }), "", centosFiles, "zone:", ErrBadArgs},
		{"space in server", web01, "http://a b", centosFiles, "server: white space", ErrBadArgs},
		{"no name", with(func(h *Host) { h.Name = "" }), "", centosFiles, "without a name", ErrBadArgs},
		{"too long", with(func(h *Host) { h.KernelArgs = strings.Repeat("x", 2000) }), "http://10.0.0.1", centosFiles, "Linux takes 2047", ErrBadArgs},
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
	h.KernelArgs = "a\nb"
	got, err := Script(h, "http://10.0.0.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(got), "\nexit\n") || strings.Contains(string(got), "kernel") {
		t.Errorf("script:\n%s", got)
	}
}
