package dnsconf

import (
	"context"
	"sync/atomic"
)

// state is the zone being served and the latest change not yet applied.
type state struct {
	cur     atomic.Pointer[current]
	pending atomic.Pointer[change]
	wake    chan struct{} // one token: a change is pending
}

// current is a served zone; swapped is closed when it is replaced.
type current struct {
	zone    *Zone
	swapped chan struct{}
}

// change is a registry version announced by Changed.
type change struct {
	src    Source
	serial uint64
}

func (st *state) init() {
	st.cur.Store(&current{swapped: make(chan struct{})})
	st.wake = make(chan struct{}, 1)
}

// Zone returns the zone being served, nil before the first.
func (s *Server) Zone() *Zone { return s.state.cur.Load().zone }

// SetZone serves z from now on. Queries in flight finish with the zone
// they started with.
func (s *Server) SetZone(z *Zone) {
	old := s.state.cur.Swap(&current{zone: z, swapped: make(chan struct{})})
	close(old.swapped)
	s.stats.swaps.Add(1)
	if d := s.disk.Load(); d != nil && d.etag != z.ETag() {
		s.disk.Store(nil) // its version is gone (the file closes with the last reader)
	}
	if s.persist != nil {
		s.persist.offer(z)
	}
}

// Update builds the zone of src at serial with the Server's Options and
// serves it. It returns the zone, whose Problems say what was left out.
// When src says what changed since the zone being served (a
// registry.Snapshot does), the zone is changed rather than built again.
func (s *Server) Update(src Source, serial uint64) (*Zone, error) {
	opts := s.cfg.Zone
	opts.Serial = serial
	if cur := s.Zone(); cur != nil && cur.serial < serial {
		if z, ok := cur.update(src, opts); ok {
			s.SetZone(z)
			go z.dataCDB() // in the background: data.cdb ready before boot scripts ask for it
			return z, nil
		}
	}
	z, err := BuildZone(src, opts)
	if err != nil {
		return nil, err
	}
	if s.Zone() == nil && s.cfg.CDBDir != "" { // the first: is its data.cdb on disk?
		d, err := openDiskCDB(s.cfg.CDBDir, z)
		if err != nil {
			s.log.Warn("dns: the data.cdb kept on disk is not used", "dir", s.cfg.CDBDir, "err", err)
		}
		if d != nil {
			s.log.Info("dns: data.cdb of this version kept on disk: served until the zone's own is put together", "file", d.f.Name(), "serial", z.Serial())
			s.disk.Store(d)
		}
	}
	s.SetZone(z)
	go z.dataCDB() // in the background: data.cdb ready before boot scripts ask for it
	return z, nil
}

// Changed announces a new registry version and returns at once: Run
// builds its zone in the background, and when changes come faster than
// zones are built, only the latest is built. It is meant for
// registry.Registry.OnChange, whose callbacks must be quick:
//
//	reg.OnChange(func(snap *registry.Snapshot) { srv.Changed(snap, snap.Serial) })
//
// src must not change afterwards (a Snapshot never does).
func (s *Server) Changed(src Source, serial uint64) {
	s.state.pending.Store(&change{src, serial})
	select {
	case s.state.wake <- struct{}{}:
	default: // a wake-up is already pending; it will see this change
	}
}

// WaitSerial waits until the zone served was built from serial or a later
// one, or ctx ends.
func (s *Server) WaitSerial(ctx context.Context, serial uint64) error {
	for {
		c := s.state.cur.Load()
		if c.zone != nil && c.zone.Serial() >= serial {
			return nil
		}
		select {
		case <-c.swapped:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run applies the changes announced by Changed until ctx ends, and then
// returns nil. It runs whether or not the Server answers queries (Serve):
// data.cdb and the checks of static records follow the zone it builds.
func (s *Server) Run(ctx context.Context) error {
	if s.persist != nil {
		done := make(chan struct{})
		go func() { s.persist.run(ctx); close(done) }()
		defer func() { <-done }() // the latest version written
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.state.wake:
		}
		c := s.state.pending.Swap(nil)
		if c == nil {
			continue
		}
		if z := s.Zone(); z != nil && z.Serial() > c.serial {
			continue // Update already served a later version
		}
		prev := s.Zone()
		z, err := s.Update(c.src, c.serial)
		if err != nil {
			s.log.Error("dns: zone not rebuilt", "serial", c.serial, "err", err)
			continue
		}
		s.logZone(prev, z)
	}
}

// logZone logs a new zone, and the first problems when their number
// changed.
func (s *Server) logZone(prev, z *Zone) {
	n := z.ProblemCount()
	s.log.Info("dns: zone rebuilt", "serial", z.Serial(), "records", z.Len(), "problems", n)
	if n == 0 || (prev != nil && prev.ProblemCount() == n) {
		return
	}
	p := z.Problems()
	for _, err := range p[:min(len(p), 5)] {
		s.log.Warn("dns: left out of the zone", "serial", z.Serial(), "err", err)
	}
}
