package registry

import (
	"context"
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
`

// SaveDynamic implements DynamicStore: the last word on each MAC wins.
func (st *SQLStore) SaveDynamic(ctx context.Context, leases []Lease, seen []Discovered) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, l := range leases {
		_, err := tx.ExecContext(ctx, `INSERT INTO leases VALUES (?,?,?,?,?) ON CONFLICT(mac) DO UPDATE SET
			ip = excluded.ip, subnet = excluded.subnet, expires = excluded.expires, state = excluded.state`,
			l.MAC, l.IP, l.Subnet, l.Expires.UTC().Format(time.RFC3339Nano), l.State)
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
	return tx.Commit()
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Leases implements DynamicStore.
func (st *SQLStore) Leases(ctx context.Context) ([]Lease, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT mac, ip, subnet, expires, state FROM leases ORDER BY ip`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var l Lease
		var exp string
		if err := rows.Scan(&l.MAC, &l.IP, &l.Subnet, &exp, &l.State); err != nil {
			return nil, err
		}
		l.Expires, _ = time.Parse(time.RFC3339Nano, exp)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Discovered implements DynamicStore.
func (st *SQLStore) Discovered(ctx context.Context) ([]Discovered, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT mac, ip, subnet, hostname, vendor_class, arch, first_seen, last_seen
		FROM discovered ORDER BY last_seen DESC`)
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
