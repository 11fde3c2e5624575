package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	old := sample()
	moved := sample()
	moved.NICs = append([]NIC(nil), moved.NICs...)
	moved.NICs[0].LLDP = &LLDP{SwitchName: "tor-a12", PortID: "Ethernet1/9"}
	added := sample()
	added.Disks = append(append([]Disk(nil), added.Disks...), Disk{Name: "vdc", Serial: "S3", SizeBytes: 2 << 30})
	removed := sample()
	removed.Disks = removed.Disks[:1]
	other := sample()
	other.NICs = append([]NIC(nil), other.NICs...)
	other.NICs[0].LLDP = &LLDP{SwitchName: "tor-b01", PortID: "Ethernet1/7"}
	other.MemoryMiB = 4096
	for _, tc := range []struct {
		name string
		new  Inventory
		want []string
	}{
		{"same", sample(), nil},
		{"disk added", added, []string{"disk vdc added: serial S3, 2 GiB"}},
		{"disk removed", removed, []string{"disk vdb removed: serial D2, 2 GiB"}},
		{"lldp port moved", moved, []string{"nic 52:54:00:12:34:56 lldp port Ethernet1/7 -> Ethernet1/9"}},
		{"switch moved", other, []string{"memory 0 MiB -> 4096 MiB", "nic 52:54:00:12:34:56 lldp port tor-a12 Ethernet1/7 -> tor-b01 Ethernet1/7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Diff(old, tc.new)); diff != "" {
				t.Error(diff)
			}
		})
	}
}
