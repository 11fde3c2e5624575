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
		if cmdline, err = d.kernelLine(nil); err != nil {
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
				h.Install = &Install{Kind: "kickstart"}
			}
			if i&8 != 0 {
				h.Reason = "installed"
			}
			if i&16 != 0 {
				h.Cmdline = fakeCmdline(strings.Repeat("provision.rootfs.sha256=d ", 20) + "provision.server=SERVER")
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
	f.Add("web01", "web", "centos9", "quiet", "", true)
	f.Add("db01", "", "x", "a\nb", "installed", false)
	f.Add("é", "${x}", "a b", "#", "r\u0085", true)
	f.Fuzz(func(t *testing.T, name, profile, image, line, reason string, netboot bool) {
		h := Host{Name: name, Profile: profile, Image: image, Reason: reason, Netboot: netboot, MAC: web01.MAC, Cmdline: fakeCmdline(line)}
		got, err := Script(h, "http://10.0.0.1", centosFiles)
		d, derr := newScriptData(h, "http://10.0.0.1", centosFiles)
		if derr == nil && d.Netboot {
			_, derr = d.kernelLine(nil)
		}
		if (err == nil) != (derr == nil) {
			t.Fatalf("Script: %v, newScriptData and kernelLine: %v", err, derr)
		}
		if err != nil {
			return
		}
		if want := templateScript(t, h, "http://10.0.0.1", centosFiles); !bytes.Equal(got, want) {
			t.Errorf("%+v:\n%s\nthe template writes:\n%s", h, got, want)
		}
	})
}

// BenchmarkScript: the script of a host with a long kernel command line,
// as bench/http.sh fetches it (the command line's own cost is
// registry.BenchmarkKernelArgs').
func BenchmarkScript(b *testing.B) {
	h := web01
	h.Cmdline = fakeCmdline(strings.Repeat("console=ttyS0,115200n8 provision.bench.argument=xxxxxxxxxxxxxxxxxxxxxxxxx ", 20) +
		"provision.host=web01 provision.zone=internal provision.server=SERVER")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Script(h, "http://127.0.0.1:8080", centosFiles); err != nil {
			b.Fatal(err)
		}
	}
}
