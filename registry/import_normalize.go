package registry

// normalized is a system's normalizeSystem in a snapshot of zone, done
// by a large import's decode worker, off the check that takes the
// systems one at a time: it reads nothing but the system and the zone.
type normalized struct {
	zone string
	sys  System
	err  error
	used bool // sys is handed out once: the check changes what it holds (BMC...)
}

// normalize is normalizeSystemIn(zone, ...) of every system.
func normalize(zone string, systems []System) []normalized {
	out := make([]normalized, len(systems))
	for i, x := range systems {
		sys, err := normalizeSystemIn(zone, x)
		out[i] = normalized{zone: zone, sys: sys, err: err}
	}
	return out
}

// of is normalizeSystem(in) on s: n's when n was done in s's zone and
// not handed out before (a change checked again), else done now.
func (n *normalized) of(s *Snapshot, in System) (System, error) {
	if n == nil || n.used || n.zone != s.Zone {
		return s.normalizeSystem(in)
	}
	n.used = true
	return n.sys, n.err
}
