package images

import (
	"bytes"
	_ "embed" // the reference template
	"strings"
	"testing"
	"text/template"
)

// testdata/boot.ipxe.tmpl is the script as a text/template, as Script
// wrote it before appendScript: the reference that appendScript follows.
//
//go:embed testdata/boot.ipxe.tmpl
var scriptTemplateText string

var scriptTemplate = template.Must(template.New("boot.ipxe").Parse(scriptTemplateText))

func templateScript(t testing.TB, h Host, server string, files map[string]string) []byte {
	t.Helper()
	d, err := newScriptData(h, server, files)
	if err != nil {
		t.Fatal(err)
	}
	var cmdline []byte
	if d.Netboot {
		if cmdline, err = kernelCmdline(nil, h, server, d.HasInitrd); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := scriptTemplate.Execute(&buf, struct {
		scriptData
		Cmdline string
	}{d, string(cmdline)}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// scriptHosts vary every part of the script.
func scriptHosts() []Host {
	var hs []Host
	for _, base := range []Host{web01, db01} {
		for i := range 32 {
			h := base
			if i&1 != 0 {
				h.MAC = nil
			}
			if i&2 != 0 {
				h.Profile = ""
			}
			if i&4 != 0 {
				h.Install = &Install{Kind: "kickstart", Token: "0123456789abcdef"}
			}
			if i&8 != 0 {
				h.Reason = "installed"
			}
			if i&16 != 0 {
				h.Rootfs = &Rootfs{SHA256: strings.Repeat("d", 64), Size: 123, Unpacked: 456}
			}
			hs = append(hs, h)
		}
	}
	return hs
}

// TestScriptAsTemplate: appendScript writes what the template does.
func TestScriptAsTemplate(t *testing.T) {
	for _, files := range []map[string]string{centosFiles, {KindKernel: centosFiles[KindKernel]}} {
		for _, h := range scriptHosts() {
			got, err := Script(h, "http://10.0.0.1:8080", files)
			if err != nil {
				t.Fatal(err)
			}
			if want := templateScript(t, h, "http://10.0.0.1:8080", files); !bytes.Equal(got, want) {
				t.Errorf("%+v:\n%s\nthe template writes:\n%s", h, got, want)
			}
		}
	}
}

// FuzzScriptAsTemplate: whatever the values, appendScript writes what the
// template does, and Script refuses what it refused.
func FuzzScriptAsTemplate(f *testing.F) {
	f.Add("web01", "web", "centos9", "quiet", "internal", "", true)
	f.Add("db01", "", "x", "a\nb", "", "installed", false)
	f.Add("é", "${x}", "a b", "#", "z", "r\u0085", true)
	f.Fuzz(func(t *testing.T, name, profile, image, args, zone, reason string, netboot bool) {
		h := Host{Name: name, Profile: profile, Image: image, KernelArgs: args, Zone: zone, Reason: reason, Netboot: netboot, MAC: web01.MAC}
		got, err := Script(h, "http://10.0.0.1", centosFiles)
		d, derr := newScriptData(h, "http://10.0.0.1", centosFiles)
		if derr == nil && d.Netboot {
			_, derr = kernelCmdline(nil, h, "http://10.0.0.1", d.HasInitrd)
		}
		if (err == nil) != (derr == nil) {
			t.Fatalf("Script: %v, newScriptData and kernelCmdline: %v", err, derr)
		}
		if err != nil {
			return
		}
		if want := templateScript(t, h, "http://10.0.0.1", centosFiles); !bytes.Equal(got, want) {
			t.Errorf("%+v:\n%s\nthe template writes:\n%s", h, got, want)
		}
	})
}

// FuzzCheckText: the ASCII pass of checkText says what the Unicode one does.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"", "quiet", "a\nb", "${x}", "x${", "$", "{${x}\x7f", "é\u0085", "a\xff", "${x}\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, slow := checkText(s), checkUnicode(s)
		if (fast == nil) != (slow == nil) || fast != nil && fast.Error() != slow.Error() {
			t.Errorf("checkText(%q) = %v, checkUnicode = %v", s, fast, slow)
		}
	})
}

// BenchmarkScript: the script of a diskless host with long kernel
// arguments, as bench/http.sh fetches it.
func BenchmarkScript(b *testing.B) {
	h := web01
	h.KernelArgs = strings.Repeat("console=ttyS0,115200n8 provision.bench.argument=xxxxxxxxxxxxxxxxxxxxxxxxx ", 20)
	h.Rootfs = &Rootfs{SHA256: strings.Repeat("d", 64), Size: 1 << 30, Unpacked: 3 << 30}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Script(h, "http://127.0.0.1:8080", centosFiles); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzAppendArgs: appendArgs gives the words checkArgs gives, or its error.
func FuzzAppendArgs(f *testing.F) {
	for _, s := range []string{"", "quiet", "  a  b ", "a\u00a0b", "x || y", "#c", "a ;", "a\nb", "${x}", "é  ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		words, err := checkArgs(args)
		got, gerr := appendArgs(nil, args)
		if (err == nil) != (gerr == nil) || err != nil && err.Error() != gerr.Error() {
			t.Fatalf("%q: checkArgs %v, appendArgs %v", args, err, gerr)
		}
		if want := strings.Join(words, " "); err == nil && string(got) != want {
			t.Errorf("%q: appendArgs %q, checkArgs %q", args, got, want)
		}
	})
}
