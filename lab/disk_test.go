package lab

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"
)

func TestNewDiskIsSparse(t *testing.T) {
	disk, err := testEnv(t).NewDisk(64)
	check(t, err)
	fi, err := os.Stat(disk)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 64<<20 {
		t.Errorf("size %d, want %d", fi.Size(), 64<<20)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > 1<<20 {
		t.Errorf("%d bytes allocated: not sparse", st.Blocks*512)
	}
	if got, err := ReadDisk(disk, 64<<20-4, 4); err != nil || !bytes.Equal(got, make([]byte, 4)) {
		t.Errorf("end of a new disk = % x, %v", got, err)
	}
}

func TestReadInstalled(t *testing.T) {
	disk, err := testEnv(t).NewDisk(4)
	check(t, err)
	if _, _, err := ReadInstalled(disk); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("blank disk: err = %v, want ErrNotInstalled", err)
	}
	// What the installer's dd commands write.
	tmpl := []byte("#!ipxe\nkickstart for web01\n")
	label := make([]byte, 512)
	copy(label, DiskMarker+" host=web01 bytes=27\n")
	writeAt(t, disk, 0, BootSector())
	writeAt(t, disk, DiskLabelOffset, label)
	writeAt(t, disk, DiskTemplateOffset, append(tmpl, "leftover of a longer earlier install"...))
	host, got, err := ReadInstalled(disk)
	if err != nil || host != "web01" || !bytes.Equal(got, tmpl) {
		t.Errorf("ReadInstalled = %q, %q, %v; want web01, %q", host, got, err, tmpl)
	}
	if got, err := ReadDisk(disk, 510, 2); err != nil || !bytes.Equal(got, []byte{0x55, 0xaa}) {
		t.Errorf("boot signature % x, %v", got, err)
	}
}
