package registry

import (
	"context"
	"fmt"
	"strings"
	"time"
)

const deliveryCols = `d.id, d.hook, d.seq, o.event, o.system, o.system_id, o.at, o.payload, d.state, d.attempts, d.created, d.next_at, d.last_error, d.delivered_at`

// Claim takes up to limit due deliveries for owner until now+lease:
// pending, due, not leased by another, the first pending one of their
// hook and system (a system's later delivery waits for the earlier), and
// of no hook in skip (those the caller has enough of in flight). On
// PostgreSQL the rows are locked FOR UPDATE SKIP LOCKED, so that of
// several appliances claiming at once each takes others.
func (st *SQLStore) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip ...string) ([]Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM deliveries d JOIN outbox o ON o.seq = d.seq
		WHERE d.state = 'pending' AND d.next_at <= ? AND d.lease_until <= ?
		AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.hook = d.hook AND e.system = d.system AND e.state = 'pending' AND e.id < d.id)`
	args := []any{ms(now), ms(now)}
	if len(skip) > 0 {
		q += ` AND d.hook NOT IN (?` + strings.Repeat(`,?`, len(skip)-1) + `)`
		for _, h := range skip {
			args = append(args, h)
		}
	}
	q += ` ORDER BY d.id LIMIT ?`
	args = append(args, limit)
	var out []Delivery
	var err error
	if st.db.pg {
		out, err = st.claimLocked(ctx, q+` FOR UPDATE OF d SKIP LOCKED`, args, owner, now.Add(lease))
	} else {
		out, err = st.claimRead(ctx, q, args, owner, now, now.Add(lease))
	}
	if err != nil {
		return nil, fmt.Errorf("registry: claim deliveries: %w", err)
	}
	return out, nil
}

// claimLocked selects and leases in one transaction, the rows locked
// (PostgreSQL).
func (st *SQLStore) claimLocked(ctx context.Context, q string, args []any, owner string, until time.Time) ([]Delivery, error) {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out, err := scanDeliveries(tx.QueryContext(ctx, q, args...))
	if err != nil {
		return nil, err
	}
	for _, d := range out {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET owner = ?, lease_until = ? WHERE id = ?`, owner, ms(until), d.ID); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

// claimRead selects outside any transaction (on SQLite a transaction
// holds the one write lock, and the select may take a while over a long
// queue), then leases each row in one short transaction, only if no one
// leased it meanwhile.
func (st *SQLStore) claimRead(ctx context.Context, q string, args []any, owner string, now, until time.Time) ([]Delivery, error) {
	cands, err := scanDeliveries(st.db.QueryContext(ctx, q, args...))
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var out []Delivery
	for _, d := range cands {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET owner = ?, lease_until = ? WHERE id = ? AND state = 'pending' AND lease_until <= ?`,
			owner, ms(until), d.ID, ms(now))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = append(out, d)
		}
	}
	return out, tx.Commit()
}

// Delivered marks a delivery sent.
func (st *SQLStore) Delivered(ctx context.Context, id int64, attempts int, now time.Time) error {
	_, err := st.db.ExecContext(ctx, `UPDATE deliveries SET state = 'delivered', attempts = ?, delivered_at = ?, last_error = '', owner = '', lease_until = 0 WHERE id = ?`,
		attempts, ms(now), id)
	if err != nil {
		return fmt.Errorf("registry: delivery %d: %w", id, err)
	}
	return nil
}

// Failed records a failed try of a delivery: tried again at next, or,
// dead, given up (dead-lettered: kept, and listed).
func (st *SQLStore) Failed(ctx context.Context, id int64, attempts int, next time.Time, why string, dead bool) error {
	state := DeliveryPending
	if dead {
		state = DeliveryDead
	}
	_, err := st.db.ExecContext(ctx, `UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, last_error = ?, owner = '', lease_until = 0 WHERE id = ?`,
		state, attempts, ms(next), why, id)
	if err != nil {
		return fmt.Errorf("registry: delivery %d: %w", id, err)
	}
	return nil
}

// Prune deletes the deliveries made before cutoff and the outbox events
// of before cutoff that every hook has passed and no delivery still to
// make or dead refers to. It returns how many rows it deleted.
func (st *SQLStore) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	for _, q := range []struct {
		sql string
		arg any
	}{
		{`DELETE FROM deliveries WHERE state = 'delivered' AND delivered_at < ?`, ms(cutoff)},
		{`DELETE FROM outbox WHERE at < ? AND seq <= COALESCE((SELECT MIN(seq) FROM hook_cursors), seq)
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = outbox.seq)`, cutoff.UTC().Format(outboxTime)},
	} {
		res, err := st.db.ExecContext(ctx, q.sql, q.arg)
		if err != nil {
			return n, fmt.Errorf("registry: prune the outbox: %w", err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}
