package registry

import (
	"context"
	"time"
)

// reloadTimeout bounds a read of what other appliances committed (Follow,
// or a commit of ours the database refused as stale).
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
// the Snapshot's, what changed is read (or the whole registry, syncLocked)
// and the new Snapshot published to OnChange's subscribers. It returns at
// once for a Store that is no Notifier (SQLite: one appliance per file; a
// second process writing the same file is caught up with at this one's
// next write, which the database refuses as stale until then). A read that
// fails (the database is down) is tried again at the next notification or
// retry; the last Snapshot serves meanwhile.
func (r *Registry) Follow(ctx context.Context) {
	n, ok := r.store.(Notifier)
	if !ok {
		return
	}
	commits := n.Commits(ctx)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	want := uint64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-commits:
			if !ok {
				return
			}
			want = max(want, s)
		case <-retry.C:
		}
		if want <= r.Snapshot().Serial {
			continue
		}
		if err := r.sync(ctx); err != nil {
			retry.Reset(time.Second)
		}
	}
}

// sync brings the Snapshot up to the database's serial.
func (r *Registry) sync(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.syncLocked(ctx)
}

// syncLocked reads what the commits since the Snapshot's serial changed,
// or, when that cannot be done (catchUpLocked), the whole registry again,
// and publishes it. r.mu is held, so that no commit of ours falls between
// the read and the publication: writers wait meanwhile (reloadTimeout at
// most). A commit of ours is refused by the database when it was
// validated at an older serial than the database's (Store.Commit), so
// the Snapshot never misses a commit of another appliance's.
func (r *Registry) syncLocked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	if r.catchUpLocked(ctx) == nil {
		return nil // only what changed was read
	}
	d, err := r.store.Load(ctx)
	if err != nil {
		return err
	}
	cur := r.cur.Load()
	if d.Serial <= cur.Serial {
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
