package images

import (
	"bytes"
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

// checkGolden compares got with testdata/name, or writes it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got)
}

// fakeHosts is a hand-written Hosts over plain maps.
type fakeHosts struct {
	byIP   map[netip.Addr]Host
	byMAC  map[string]Host
	images map[string]map[string]string
}

func (f *fakeHosts) HostByIP(ip netip.Addr) (Host, bool) { h, ok := f.byIP[ip]; return h, ok }
func (f *fakeHosts) HostByMAC(mac net.HardwareAddr, _ netip.Addr) (Host, bool) {
	h, ok := f.byMAC[mac.String()]
	return h, ok
}
func (f *fakeHosts) ImageFiles(image string) (map[string]string, bool) {
	m, ok := f.images[image]
	return m, ok
}

func (f *fakeHosts) add(ip string, h Host) {
	f.byIP[netip.MustParseAddr(ip)] = h
	f.byMAC[h.MAC.String()] = h
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// fixture is a store holding one image, and two systems that boot it.
type fixture struct {
	store   *Store
	hosts   *fakeHosts
	content map[string][]byte // role -> bytes
	digest  map[string]string // role -> sha256
}

// Systems of the fixture.
var (
	web01 = Host{Name: "web01", Profile: "web", Image: "centos9", MAC: mustMAC("52:54:00:aa:bb:01"), Netboot: true,
		Cmdline: fakeCmdline("console=ttyS0,115200n8 inst.ks=http://10.0.0.1/ks/web01 provision.host=web01 provision.zone=internal provision.server=SERVER")}
	db01 = Host{Name: "db01", Profile: "db", Image: "centos9", MAC: mustMAC("52:54:00:aa:bb:02"), Netboot: false,
		Cmdline: fakeCmdline("quiet provision.host=db01 provision.zone=internal provision.server=SERVER")}
)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	s, err := NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: s, content: map[string][]byte{}, digest: map[string]string{},
		hosts: &fakeHosts{byIP: map[netip.Addr]Host{}, byMAC: map[string]Host{}, images: map[string]map[string]string{}}}
	for i, role := range []string{KindKernel, KindInitrd, KindRootfs} {
		f.content[role] = randomBytes(uint64(i), 100_000+i*7919)
		d, _, err := s.Put(bytes.NewReader(f.content[role]), "")
		if err != nil {
			t.Fatal(err)
		}
		f.digest[role] = d
	}
	f.hosts.images["centos9"] = f.digest
	f.hosts.add("10.0.0.11", web01)
	f.hosts.add("10.0.0.12", db01)
	return f
}

func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	key[0] = byte(seed)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

// eventLog collects events; safe for concurrent use.
type eventLog struct {
	mu  sync.Mutex
	evs []BootEvent
}

func (l *eventLog) report(e BootEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
}

func (l *eventLog) take() []BootEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.evs
	l.evs = nil
	return evs
}

// addImage stores data and makes it file kind of the fixture's image
// name (an image of that one file); it returns the digest.
func (f *fixture) addImage(t testing.TB, name, kind string, data []byte) string {
	t.Helper()
	d, _, err := f.store.Put(bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	f.hosts.images[name] = map[string]string{kind: d}
	return d
}
