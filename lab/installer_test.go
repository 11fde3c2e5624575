package lab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/provision/provision/bootenv"
	"github.com/provision/provision/internal/testenv"
)

var testInstallerModules = []bootenv.Module{
	{Name: "e1000", Data: []byte("e1000")}, {Name: "virtio_ring", Data: []byte("ring")},
	{Name: "virtio", Data: []byte("virtio")}, {Name: "virtio_pci", Data: []byte("pci")},
	{Name: "virtio_blk", Data: []byte("blk")},
}

func TestInstallerInitramfsGolden(t *testing.T) {
	img, err := buildInstallerInitramfs([]byte("busybox binary"), testInstallerModules)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := buildInstallerInitramfs([]byte("busybox binary"), testInstallerModules)
	if !bytes.Equal(img, again) {
		t.Error("two builds from equal inputs differ")
	}
	golden(t, "installer-initramfs.golden", listCPIO(t, gunzip(t, img)))
	golden(t, "installer-init.golden", fmt.Sprintf(installerScript, "e1000.ko virtio_ring.ko virtio.ko virtio_pci.ko virtio_blk.ko"))
}

func TestInstallerScriptParses(t *testing.T) {
	sh := testenv.NeedCommand(t, "busybox")
	f := filepath.Join(t.TempDir(), "init")
	if err := os.WriteFile(f, []byte(fmt.Sprintf(installerScript, "e1000.ko")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sh, "sh", "-n", f).CombinedOutput(); err != nil {
		t.Errorf("busybox sh -n: %v\n%s", err, out)
	}
}

// TestInstallerMarkers checks that every exported marker is printed by
// the script, and that the label the script writes is what ReadInstalled
// parses.
func TestInstallerMarkers(t *testing.T) {
	scripts := installerScript + udhcpcScript
	for _, m := range []string{BootedMarker, DHCPMarker, InstallerMarker, FetchedMarker, FetchFailedMarker, DiskMarker,
		DoneMarker, FailedReportedMarker, HangingMarker, DoneRefusedMarker, RebootMarker, ShellMarker, ErrorMarker} {
		if !regexp.MustCompile(`"` + m + `[ "]`).MatchString(scripts) {
			t.Errorf("installer never prints %s", m)
		}
	}
	if !strings.Contains(installerScript, `echo "`+DiskMarker+` host=$host bytes=$bytes" |`) {
		t.Error("the disk label is not the format ReadInstalled parses")
	}
	if !strings.Contains(installerScript, `say "`+FailedOnPurpose+`"`) {
		t.Errorf("fail mode does not print %q", FailedOnPurpose)
	}
	if arg, _, _ := strings.Cut(LabShellArg, "="); !strings.Contains(installerScript, arg+"=*)") {
		t.Errorf("the script does not read %s", LabShellArg)
	}
	for _, mode := range []string{ModeOK, ModeFail, ModeHang} {
		if !strings.Contains(installerScript, "\n"+mode+")\n") {
			t.Errorf("no case for mode %s", mode)
		}
	}
	wantSeek := fmt.Sprintf("bs=512 seek=%d", DiskLabelOffset/512)
	wantTmpl := fmt.Sprintf("bs=4096 seek=%d", DiskTemplateOffset/4096)
	for _, s := range []string{wantSeek, wantTmpl} {
		if !strings.Contains(installerScript, s) {
			t.Errorf("script does not write %q", s)
		}
	}
}
