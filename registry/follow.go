package registry

import (
	"context"
	"time"
)

// reloadTimeout bounds a load of the whole registry by Follow.
const reloadTimeout = 10 * time.Second

// Notifier is a Store that tells of commits, its own and those of other
// appliances sharing its database: Commits sends the serial of each (or
// only the latest of several, when the reader is slow), and, after each
// (re)connection, the database's current serial, so that a commit made
// while it was not listening is not missed. The channel closes when ctx
// ends. SQLStore on PostgreSQL is one (LISTEN/NOTIFY).
type Notifier interface {
	Commits(ctx context.Context) <-chan uint64
}

// Follow keeps the Snapshot in step with what other appliances commit to
// the same database, until ctx ends: when the database's serial passes
// the Snapshot's, the registry is loaded again and the new Snapshot
// published to OnChange's subscribers (with no delta: they rebuild). It
// returns at once for a Store that is no Notifier (SQLite: one appliance
// per file). A load that fails (the database is down) is tried again at
// the next notification or retry; the last Snapshot serves meanwhile.
func (r *Registry) Follow(ctx context.Context) {
	n, ok := r.store.(Notifier)
	if !ok {
		return
	}
	commits := n.Commits(ctx)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	want, gap := uint64(0), false
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-commits:
			if !ok {
				return
			}
			want = max(want, s)
		case <-r.stale:
			gap = true // a commit of ours skipped a serial: someone else's is missing
		case <-retry.C:
		}
		if !gap && want <= r.Snapshot().Serial {
			continue
		}
		if !gap && r.catchUp(ctx) == nil {
			continue // only what changed was read
		}
		if err := r.reload(ctx, gap); err != nil {
			retry.Reset(time.Second)
			continue
		}
		gap = false
	}
}

// reload loads the whole registry again and publishes it if it is newer
// than the current Snapshot, or, with force, even at the same serial (the
// current one lacks another appliance's commit). It holds the writers'
// lock while it loads, so that no commit of ours falls between the load
// and the publication.
func (r *Registry) reload(ctx context.Context, force bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout) // writers wait meanwhile
	defer cancel()
	d, err := r.store.Load(ctx)
	if err != nil {
		return err
	}
	cur := r.cur.Load()
	if d.Serial < cur.Serial || d.Serial == cur.Serial && !force {
		return nil
	}
	next, err := build(d, cur.Zone)
	if err != nil {
		return err
	}
	r.cur.Store(next)
	for _, f := range r.subs {
		f(next)
	}
	return nil
}
