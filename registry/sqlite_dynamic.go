package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

const dynamicSchema = `
CREATE TABLE IF NOT EXISTS leases (
	mac     TEXT PRIMARY KEY,
	ip      TEXT NOT NULL,
	subnet  TEXT NOT NULL,
	expires TEXT NOT NULL,
	state   TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS discovered (
	mac          TEXT PRIMARY KEY,
	ip           TEXT NOT NULL,
	subnet       TEXT NOT NULL,
	hostname     TEXT NOT NULL,
	vendor_class TEXT NOT NULL,
	arch         INTEGER NOT NULL,
	first_seen   TEXT NOT NULL,
	last_seen    TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS discovered_last_seen ON discovered (last_seen);
`

// SaveDynamic implements DynamicStore: the last word on each MAC wins. A
// bound lease takes its address from whichever MAC had it last; a
// released or declined one only changes the row of that MAC and address
// (on a shared database the address may have gone to another MAC since).
func (st *SQLStore) SaveDynamic(ctx context.Context, leases []Lease, seen []Discovered) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, l := range leases {
		if l.State == "bound" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE ip = ? AND mac <> ?`, l.IP, l.MAC); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO leases (mac, ip, subnet, expires, state, holder) VALUES (?,?,?,?,?,?) ON CONFLICT(mac) DO UPDATE SET
				ip = excluded.ip, subnet = excluded.subnet, expires = excluded.expires, state = excluded.state, holder = excluded.holder`,
				l.MAC, l.IP, l.Subnet, rfc(l.Expires), l.State, l.Holder)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE leases SET state = ?, expires = ? WHERE mac = ? AND ip = ?`, l.State, rfc(l.Expires), l.MAC, l.IP)
		}
		if err != nil {
			return err
		}
	}
	for _, d := range seen {
		_, err := tx.ExecContext(ctx, `INSERT INTO discovered VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(mac) DO UPDATE SET
			ip = excluded.ip, subnet = excluded.subnet, hostname = excluded.hostname, vendor_class = excluded.vendor_class,
			arch = excluded.arch, last_seen = excluded.last_seen`,
			d.MAC, d.IP, d.Subnet, d.Hostname, d.VendorClass, d.Arch, rfc(d.FirstSeen), rfc(d.LastSeen))
		if err != nil {
			return err
		}
	}
	if len(seen) > 0 {
		if err := st.pruneDiscovered(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DefaultDiscoveredCap is how many discovered machines the table keeps:
// any DHCP client may send random MACs, so the oldest sightings go.
const DefaultDiscoveredCap = 10000

// discoveredLimit is SQLStore.discoveredCap.
type discoveredLimit struct{ atomic.Int64 }

// SetDiscoveredCap changes how many discovered machines are kept (n >= 1),
// for tests and tuning.
func (st *SQLStore) SetDiscoveredCap(n int) { st.discoveredCap.Store(int64(max(n, 1))) }

// pruneDiscovered removes the oldest sightings beyond the cap: those
// last seen before the cap-th most recent one.
func (st *SQLStore) pruneDiscovered(ctx context.Context, tx sqlTx) error {
	limit := st.discoveredCap.Load()
	if limit == 0 {
		limit = DefaultDiscoveredCap
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM discovered WHERE last_seen < (
		SELECT last_seen FROM discovered ORDER BY last_seen DESC LIMIT 1 OFFSET ?)`, limit-1)
	return err
}

// LeaseHeldError is ClaimLease's refusal: the address is another MAC's.
type LeaseHeldError struct {
	Lease Lease // the holder's lease; only IP is known when two claims met
}

func (e *LeaseHeldError) Error() string {
	l := e.Lease
	if l.MAC == "" {
		return fmt.Sprintf("lease %s: claimed for another MAC at the same moment", l.IP)
	}
	by := ""
	if l.Holder != "" {
		by = " through appliance " + l.Holder
	}
	return fmt.Sprintf("lease %s: %s to %s%s until %s", l.IP, l.State, l.MAC, by, l.Expires.UTC().Format(time.RFC3339))
}

// ClaimLease makes l (state bound or declined) the lease of l.IP, held by
// l.Holder, unless another MAC holds that address at now (bound or
// declined, not expired): then it fails with a *LeaseHeldError and
// changes nothing. Its transaction is the arbiter between appliances on
// one database: the address's row is locked, and two claims of an address
// nobody had meet on the unique index of leases(ip), where one fails.
// The MAC's previous address, if any, is freed.
func (st *SQLStore) ClaimLease(ctx context.Context, l Lease, now time.Time) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := `SELECT mac, subnet, expires, state, holder FROM leases WHERE ip = ?`
	if st.db.pg {
		q += ` FOR UPDATE`
	}
	var cur Lease
	var exp string
	err = tx.QueryRowContext(ctx, q, l.IP).Scan(&cur.MAC, &cur.Subnet, &exp, &cur.State, &cur.Holder)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		cur.IP = l.IP
		cur.Expires, _ = time.Parse(time.RFC3339Nano, exp)
		if cur.MAC != l.MAC && (cur.State == "bound" || cur.State == "declined") && cur.Expires.After(now) {
			return &LeaseHeldError{Lease: cur}
		}
		if cur.MAC != l.MAC { // that row, as read: a claim that got there first replaced it
			if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE ip = ? AND mac = ? AND expires = ?`, l.IP, cur.MAC, exp); err != nil {
				return err
			}
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO leases (mac, ip, subnet, expires, state, holder) VALUES (?,?,?,?,?,?) ON CONFLICT(mac) DO UPDATE SET
		ip = excluded.ip, subnet = excluded.subnet, expires = excluded.expires, state = excluded.state, holder = excluded.holder`,
		l.MAC, l.IP, l.Subnet, rfc(l.Expires), l.State, l.Holder)
	if err == nil {
		err = tx.Commit()
	}
	if isUniqueViolation(err) {
		return &LeaseHeldError{Lease: Lease{IP: l.IP}}
	}
	return err
}

// Shared reports whether several appliances may use the database
// (PostgreSQL): their pools must then claim addresses (ClaimLease).
func (st *SQLStore) Shared() bool { return st.db.pg }

// EndLease records that mac's lease of ip was released or declined
// (l.State), at once; another MAC's lease of the address is left alone.
func (st *SQLStore) EndLease(ctx context.Context, l Lease) error {
	_, err := st.db.ExecContext(ctx, `UPDATE leases SET state = ?, expires = ? WHERE mac = ? AND ip = ?`, l.State, rfc(l.Expires), l.MAC, l.IP)
	return err
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Leases implements DynamicStore.
func (st *SQLStore) Leases(ctx context.Context) ([]Lease, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT mac, ip, subnet, expires, state, holder FROM leases ORDER BY ip`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var l Lease
		var exp string
		if err := rows.Scan(&l.MAC, &l.IP, &l.Subnet, &exp, &l.State, &l.Holder); err != nil {
			return nil, err
		}
		l.Expires, _ = time.Parse(time.RFC3339Nano, exp)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Discovered lists every discovered machine, last seen first.
func (st *SQLStore) Discovered(ctx context.Context) ([]Discovered, error) {
	return st.discovered(ctx, `SELECT mac, ip, subnet, hostname, vendor_class, arch, first_seen, last_seen
		FROM discovered ORDER BY last_seen DESC, mac`)
}

// DiscoveredPage implements DynamicStore: at most limit machines, last
// seen first, those after the cursor after ("" from the start).
func (st *SQLStore) DiscoveredPage(ctx context.Context, after string, limit int) ([]Discovered, error) {
	if after == "" {
		return st.discovered(ctx, `SELECT mac, ip, subnet, hostname, vendor_class, arch, first_seen, last_seen
			FROM discovered ORDER BY last_seen DESC, mac LIMIT ?`, limit)
	}
	seen, mac, ok := strings.Cut(after, "_")
	if !ok {
		return nil, &Error{Kind: ErrInvalid, Msg: fmt.Sprintf("discovered: cursor %q does not parse", after)}
	}
	return st.discovered(ctx, `SELECT mac, ip, subnet, hostname, vendor_class, arch, first_seen, last_seen
		FROM discovered WHERE last_seen < ? OR (last_seen = ? AND mac > ?) ORDER BY last_seen DESC, mac LIMIT ?`,
		seen, seen, mac, limit)
}

func (st *SQLStore) discovered(ctx context.Context, q string, args ...any) ([]Discovered, error) {
	rows, err := st.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Discovered
	for rows.Next() {
		var d Discovered
		var first, last string
		if err := rows.Scan(&d.MAC, &d.IP, &d.Subnet, &d.Hostname, &d.VendorClass, &d.Arch, &first, &last); err != nil {
			return nil, err
		}
		d.FirstSeen, _ = time.Parse(time.RFC3339Nano, first)
		d.LastSeen, _ = time.Parse(time.RFC3339Nano, last)
		out = append(out, d)
	}
	return out, rows.Err()
}
