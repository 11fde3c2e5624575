package registry

import (
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/provision/provision/internal/cow"
)

// TestIndexAllIsIndex: the indexes a start-up fills at once (indexAll)
// hold what index puts there one system at a time, for every index of
// systems the Snapshot has.
func TestIndexAllIsIndex(t *testing.T) {
	systems := []System{
		{ID: "1", Name: "a", Hostname: "a.dsas", MACs: []string{"02:00:00:00:00:01", "02:00:00:00:00:02"}, IP: "10.0.0.1",
			BMC: &BMC{Address: "10.0.1.1"}, BuildToken: "build-a",
			Interfaces: []Interface{{Name: "eth0", MAC: "02:00:00:00:00:01", Primary: true}, {Name: "eth1", MAC: "02:00:00:00:00:02", IP: "10.0.2.1"}}},
		{ID: "2", Name: "b", Hostname: "b.dsas", MACs: []string{"02:00:00:00:00:03"}, IP: "10.0.0.2", InspectToken: "inspect-b"},
		{ID: "3", Name: "c", Hostname: "c.dsas", MACs: []string{"02:00:00:00:00:04"}, IP: "10.0.0.3"},
	}
	one, all := newSnapshot("dsas"), newSnapshot("dsas")
	for i := range systems {
		one.index(&systems[i])
	}
	all.sizeFor(len(systems))
	all.indexAll(systems)
	compared := 0
	check := func(name string, equal bool, n int) {
		compared++
		if !equal || n == 0 {
			t.Errorf("%s: indexAll's differs from index's, or is empty (%d entries)", name, n)
		}
	}
	check("systems", sameIndex(one.systems, all.systems), all.systems.Len())
	check("byID", sameIndex(one.byID, all.byID), all.byID.Len())
	check("byHostname", sameIndex(one.byHostname, all.byHostname), all.byHostname.Len())
	check("byMAC", sameIndex(one.byMAC, all.byMAC), all.byMAC.Len())
	check("byIP", sameIndex(one.byIP, all.byIP), all.byIP.Len())
	check("byBMC", sameIndex(one.byBMC, all.byBMC), all.byBMC.Len())
	check("byExtra", sameIndex(one.byExtra, all.byExtra), all.byExtra.Len())
	check("byToken", sameIndex(one.byToken, all.byToken), all.byToken.Len())
	check("byInspect", sameIndex(one.byInspect, all.byInspect), all.byInspect.Len())
	indexes := 0
	snap := reflect.TypeFor[Snapshot]()
	for i := range snap.NumField() {
		if strings.HasPrefix(snap.Field(i).Type.String(), "*cow.Map[") {
			indexes++
		}
	}
	if indexes != compared {
		t.Errorf("the Snapshot has %d indexes of systems, the test compares %d: a new one must be filled by indexAll too, and compared here", indexes, compared)
	}
}

func sameIndex[K comparable](a, b *cow.Map[K, *System]) bool {
	return a.Len() == b.Len() && maps.Equal(maps.Collect(a.All()), maps.Collect(b.All()))
}
