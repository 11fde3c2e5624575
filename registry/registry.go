package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/provision/provision/internal/cow"
	"github.com/provision/provision/kickstart"
)

// Registry validates and commits changes and publishes Snapshots.
type Registry struct {
	store Store
	mu    sync.Mutex // serializes writers: validate, commit, publish
	cur   atomic.Pointer[Snapshot]
	subs  []func(*Snapshot)

	recordPolicy RecordPolicy
	now          func() time.Time
	leases       atomic.Pointer[func() []LiveLease] // SetLiveLeases
	events       atomic.Pointer[func(Event)]        // SetEvents: machines' discovery events
	own          atomic.Pointer[[]netip.Addr]       // ReserveAddresses: the appliance's own
	// renders admits the render checks of changes (mutate), one per CPU
	// and at least two (one slow render leaves room for others): a burst
	// of writers queues for the CPUs instead of each render's time bound
	// running out while all share them.
	renders chan struct{}
}

// Open loads the store into the first Snapshot. zone is the appliance's
// DNS zone, used for default hostnames.
func Open(ctx context.Context, store Store, zone string) (*Registry, error) {
	d, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := build(d, zone)
	if err != nil {
		return nil, err
	}
	r := &Registry{store: store, now: time.Now, renders: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	r.cur.Store(snap)
	return r, nil
}

// build indexes stored data. Stored data passed validation when it was
// written, so an error here means the database was edited by hand.
func build(d *Data, zone string) (*Snapshot, error) {
	s := newSnapshot(zone)
	s.sizeFor(len(d.Systems))
	s.Serial, s.Epoch, s.Instance = d.Serial, d.Epoch, d.Instance
	s.delta = &delta{from: d.Serial, serial: d.Serial}
	s.settings = d.Settings
	if d.Secrets != nil {
		s.secrets = d.Secrets
	}
	for _, sub := range d.Subnets {
		e, err := parseSubnet(sub)
		if err != nil {
			return nil, fmt.Errorf("registry: stored %w", err)
		}
		s.subnets[e.Name] = e
	}
	for i := range d.Images {
		s.images[d.Images[i].Name] = &d.Images[i]
	}
	for i := range d.Profiles {
		s.profiles[d.Profiles[i].Name] = &d.Profiles[i]
	}
	for _, rr := range d.Records {
		owner := ""
		if parsed, err := dns.NewRR(rr); err == nil && parsed != nil {
			owner = recordOwner(parsed)
		}
		s.records[rr] = owner
	}
	user := map[string]*kickstart.Template{}
	for i := range d.Templates {
		user[d.Templates[i].Name] = &d.Templates[i]
	}
	if err := s.setTemplates(user); err != nil {
		return nil, fmt.Errorf("registry: stored %w", err)
	}
	for i := range d.Rules {
		s.rules[d.Rules[i].Name] = &d.Rules[i]
	}
	for i := range d.Hooks {
		s.hooks[d.Hooks[i].Name] = &d.Hooks[i]
	}
	for i := range d.Users {
		s.users[d.Users[i].Name] = &d.Users[i]
	}
	for i := range d.Tokens {
		s.tokens[d.Tokens[i].ID] = &d.Tokens[i]
	}
	for i := range d.Systems {
		if d.Systems[i].ID == "" {
			d.Systems[i].ID = legacySystemID(d.Systems[i].Name)
		}
		migrateState(s, &d.Systems[i])
	}
	s.indexAll(d.Systems)
	return s, nil
}

// indexAll puts systems in the indexes as index does, one system at a
// time, but with the indexes by name filled on another goroutine than
// those by address and token (a cow.Map takes one writer at a time).
func (s *Snapshot) indexAll(systems []System) {
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range systems {
			s.indexNames(&systems[i])
		}
	})
	for i := range systems {
		s.indexAddrs(&systems[i])
	}
	wg.Wait()
}

// sizeFor makes the indexes that have an entry for each system (an empty
// Snapshot's) ready for n systems: at start-up they do not grow on the way.
func (s *Snapshot) sizeFor(n int) {
	s.systems = cow.NewSized[string, *System](n)
	s.byID = cow.NewSized[string, *System](n)
	s.byHostname = cow.NewSized[string, *System](n)
	s.byMAC = cow.NewSized[macKey, *System](n)
	s.byIP = cow.NewSized[netip.Addr, *System](n)
}

// migrateState gives a system stored before the install lifecycle (or
// with a build that lost its token) a state the lifecycle knows: diskless
// without a template, failed for a build without a token, else installed.
func migrateState(s *Snapshot, sys *System) *System {
	p := s.profiles[sys.Profile]
	switch {
	case p == nil || p.Kickstart == "":
		sys.Status = StateDiskless
	case sys.Building() && sys.BuildToken == "":
		sys.Status = StateFailed
	case !slices.Contains(Statuses, sys.Status) || sys.Status == StateDiskless:
		sys.Status = StateInstalled
	}
	return sys
}

// Snapshot returns the current immutable Snapshot. It is safe to call
// from any goroutine and costs one atomic load.
func (r *Registry) Snapshot() *Snapshot { return r.cur.Load() }

// OnChange registers f to be called with every new Snapshot, after it is
// published, from the writer's goroutine: f must be quick (swap a pointer,
// signal a channel). Register before serving.
func (r *Registry) OnChange(f func(*Snapshot)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subs = append(r.subs, f)
}

// History lists the audit records of an object (all when name is "").
func (r *Registry) History(ctx context.Context, name string, limit int) ([]Change, error) {
	return r.store.HistoryBefore(ctx, name, 0, limit)
}

// HistoryBefore is History's earlier pages: the last limit records with
// an id below before (0: the last ones).
func (r *Registry) HistoryBefore(ctx context.Context, name string, before int64, limit int) ([]Change, error) {
	return r.store.HistoryBefore(ctx, name, before, limit)
}

// Note puts in history something done to an object that changed nothing
// in the registry: op "power" on a system, with the action and who asked
// in note.
func (r *Registry) Note(ctx context.Context, kind, name, op, note string) error {
	who := ActorOf(ctx)
	return r.store.Audit(ctx, []Change{{At: r.now().UTC().Format(time.RFC3339Nano), Kind: kind, Name: name, Op: op, Note: note,
		By: who.Name, From: who.Addr}})
}

// InstallLog returns what the installer of a system posted with its last
// failure.
func (r *Registry) InstallLog(ctx context.Context, system string) (*InstallLog, error) {
	return r.store.InstallLog(ctx, system)
}

// Close closes the store.
func (r *Registry) Close() error { return r.store.Close() }

// change is a mutation: it edits next (a private clone of the current
// Snapshot) and returns the Ops to commit.
type change func(next *Snapshot) ([]Op, error)

// maxTries bounds how often one change is validated again because
// another write came first, on this appliance or on another one sharing
// the database.
const maxTries = 20

// mutate runs one change: validate against a clone of the current
// Snapshot, render the templates the change affects, commit, publish.
//
// Renders run outside the writers' lock (a slow template delays only its
// own change); the change then commits only if no other write was
// published meanwhile, else it is validated again on the new Snapshot.
// Renders whose template and data did not change are not done again: a
// try whose renders are all done commits without letting go of the lock,
// so a change cannot keep losing to the writes of this appliance. A
// change that began its commit already (a large import's opStream)
// renders under the lock: its transaction holds the database's.
// The commit itself is refused by the Store when the database's serial
// is no longer the one the change was validated at (another appliance
// committed): the Snapshot is brought up to date and the change validated
// again. A change that keeps losing (maxTries) is refused with
// ErrConflict, naming its object.
func (r *Registry) mutate(ctx context.Context, dryRun bool, fn change) (*Snapshot, error) {
	done := newRenderCache()
	var ops []Op
	for try := 0; try < maxTries; try++ {
		r.mu.Lock()
		base := r.cur.Load()
		next, o, err := prepare(ctx, base, fn)
		ops = o
		w := next.stream() // a commit the change began: the lock stays held to its end
		if err != nil || len(ops) == 0 {
			w.rollback()
			r.mu.Unlock()
			return next, err
		}
		if todo := next.checksToRun(done); len(todo) > 0 && w != nil {
			if err := r.runChecks(ctx, next, todo, done); err != nil {
				w.rollback()
				r.mu.Unlock()
				return nil, err
			}
		} else if len(todo) > 0 {
			r.mu.Unlock()
			if err := r.runChecks(ctx, next, todo, done); err != nil {
				return nil, err
			}
			if dryRun {
				return next, nil
			}
			r.mu.Lock()
			if r.cur.Load() != base { // another write came first: again, on it
				r.mu.Unlock()
				continue
			}
		}
		if dryRun {
			w.rollback()
			r.mu.Unlock()
			return next, nil
		}
		next.pending = nil
		snap, err := r.commit(ctx, base, next, ops, w)
		w.rollback()
		r.mu.Unlock()
		if errors.Is(err, errStale) {
			continue
		}
		return snap, err
	}
	return nil, &Error{ErrConflict, fmt.Sprintf("%s not saved: other writes kept coming first (%d tries): try again", what(ops), maxTries)}
}

// runChecks runs the checks of a change once a CPU is free for it.
func (r *Registry) runChecks(ctx context.Context, next *Snapshot, todo []check, done *renderCache) error {
	select {
	case r.renders <- struct{}{}:
		defer func() { <-r.renders }()
	case <-ctx.Done():
		return &Error{ErrUnavailable, fmt.Sprintf("%s not checked: %v", todo[0].what(), ctx.Err())}
	}
	return next.runChecks(ctx, todo, done)
}

// prepare runs fn on a clone of base. An edit that changes nothing is no
// change: nothing is written, and history does not say something
// happened. A change made for a scoped principal (WithPrincipal) must be
// about its systems only (checkPrincipal).
func prepare(ctx context.Context, base *Snapshot, fn change) (*Snapshot, []Op, error) {
	if err := checkExpected(ctx, base); err != nil {
		return nil, nil, err
	}
	next := base.clone()
	next.pending = &pending{}
	ops, err := fn(next)
	ops = slices.DeleteFunc(ops, noChange)
	if err == nil {
		err = checkPrincipal(ctx, base, next, ops)
	}
	return next, ops, err
}

// noChange reports an edit that changes nothing: prepare drops it.
func noChange(o Op) bool {
	a := o.Audit
	return (a.Op == "edit" || a.Op == "set") && a.Old != "" && a.Old == a.New && a.Note == "" && o.Log == nil
}

// commit writes ops, validated at base, and publishes next; r.mu is held.
// When the database has moved past base (another appliance committed), it
// brings the Snapshot up to date and returns errStale: validate again.
// With w, the commit the change began, ops are committed through it.
func (r *Registry) commit(ctx context.Context, base, next *Snapshot, ops []Op, w *opStream) (*Snapshot, error) {
	at, who := r.now().UTC().Format(time.RFC3339Nano), ActorOf(ctx)
	if w != nil {
		at, who = w.at, w.who
	}
	for i := range ops {
		ops[i].Audit.At, ops[i].Audit.By, ops[i].Audit.From = at, who.Name, who.Addr
	}
	var serial uint64
	var err error
	if w != nil {
		serial, err = w.commit(ctx, ops)
	} else {
		serial, err = r.store.Commit(ctx, base.Serial, ops)
	}
	if errors.Is(err, errStale) {
		if err := r.syncLocked(ctx); err != nil {
			return nil, unsaved(ops, err)
		}
		return nil, errStale
	}
	if err != nil {
		return nil, unsaved(ops, err)
	}
	next.delta = newDelta(base.Serial, serial, ops, next.delta)
	next.Serial = serial
	r.cur.Store(next)
	for _, f := range r.subs {
		f(next)
	}
	return next, nil
}

// unsaved names what a failed commit was about. A refusal by the
// database's constraints stays a conflict; any other failure is the
// database not taking the write: ErrUnavailable, nothing changed.
func unsaved(ops []Op, err error) error {
	var re *Error
	if errors.As(err, &re) {
		return err
	}
	return &Error{ErrUnavailable, fmt.Sprintf("%s not saved: the registry's database did not take the write, nothing was changed: %v", what(ops), err)}
}

// what names the object of a change (ops is not empty).
func what(ops []Op) string {
	w := ops[0].Audit.Kind + " " + ops[0].Audit.Name
	if len(ops) > 1 {
		w += fmt.Sprintf(" (and %d more changes)", len(ops)-1)
	}
	return w
}

// op builds an Op and its audit record from the old and new object.
func op(kind, prev string, old, obj any, name, verb string) Op {
	o := opNoJSON(kind, prev, old, obj, name, verb)
	o.Audit.Old, o.Audit.New = auditJSON(old), auditJSON(obj)
	return o
}

// opNoJSON is op without the objects' JSON in its Audit: for an import,
// which renders its additions' on every CPU once they are all checked
// (auditAdds).
func opNoJSON(kind, prev string, old, obj any, name, verb string) Op {
	o := Op{Kind: kind, Prev: prev, Name: name, Obj: obj}
	o.Audit = Change{Kind: kind, Name: name, Op: verb}
	if name == "" {
		o.Audit.Name = prev
	}
	if sn, ok := obj.(*System); ok {
		so, _ := old.(*System)
		switch {
		case so == nil && bmcPassword(sn) != "":
			o.Audit.Note = "bmc password set"
		case so != nil && bmcPassword(so) != bmcPassword(sn):
			o.Audit.Note = "bmc password changed"
		}
	}
	if obj != nil && !reflect.ValueOf(obj).IsNil() { // secret settings changed: by key, never by value
		if n := secretsNote(secretsOf(old), secretsOf(obj)); n != "" {
			o.Audit.Note = strings.TrimPrefix(o.Audit.Note+"; "+n, "; ")
		}
	}
	return o
}

func bmcPassword(s *System) Secret {
	if s == nil || s.BMC == nil {
		return ""
	}
	return s.BMC.Password
}

// auditJSON renders an object for history; JSON never carries secrets.
func auditJSON(v any) string {
	if v == nil || reflect.ValueOf(v).IsNil() {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("(unprintable: %v)", err)
	}
	return string(b)
}
