package collect

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/inventory"
)

// fakeRoot builds a sysfs as a boot environment without udev shows it:
// an UEFI machine with a virtio disk (its serial in /sys/block/vda/serial),
// a SCSI disk (its serial only in the VPD page 0x80), a CD-ROM, a loop
// device, one virtio NIC and the loopback interface.
func fakeRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"sys/firmware/efi/runtime":                      "",
		"sys/class/dmi/id/sys_vendor":                   "QEMU\n",
		"sys/class/dmi/id/product_name":                 "Standard PC (Q35 + ICH9, 2009)\n",
		"sys/class/dmi/id/product_serial":               "SER\x1b[1m-0001\n",
		"sys/class/dmi/id/product_uuid":                 "0A1B2C3D-0000-0000-0000-000000000001\n",
		"sys/class/dmi/id/bios_version":                 "1.16.2\n",
		"sys/block/vda/size":                            "4194304\n",
		"sys/block/vda/queue/rotational":                "1\n",
		"sys/block/vda/removable":                       "0\n",
		"sys/block/vda/serial":                          "S3\n",
		"sys/block/vda/dev":                             "253:0\n",
		"sys/block/sda/size":                            "2097152\n",
		"sys/block/sda/queue/rotational":                "0\n",
		"sys/block/sda/removable":                       "0\n",
		"sys/block/sda/dev":                             "8:0\n",
		"sys/block/sda/device/model":                    "QEMU HARDDISK   \n",
		"sys/block/sda/device/wwid":                     "naa.5000c50015ea71ac\n",
		"sys/block/sda/device/vpd_pg80":                 "\x00\x80\x00\x08SCSI-007",
		"sys/block/sr0/size":                            "2097152\n",
		"sys/block/loop0/size":                          "0\n",
		"sys/devices/pci0000:00/0000:00:03.0/class":     "0x020000\n",
		"sys/devices/pci0000:00/0000:00:03.0/vendor":    "0x1af4\n",
		"sys/devices/pci0000:00/0000:00:03.0/device":    "0x1000\n",
		"sys/devices/pci0000:00/0000:00:03.0/virtio0/x": "",
		"sys/class/net/eth0/address":                    "52:54:00:AB:CD:01\n",
		"sys/class/net/eth0/carrier":                    "1\n",
		"sys/class/net/eth0/speed":                      "1000\n",
		"sys/class/net/lo/address":                      "00:00:00:00:00:00\n",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"sys/devices/pci0000:00/0000:00:03.0/driver":         "../../../bus/pci/drivers/virtio-pci",
		"sys/devices/pci0000:00/0000:00:03.0/virtio0/driver": "../../../../bus/virtio/drivers/virtio_net",
		"sys/class/net/eth0/device":                          "../../../devices/pci0000:00/0000:00:03.0/virtio0",
		"sys/bus/pci/devices/0000:00:03.0":                   "../../../devices/pci0000:00/0000:00:03.0",
	}
	for name, target := range links {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestCollectSysfs: what a boot environment's sysfs says, the disks'
// serials without udev, the physical NICs only, each string cleaned.
func TestCollectSysfs(t *testing.T) {
	inv := Collect(context.Background(), Options{Root: fakeRoot(t), MAC: "52:54:00:AB:CD:01", LLDPWait: -1, IPMIDevice: "-", Agent: "test"})
	want := inventory.Inventory{
		MAC:      "52:54:00:ab:cd:01",
		BootMode: inventory.BootUEFI,
		DMI: inventory.DMI{Vendor: "QEMU", Product: "Standard PC (Q35 + ICH9, 2009)", Serial: "SER[1m-0001",
			UUID: "0a1b2c3d-0000-0000-0000-000000000001", BIOSVersion: "1.16.2"},
		Disks: []inventory.Disk{
			{Name: "sda", Path: "/dev/sda", Model: "QEMU HARDDISK", Serial: "SCSI-007", WWN: "naa.5000c50015ea71ac", SizeBytes: 1 << 30},
			{Name: "vda", Path: "/dev/vda", Serial: "S3", SizeBytes: 2 << 30, Rotational: true},
		},
		NICs:  []inventory.NIC{{Name: "eth0", MAC: "52:54:00:ab:cd:01", Driver: "virtio_net", SpeedMbs: 1000, Link: true}},
		PCI:   []inventory.PCI{{Address: "0000:00:03.0", Class: "0x020000", Vendor: "0x1af4", Device: "0x1000", Driver: "virtio-pci"}},
		Agent: "test",
	}
	got := inv
	got.CPU, got.MemoryMiB, got.Errors = inventory.CPU{}, 0, nil // the fake has no /proc
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Collect (-want +got):\n%s", d)
	}
	for _, e := range inv.Errors {
		if strings.Contains(e, "\n") {
			t.Errorf("an error of more than one line: %q", e)
		}
	}
	t.Logf("errors of a root without /proc: %q", inv.Errors)
}

// TestCollectNothing: a root with nothing in it is an inventory that
// says what it could not read, never a failure.
func TestCollectNothing(t *testing.T) {
	inv := Collect(context.Background(), Options{Root: t.TempDir(), LLDPWait: -1, IPMIDevice: "-"})
	if inv.BootMode != inventory.BootBIOS || len(inv.Disks)+len(inv.NICs)+len(inv.PCI) != 0 {
		t.Errorf("an empty root: %+v", inv)
	}
	joined := strings.Join(inv.Errors, "\n")
	for _, want := range []string{"dmi: ", "nics: "} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors %q do not say %q", inv.Errors, want)
		}
	}
}

func TestVPD80(t *testing.T) {
	for _, tc := range []struct {
		page []byte
		want string
	}{
		{[]byte("\x00\x80\x00\x04 AB1"), "AB1"},
		{[]byte("\x00\x80\x00\x20short"), "short"}, // a length past the end
		{[]byte("\x00\x83\x00\x04ABCD"), ""},       // another page
		{[]byte("\x00\x80"), ""},
		{nil, ""},
	} {
		if got := vpd80(tc.page); got != tc.want {
			t.Errorf("vpd80(%q) = %q, want %q", tc.page, got, tc.want)
		}
	}
}
