package registry

import "strings"

// The registry decides what DNS can serve: a write that would give a name
// of the zone two owners is refused here, naming the other owner, rather
// than left out of the zone later (dnsconf's Problems).

// nsLabel is the appliance's name server, ns.ZONE (its NS record).
const nsLabel = "ns"

// zoneNames are the names of the zone a system's A records take, lower
// case without the final dot: NAME.ZONE, and its hostname when that lies in
// the zone.
func (s *Snapshot) zoneNames(sys *System) []string {
	zone := strings.ToLower(s.Zone)
	names := []string{strings.ToLower(sys.Name) + "." + zone}
	if h := sys.Hostname; h != names[0] && strings.HasSuffix(h, "."+zone) {
		names = append(names, h)
	}
	return names
}

// checkSystemNames refuses a system whose zone names are another's, the
// name server's, or a static record's.
func (s *Snapshot) checkSystemNames(prev string, sys *System) error {
	zone := strings.ToLower(s.Zone)
	for _, n := range s.zoneNames(sys) {
		if n == nsLabel+"."+zone {
			return conflictf("system %s: %s is the appliance's name server (its NS record)", sys.Name, n)
		}
		// NAME.ZONE of another system, taken as this one's hostname.
		if label, ok := strings.CutSuffix(n, "."+zone); ok && !strings.Contains(label, ".") {
			if o := s.systems.At(label); o != nil && o.Name != prev && o.Name != sys.Name {
				return conflictf("system %s: %s is the name of system %s", sys.Name, n, o.Name)
			}
		}
		// Another system's hostname, taken as this one's NAME.ZONE.
		if o := s.byHostname.At(n); o != nil && o.Name != prev && o.Name != sys.Name {
			return conflictf("system %s: %s is the hostname of system %s", sys.Name, n, o.Name)
		}
		if rr := s.recordAt(n); rr != "" {
			return conflictf("system %s: %s is the name of the static record %q (provision zone records)", sys.Name, n, rr)
		}
	}
	return nil
}

// recordAt returns the first (in text order) static record whose owner is
// name (lower case, no final dot), or "".
func (s *Snapshot) recordAt(name string) string {
	first := ""
	for text, owner := range s.records {
		if owner == name && (first == "" || text < first) {
			first = text
		}
	}
	return first
}
