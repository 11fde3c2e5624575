package lab

import (
	"bytes"
	"encoding/binary"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

func TestBootSector(t *testing.T) {
	s := BootSector()
	if len(s) != 512 {
		t.Fatalf("%d bytes, want 512", len(s))
	}
	if s[510] != 0x55 || s[511] != 0xaa {
		t.Errorf("signature % x, want 55 aa", s[510:])
	}
	if len(bootCode) != bootMessageOffset {
		t.Errorf("code is %d bytes, the message starts at %#x", len(bootCode), bootMessageOffset)
	}
	// mov si, imm16 (be lo hi) must point at the message at 0000:7C00+offset.
	if i := bytes.IndexByte(s, 0xbe); i < 0 || binary.LittleEndian.Uint16(s[i+1:]) != 0x7c00+bootMessageOffset {
		t.Errorf("mov si does not address the message at %#x", 0x7c00+bootMessageOffset)
	}
	msg := DiskBootedMarker + "\r\n\x00"
	if got := string(s[bootMessageOffset : bootMessageOffset+len(msg)]); got != msg {
		t.Errorf("message %q, want %q", got, msg)
	}
	if !bytes.Equal(s[bootMessageOffset+len(msg):510], make([]byte, 510-bootMessageOffset-len(msg))) {
		t.Error("bytes after the message (the partition table) are not zero")
	}
	if !bytes.Contains(bootCode, []byte{0xb0, diskBootedValue, 0xe6, debugExitPort}) {
		t.Error("no mov al, 0x10; out 0xf4, al")
	}
	if DiskBootedExit != 33 {
		t.Errorf("DiskBootedExit = %d, want 33", DiskBootedExit)
	}
}

// TestBootSectorBoots boots a disk holding only BootSector in QEMU (no
// network, no root): SeaBIOS prints the marker and QEMU exits with
// DiskBootedExit.
func TestBootSectorBoots(t *testing.T) {
	qemu := testenv.NeedCommand(t, "qemu-system-x86_64")
	disk, err := testEnv(t).NewDisk(2)
	check(t, err)
	writeAt(t, disk, 0, BootSector())
	args := []string{qemu, "-machine", "pc,accel=" + accel(), "-m", "32",
		"-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-monitor", "none", "-no-reboot",
		"-drive", "if=none,id=d0,format=raw,file=" + disk, "-device", "virtio-blk-pci,drive=d0,bootindex=1",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"}
	p, err := testEnv(t).start("qemu", time.Minute, args...)
	check(t, err)
	vm := &VM{Proc: p}
	if _, err := vm.WaitFor(regexp.MustCompile(`^`+DiskBootedMarker+`$`), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := vm.WaitDiskBooted(time.Minute); err != nil {
		t.Error(err)
	}
}

func writeAt(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
