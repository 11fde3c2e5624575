package lab

import "testing"

// lldpcli -f keyvalue show interfaces, as lldpd 1.0.16 prints it for two
// taps: tA configured (port id local), tB not yet.
const lldpListing = `lldp.tB.status=RX and TX
lldp.tB.chassis.name=sw
lldp.tB.port.mac=06:4e:4e:19:1e:0d
lldp.tB.port.descr=tB
lldp.tB.ttl.ttl=4
lldp.tA.status=RX and TX
lldp.tA.chassis.name=sw
lldp.tA.port.local=Ethernet1/7
lldp.tA.port.descr=rack a12
lldp.tA.ttl.ttl=4
lldp.tA7.port.local=Ethernet1/8
`

func TestAnnounces(t *testing.T) {
	for _, tc := range []struct {
		tap, port       string
		known, announce bool
	}{
		{"tA", "Ethernet1/7", true, true},
		{"tA", "Ethernet1/8", true, false}, // tA7's port is not tA's
		{"tA", "Ethernet1/70", true, false},
		{"tB", "Ethernet1/7", true, false},
		{"tC", "Ethernet1/7", false, false},
	} {
		known, announced := announces(lldpListing, tc.tap, tc.port)
		if known != tc.known || announced != tc.announce {
			t.Errorf("announces(%s, %s) = %v, %v; want %v, %v", tc.tap, tc.port, known, announced, tc.known, tc.announce)
		}
	}
}
