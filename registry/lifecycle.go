package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultInstallTimeout is a build's deadline when its profile sets none.
const DefaultInstallTimeout = 60 * time.Minute

// Causes of a state change, written in its history record.
const (
	CauseOperator = "operator" // provision system reinstall, or an edit
	CauseCallback = "callback" // the installer: template fetched, done, failed
	CauseDeadline = "deadline" // the build's deadline passed
	CauseProfile  = "profile"  // the profile gained or lost its template
)

// transitions is the one table of allowed state changes: from -> to.
var transitions = map[string][]string{
	StatePending:    {StatePending, StateInstalling, StateInstalled, StateFailed, StateDiskless},
	StateInstalling: {StatePending, StateInstalled, StateFailed, StateDiskless},
	StateInstalled:  {StatePending, StateDiskless},
	StateFailed:     {StatePending, StateDiskless},
	StateDiskless:   {StatePending},
}

// Building reports whether sys has a build under way (pending or installing).
func (sys *System) Building() bool {
	return sys.Status == StatePending || sys.Status == StateInstalling
}

// transition returns a copy of sys moved to state to, or an error when the
// table does not allow it. Entering pending starts a new build (see
// enter); leaving a build revokes its token; installed turns netboot off.
func (s *Snapshot) transition(sys *System, to string, now time.Time) (*System, error) {
	if !slices.Contains(transitions[sys.Status], to) {
		return nil, invalidf("system %s: cannot go from %s to %s", sys.Name, sys.Status, to)
	}
	next := sys.Clone()
	if to == StateInstalling {
		next.Status, next.StatusSince = to, stamp(now) // the build goes on
	} else {
		s.enter(&next, to, now)
	}
	if to == StateInstalled {
		next.Netboot = false
	}
	return &next, nil
}

func (s *Snapshot) installTimeout(profile string) time.Duration {
	if p := s.profiles[profile]; p != nil && p.InstallTimeout != "" {
		if d, err := time.ParseDuration(p.InstallTimeout); err == nil {
			return d
		}
	}
	return DefaultInstallTimeout
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// newToken returns 128 random bits in hex: a build token.
func newToken() Secret {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return Secret(hex.EncodeToString(b))
}

// initialState is the state of a system added with profile p: pending
// when p installs from a template, else diskless.
func initialState(p *Profile) string {
	if p != nil && p.Kickstart != "" {
		return StatePending
	}
	return StateDiskless
}

// BuildByToken finds the system whose current build token is token, when
// that build is still under way at now (a token past its deadline is
// unknown even before the deadline loop revokes it).
func (s *Snapshot) BuildByToken(token string, now time.Time) (*System, bool) {
	sys, ok := s.byToken.Get(Secret(token))
	if !ok || token == "" || !sys.Building() || deadlinePassed(sys, now) {
		return nil, false
	}
	return sys, true
}

func deadlinePassed(sys *System, now time.Time) bool {
	d, err := time.Parse(time.RFC3339, sys.Deadline)
	return err == nil && !now.Before(d)
}

// building lists the systems with a build under way, by name: those
// with a build token (the fleet's installed systems are not looked at).
func (s *Snapshot) building() []*System {
	var out []*System
	for sys := range s.byToken.Values() {
		if sys.Building() {
			out = append(out, sys)
		}
	}
	slices.SortFunc(out, func(a, b *System) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// NextDeadline returns the earliest deadline of the builds under way.
func (s *Snapshot) NextDeadline() (time.Time, bool) {
	var best time.Time
	for sys := range s.byToken.Values() {
		if d, err := time.Parse(time.RFC3339, sys.Deadline); err == nil && (best.IsZero() || d.Before(best)) {
			best = d
		}
	}
	return best, !best.IsZero()
}

// stateOp is the Op of a state change, with its cause in the history.
func stateOp(old, next *System, cause, note string) Op {
	o := op(ObjSystem, old.Name, old, next, next.Name, "state")
	o.Audit.Note = fmt.Sprintf("%s -> %s (%s)", old.Status, next.Status, cause)
	if note != "" {
		o.Audit.Note += ": " + note
	}
	return o
}

// Reinstall starts a new build of a system: state pending with a fresh
// token and deadline, netboot on. Its profile must have a template.
func (r *Registry) Reinstall(ctx context.Context, name string) (*System, error) {
	return r.changeState(ctx, func(n *Snapshot, now time.Time) (*System, string, error) {
		sys, ok := n.systems.Get(name)
		if !ok {
			return nil, "", notFound(ObjSystem, name)
		}
		if p := n.profiles[sys.Profile]; p == nil || p.Kickstart == "" {
			return nil, "", invalidf("system %s: profile %s has no install template (profile edit %s --kickstart NAME)", name, sys.Profile, sys.Profile)
		}
		if err := n.checkRender(sys); err != nil {
			return nil, "", err
		}
		return sys, CauseOperator, nil
	}, StatePending, "")
}

// AbortBuild ends the build under way of a system as failed (cause
// operator): its token is revoked and the next boot boots the local disk.
func (r *Registry) AbortBuild(ctx context.Context, name string) (*System, error) {
	return r.changeState(ctx, func(n *Snapshot, now time.Time) (*System, string, error) {
		sys, ok := n.systems.Get(name)
		if !ok {
			return nil, "", notFound(ObjSystem, name)
		}
		if !sys.Building() {
			return nil, "", invalidf("system %s is %s: it has no build to abort", name, sys.Status)
		}
		return sys, CauseOperator, nil
	}, StateFailed, "aborted")
}

// BuildStarted records that the installer of the build token fetched its
// template: pending becomes installing (installing stays).
func (r *Registry) BuildStarted(ctx context.Context, token, note string) (*System, error) {
	return r.buildCallback(ctx, token, StateInstalling, note, nil)
}

// BuildDone ends the build of token: installed, netboot off, token revoked.
func (r *Registry) BuildDone(ctx context.Context, token, note string) (*System, error) {
	return r.buildCallback(ctx, token, StateInstalled, note, nil)
}

// BuildFailed ends the build of token as failed and keeps the installer's
// log (log.System is filled in).
func (r *Registry) BuildFailed(ctx context.Context, token, note string, log *InstallLog) (*System, error) {
	return r.buildCallback(ctx, token, StateFailed, note, log)
}

func (r *Registry) buildCallback(ctx context.Context, token, to, note string, log *InstallLog) (*System, error) {
	var sys *System
	out, err := r.changeStateLog(ctx, func(n *Snapshot, now time.Time) (*System, string, error) {
		s, ok := n.BuildByToken(token, now)
		if !ok {
			return nil, "", &Error{ErrNotFound, "no build has this token (unknown, used or expired)"}
		}
		sys = s
		return s, CauseCallback, nil
	}, to, note, log)
	if err == nil && out == nil {
		out = sys // already in that state: nothing to commit
	}
	return out, err
}

// ExpireBuilds fails every build whose deadline has passed at now and
// returns the names of their systems.
func (r *Registry) ExpireBuilds(ctx context.Context, now time.Time) ([]string, error) {
	var names []string
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		var ops []Op
		names = nil // a change may be validated again (mutate)
		for _, sys := range n.building() {
			if !deadlinePassed(sys, now) {
				continue
			}
			next, err := n.transition(sys, StateFailed, now)
			if err != nil {
				return nil, err
			}
			n.replaceSystem(sys, next)
			ops = append(ops, stateOp(sys, next, CauseDeadline, "deadline "+sys.Deadline+" passed"))
			names = append(names, sys.Name)
		}
		return ops, nil
	})
	return names, err
}

type pick func(n *Snapshot, now time.Time) (sys *System, cause string, err error)

func (r *Registry) changeState(ctx context.Context, p pick, to, note string) (*System, error) {
	return r.changeStateLog(ctx, p, to, note, nil)
}

// changeStateLog moves the system p picks to state to, in one commit with
// the installer log if there is one. It returns nil, nil when the system
// is already in state to and to is not pending (no change to commit).
func (r *Registry) changeStateLog(ctx context.Context, p pick, to, note string, log *InstallLog) (*System, error) {
	var out *System
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		now := r.now()
		sys, cause, err := p(n, now)
		if err != nil {
			return nil, err
		}
		if sys.Status == to && to != StatePending {
			return nil, nil
		}
		next, err := n.transition(sys, to, now)
		if err != nil {
			return nil, err
		}
		n.replaceSystem(sys, next)
		o := stateOp(sys, next, cause, note)
		if log != nil {
			l := *log
			l.System, l.At = sys.Name, stamp(now)
			o.Log = &l
		}
		out = next
		return []Op{o}, nil
	})
	return out, err
}

// replaceSystem swaps old for next in the indexes (same name, MACs, IPs).
func (s *Snapshot) replaceSystem(old, next *System) {
	s.unindex(old)
	s.index(next)
}

// RunDeadlines fails each build whose deadline passes, until ctx ends: one
// loop, woken by the earliest deadline and by every change. report is
// told which systems' builds it failed, or why it could not.
func (r *Registry) RunDeadlines(ctx context.Context, report func(names []string, err error)) error {
	wake := make(chan struct{}, 1)
	r.OnChange(func(*Snapshot) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	for {
		now := r.now()
		if names, err := r.ExpireBuilds(ctx, now); err != nil || len(names) > 0 {
			report(names, err)
		}
		wait := time.Minute
		if d, ok := r.Snapshot().NextDeadline(); ok {
			wait = min(wait, max(d.Sub(now), 0)+10*time.Millisecond)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}
