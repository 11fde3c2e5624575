package tftp

import (
	"errors"
	"io/fs"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCleanName(t *testing.T) {
	tests := []struct {
		name    string
		want    string
		wantErr error
	}{
		{"undionly.kpxe", "undionly.kpxe", nil},
		{"/grub/grub.cfg", "grub/grub.cfg", nil},
		{"//boot//grub/./x86_64-efi/normal.mod", "boot/grub/x86_64-efi/normal.mod", nil},
		{`boot\x64\wdsnbp.com`, "boot/x64/wdsnbp.com", nil},
		{"/etc/passwd", "etc/passwd", nil},
		{"../etc/passwd", "", fs.ErrPermission},
		{"a/../../etc/passwd", "", fs.ErrPermission},
		{"a/..", "", fs.ErrPermission},
		{`..\..\etc\passwd`, "", fs.ErrPermission},
		{"/..", "", fs.ErrPermission},
		{"ok\x00../etc/passwd", "", fs.ErrPermission},
		{"", "", fs.ErrNotExist},
		{"/", "", fs.ErrNotExist},
		{"./", "", fs.ErrNotExist},
		{"...", "...", nil},
		{"..foo", "..foo", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cleanName(tt.name)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("cleanName(%q) error = %v, want %v", tt.name, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("cleanName(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	s, err := New(Config{Root: t.TempDir(), Hosts: testHosts})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		File      string // static file
		Generated string // golden file of generated content
		MAC       string
		Err       string // "", "not exist" or "permission"
	}
	tests := []struct {
		name string
		want result
	}{
		{"undionly.kpxe", result{File: "undionly.kpxe"}},
		{"/ipxe.efi", result{File: "ipxe.efi"}},
		{"pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", result{Generated: "pxelinux-web01.cfg", MAC: "aa:bb:cc:dd:ee:ff"}},
		{"/pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", result{Generated: "pxelinux-web01.cfg", MAC: "aa:bb:cc:dd:ee:ff"}},
		// Only canonical names make configs: any other directory, an
		// escape sequence, an upper-case MAC is a plain (missing) file.
		{"bios/pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", result{File: "bios/pxelinux.cfg/01-aa-bb-cc-dd-ee-ff"}},
		{"\x1b[2J\x1b[H/pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", result{File: "\x1b[2J\x1b[H/pxelinux.cfg/01-aa-bb-cc-dd-ee-ff"}},
		{"//pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", result{File: "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff"}},
		{"pxelinux.cfg/01-AA-BB-CC-DD-EE-FF", result{Err: "not exist"}},
		{"bios/pxelinux.cfg/default", result{File: "bios/pxelinux.cfg/default"}},
		{"/boot/grub/grub.cfg", result{File: "boot/grub/grub.cfg"}},
		{"/boot/grub/grub.cfg-01-aa-bb-cc-dd-ee-01", result{File: "boot/grub/grub.cfg-01-aa-bb-cc-dd-ee-01"}},
		{"/grub/grub.cfg-01-aa-bb-cc-dd-ee-ff\x1b]0;x\x07", result{Err: "not exist"}},
		{"pxelinux.cfg/01-aa-bb-cc-dd-ee-01", result{Generated: "pxelinux-db01.cfg", MAC: "aa:bb:cc:dd:ee:01"}},
		{"pxelinux.cfg/01-00-00-00-00-00-01", result{Err: "not exist"}},
		{"pxelinux.cfg/01-aa:bb:cc:dd:ee:ff", result{Err: "not exist"}},
		{"pxelinux.cfg/01-aabb.ccdd.eeff", result{Err: "not exist"}},
		{"pxelinux.cfg/01-aa-bb-cc-dd-ee-ff-00-11", result{Err: "not exist"}},
		{"pxelinux.cfg/default", result{Generated: "pxelinux-default.cfg"}},
		{"pxelinux.cfg/C0A80105", result{File: "pxelinux.cfg/C0A80105"}},
		{"/grub/grub.cfg-01-aa-bb-cc-dd-ee-ff", result{Generated: "grub-web01.cfg", MAC: "aa:bb:cc:dd:ee:ff"}},
		{"grub.cfg-01-aa-bb-cc-dd-ee-02", result{Generated: "grub-web02.cfg", MAC: "aa:bb:cc:dd:ee:02"}},
		{"/grub.cfg-01-aa-bb-cc-dd-ee-01", result{Generated: "grub-db01.cfg", MAC: "aa:bb:cc:dd:ee:01"}},
		{"grub/grub.cfg", result{Generated: "grub-fallback.cfg"}},
		{"/grub/grub.cfg-01-00-00-00-00-00-01", result{Err: "not exist"}},
		{"/grub/grub.cfg", result{Generated: "grub-fallback.cfg"}},
		{"/grub/grub.cfg-C0A80105", result{File: "grub/grub.cfg-C0A80105"}},
		{"../etc/passwd", result{Err: "permission"}},
		{"pxelinux.cfg/../../etc/passwd", result{Err: "permission"}},
		{"a\x00b", result{Err: "permission"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.resolve(tt.name, netip.Addr{})
			got := result{File: c.file, Err: errClass(err)}
			if c.mac != nil {
				got.MAC = c.mac.String()
			}
			if tt.want.Generated != "" {
				checkGolden(t, tt.want.Generated, c.data)
				got.Generated = tt.want.Generated
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("resolve(%q) mismatch (-want +got):\n%s\nerror: %v", tt.name, diff, err)
			}
		})
	}
}

// errClass names the class of a resolve or open error.
func errClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, fs.ErrNotExist):
		return "not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission"
	default:
		return "other: " + err.Error()
	}
}
