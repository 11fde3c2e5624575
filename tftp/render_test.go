package tftp

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

// checkGolden compares got with testdata/name, or writes it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got)
}

func TestRenderRefusesBadHosts(t *testing.T) {
	tests := []struct {
		name string
		host BootConfig
		tmpl string
		want string
	}{
		{"newline in args", BootConfig{Name: "x", Netboot: true, Kernel: "k", Args: "a\nDEFAULT evil"}, pxelinuxTemplate, "control character"},
		{"tab in name", BootConfig{Name: "x\ty"}, grubTemplate, "control character"},
		{"space in kernel", BootConfig{Name: "x", Netboot: true, Kernel: "vmlinuz initrd=evil"}, pxelinuxTemplate, "has a space"},
		{"no kernel", BootConfig{Name: "x", Netboot: true}, grubTemplate, "without a kernel"},
		{"https for grub", BootConfig{Name: "x", Netboot: true, Kernel: "https://h/k"}, grubTemplate, "only http (from the appliance, over TFTP) and tftp"},
		{"refused command line", BootConfig{Name: "x", Netboot: true, Kernel: "k", Args: "quiet",
			Err: errors.New("system x: kernel command line is 2100 bytes, Linux takes 2047")}, pxelinuxTemplate, "host x (aa:bb:cc:dd:ee:ff): system x: kernel command line is 2100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(tt.tmpl, &hostData{BootConfig: tt.host, MAC: "aa:bb:cc:dd:ee:ff"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("render error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGrubPath(t *testing.T) {
	tests := map[string]string{
		"images/vmlinuz":                   "/images/vmlinuz",
		"/images/vmlinuz":                  "/images/vmlinuz",
		"http://10.0.0.1/images/vmlinuz":   "/images/vmlinuz", // over TFTP: signed GRUB has no HTTP
		"http://boot.example:8080/a%20b/k": "/a b/k",
		"tftp://10.0.0.1/k":                "(tftp,10.0.0.1)/k",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			got, err := grubPath(in)
			if err != nil || got != want {
				t.Errorf("grubPath(%q) = %q, %v; want %q", in, got, err, want)
			}
		})
	}
}
