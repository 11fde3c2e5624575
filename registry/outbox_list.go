package registry

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Deliveries lists the last limit deliveries of hook, newest first.
func (st *SQLStore) Deliveries(ctx context.Context, hook string, limit int) ([]Delivery, error) {
	out, err := scanDeliveries(st.db.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN outbox o ON o.seq = d.seq
		WHERE d.hook = ? ORDER BY d.id DESC LIMIT ?`, hook, limit))
	if err != nil {
		return nil, fmt.Errorf("registry: deliveries of hook %s: %w", hook, err)
	}
	return out, nil
}

// DeliveryCounts counts the deliveries by state.
func (st *SQLStore) DeliveryCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM deliveries GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("registry: count deliveries: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{DeliveryPending: 0, DeliveryDelivered: 0, DeliveryDead: 0}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

func scanDeliveries(rows *sql.Rows, err error) ([]Delivery, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var at, payload string
		var created, next, done int64
		if err := rows.Scan(&d.ID, &d.Hook, &d.Seq, &d.Event, &d.System, &d.SystemID, &at, &payload,
			&d.State, &d.Attempts, &created, &next, &d.LastError, &done); err != nil {
			return nil, err
		}
		d.At, _ = time.Parse(outboxTime, at)
		d.Payload = []byte(payload)
		d.Created, d.NextAt = time.UnixMilli(created).UTC(), time.UnixMilli(next).UTC()
		if done != 0 {
			t := time.UnixMilli(done).UTC()
			d.DeliveredAt = &t
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
