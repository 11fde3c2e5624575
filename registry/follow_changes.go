package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/miekg/dns"

	"github.com/provision/provision/kickstart"
)

// storedChange is an object that commits after a serial touched, as the
// database holds it now: Obj is nil when nothing is stored under Key
// any more (removed, or renamed away).
type storedChange struct {
	Kind, Key string
	Obj       any // *Subnet, *Image, *Profile, *System, *Setting, *Record or *kickstart.Template
}

// changeReader is a Store that can say what the commits after a serial
// changed (SQLStore, from the serials on history rows).
type changeReader interface {
	changesSince(ctx context.Context, since uint64) (serial uint64, changes []storedChange, err error)
}

// errNoChanges: the commits since a serial cannot be read one by one
// (too many, or history rows without serials, from before schema 3): load
// the whole registry instead.
var errNoChanges = errors.New("registry: the changes since this serial are not in history one by one")

// maxFollowSerials bounds how many commits a follower reads one by one;
// beyond it a full load costs about as much.
const maxFollowSerials = 512

// changesSince reads, in one consistent read-only transaction, the
// current serial and every object that the commits after since touched.
func (st *SQLStore) changesSince(ctx context.Context, since uint64) (uint64, []storedChange, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if st.db.pg {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := st.db.BeginTx(ctx, opts)
	if err != nil {
		return 0, nil, fmt.Errorf("registry: begin: %w", err)
	}
	defer tx.Rollback()
	var serial uint64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'serial'`).Scan(&serial); err != nil {
		return 0, nil, fmt.Errorf("registry: read the serial: %w", err)
	}
	if serial <= since {
		return serial, nil, nil
	}
	if serial-since > maxFollowSerials {
		return 0, nil, errNoChanges
	}
	rows, err := tx.QueryContext(ctx, `SELECT serial, kind, name, prev FROM history WHERE serial > ? ORDER BY serial, id`, int64(since))
	if err != nil {
		return 0, nil, fmt.Errorf("registry: read history: %w", err)
	}
	type key struct{ kind, name string }
	var keys []key
	seenKey, seenSerial := map[key]bool{}, map[uint64]bool{}
	for rows.Next() {
		var s uint64
		var kind, name, prev string
		if err := rows.Scan(&s, &kind, &name, &prev); err != nil {
			rows.Close()
			return 0, nil, err
		}
		seenSerial[s] = true
		for _, n := range []string{prev, name} {
			if k := (key{kind, n}); n != "" && !seenKey[k] {
				seenKey[k] = true
				keys = append(keys, k)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	for s := since + 1; s <= serial; s++ {
		if !seenSerial[s] {
			return 0, nil, errNoChanges
		}
	}
	changes := make([]storedChange, 0, len(keys))
	for _, k := range keys {
		obj, err := st.readObject(ctx, tx, k.kind, k.name)
		if err != nil {
			return 0, nil, err
		}
		changes = append(changes, storedChange{Kind: k.kind, Key: k.name, Obj: obj})
	}
	return serial, changes, nil
}

// readObject reads the object of kind stored under key, or nil.
func (st *SQLStore) readObject(ctx context.Context, tx sqlTx, kind, key string) (any, error) {
	var obj any
	var err error
	switch kind {
	case ObjSubnet:
		obj, err = readDoc[Subnet](ctx, tx, "subnets", key)
	case ObjImage:
		obj, err = readDoc[Image](ctx, tx, "images", key)
	case ObjProfile:
		obj, err = readDoc[Profile](ctx, tx, "profiles", key)
	case ObjTemplate:
		obj, err = readDoc[kickstart.Template](ctx, tx, "templates", key)
	case ObjRule:
		obj, err = readDoc[Rule](ctx, tx, "rules", key)
	case ObjHook:
		obj, err = st.readHook(ctx, tx, key)
	case ObjUser:
		obj, err = readDoc[User](ctx, tx, "users", key)
	case ObjToken:
		obj, err = readToken(ctx, tx, key)
	case ObjSetting:
		var v string
		if err = tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v); err == nil {
			obj = &Setting{Key: key, Value: v}
		}
	case ObjRecord:
		var rr string
		if err = tx.QueryRowContext(ctx, `SELECT rr FROM records WHERE rr = ?`, key).Scan(&rr); err == nil {
			obj = &Record{RR: rr}
		}
	case ObjSystem:
		var doc []byte
		var pw, token, inspect string
		err = tx.QueryRowContext(ctx, `SELECT doc, bmc_password, COALESCE(builds.token, ''), COALESCE(inspections.token, '') FROM systems
			LEFT JOIN builds ON builds.system = systems.name LEFT JOIN inspections ON inspections.system = systems.name
			WHERE systems.name = ?`, key).Scan(&doc, &pw, &token, &inspect)
		if err == nil {
			var s *System
			if s, err = st.decodeSystem(doc, pw, token); err == nil {
				obj = s
				s.InspectToken, err = st.open(inspect)
			}
		}
	case ObjSecretSetting:
		obj, err = st.readSecrets(ctx, tx, kind, key, nil)
	default:
		return nil, fmt.Errorf("registry: history names a %q %s, a kind this provision does not know", kind, key)
	}
	if err == nil && (kind == ObjProfile || kind == ObjSystem) && obj != nil {
		obj, err = st.readSecrets(ctx, tx, kind, key, obj)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: read %s %s: %w", kind, key, err)
	}
	return obj, nil
}

// readDoc reads the document stored under key as a *T, returned as any:
// without a row (sql.ErrNoRows) the object stays an untyped nil.
func readDoc[T any](ctx context.Context, tx sqlTx, table, key string) (any, error) {
	var doc []byte
	if err := tx.QueryRowContext(ctx, `SELECT doc FROM `+table+` WHERE name = ?`, key).Scan(&doc); err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(doc, v); err != nil {
		return nil, err
	}
	return v, nil
}

// catchUpLocked brings the Snapshot to the database's serial by applying
// only what the commits since changed: the cost of a change made elsewhere
// is in proportion to it, not to the registry. An error (errNoChanges
// among them) leaves the Snapshot as it was; the caller loads it all
// instead. r.mu is held.
func (r *Registry) catchUpLocked(ctx context.Context) error {
	cr, ok := r.store.(changeReader)
	if !ok {
		return errNoChanges
	}
	cur := r.cur.Load()
	serial, changes, err := cr.changesSince(ctx, cur.Serial)
	if err != nil || serial <= cur.Serial {
		return err
	}
	next := cur.clone()
	ops, err := next.applyStored(changes)
	if err != nil {
		return err
	}
	next.Serial = serial
	next.delta = newDelta(cur.Serial, serial, ops, cur.delta)
	r.cur.Store(next)
	for _, f := range r.subs {
		f(next)
	}
	return nil
}

// applyStored puts the stored versions of changed objects into s (a
// private clone) and returns the Ops that say what changed. Every old
// version is taken out before any new one goes in, so that an address or
// MAC that moved between two systems in one commit stays with its new
// owner; systems go in last, after the profiles their state depends on
// (as build does).
func (s *Snapshot) applyStored(changes []storedChange) ([]Op, error) {
	ops := make([]Op, len(changes))
	user, templates := s.templates, false
	for i, c := range changes {
		ops[i] = Op{Kind: c.Kind, Obj: c.Obj}
		if c.Obj != nil {
			ops[i].Name = c.Key
		}
		var had bool
		switch c.Kind {
		case ObjSubnet:
			had = take(s.subnets, c.Key)
		case ObjImage:
			had = take(s.images, c.Key)
		case ObjProfile:
			had = take(s.profiles, c.Key)
		case ObjTemplate:
			if !templates {
				user, templates = maps.Clone(user), true
			}
			had = take(user, c.Key)
		case ObjRule:
			had = take(s.rules, c.Key)
		case ObjHook:
			had = take(s.hooks, c.Key)
		case ObjUser:
			had = take(s.users, c.Key)
		case ObjToken:
			had = take(s.tokens, c.Key)
		case ObjSetting:
			had = take(s.settings, c.Key)
		case ObjSecretSetting:
			had = take(s.secrets, c.Key)
		case ObjRecord:
			had = take(s.records, c.Key)
		case ObjSystem:
			var old *System
			if old, had = s.systems.Get(c.Key); had {
				s.unindex(old)
			}
		}
		if had {
			ops[i].Prev = c.Key
		}
	}
	for _, c := range changes {
		switch o := c.Obj.(type) {
		case *Subnet:
			e, err := parseSubnet(*o)
			if err != nil {
				return nil, fmt.Errorf("registry: stored %w", err)
			}
			s.subnets[c.Key] = e
		case *Image:
			s.images[c.Key] = o
		case *Profile:
			s.profiles[c.Key] = o
		case *kickstart.Template:
			user[c.Key] = o
		case *Rule:
			s.rules[c.Key] = o
		case *Hook:
			s.hooks[c.Key] = o
		case *User:
			s.users[c.Key] = o
		case *Token:
			s.tokens[c.Key] = o
		case *Setting:
			s.settings[c.Key] = o.Value
		case *SecretSetting:
			s.secrets[c.Key] = o.Value
		case *Record:
			owner := ""
			if parsed, err := dns.NewRR(o.RR); err == nil && parsed != nil {
				owner = recordOwner(parsed)
			}
			s.records[c.Key] = owner
		}
	}
	if templates {
		if err := s.setTemplates(user); err != nil {
			return nil, fmt.Errorf("registry: stored %w", err)
		}
	}
	for _, c := range changes {
		if sys, ok := c.Obj.(*System); ok {
			if sys.ID == "" {
				sys.ID = legacySystemID(sys.Name)
			}
			s.index(migrateState(s, sys))
		}
	}
	return ops, nil
}

// take deletes key from m and reports whether it was there.
func take[V any](m map[string]V, key string) bool {
	_, ok := m[key]
	delete(m, key)
	return ok
}
