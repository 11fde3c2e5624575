package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The states of a delivery.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead" // given up: tried for a day (webhook.MaxAge)
)

// Delivery is one event to send to one hook, and how sending went.
type Delivery struct {
	ID          int64           `json:"id"`
	Hook        string          `json:"hook"`
	Seq         int64           `json:"seq"` // the event's, in the outbox
	Event       string          `json:"event"`
	System      string          `json:"system"`
	SystemID    string          `json:"system_id,omitempty"`
	At          time.Time       `json:"at"` // when the event happened
	Payload     json.RawMessage `json:"payload,omitempty"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	Created     time.Time       `json:"created"`
	NextAt      time.Time       `json:"next_at"`
	LastError   string          `json:"last_error,omitempty"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
}

// ms is t in Unix milliseconds, the deliveries' time columns.
func ms(t time.Time) int64 { return t.UnixMilli() }

// enqueueBatch is how many outbox events one Enqueue reads per hook.
const enqueueBatch = 1000

// Enqueue fans the outbox's new events out to the hooks that take them:
// a delivery each, due now, and the hook's cursor moved past them, in
// one transaction (on PostgreSQL the cursor rows are locked: two
// appliances never fan one event out twice). It returns how many
// deliveries it made.
func (st *SQLStore) Enqueue(ctx context.Context, now time.Time) (int, error) {
	var behind bool // checked first without a transaction, which on SQLite holds the write lock
	err := st.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE seq > (SELECT MIN(seq) FROM hook_cursors))`).Scan(&behind)
	if err != nil || !behind {
		return 0, err
	}
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("registry: enqueue: %w", err)
	}
	defer tx.Rollback()
	hooks, err := st.lockCursors(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("registry: enqueue: %w", err)
	}
	n := 0
	for _, h := range hooks {
		k, err := enqueueHook(ctx, tx, h, now)
		if err != nil {
			return 0, fmt.Errorf("registry: enqueue for hook %s: %w", h.Name, err)
		}
		n += k
	}
	return n, tx.Commit()
}

// cursorHook is a hook with its place in the outbox.
type cursorHook struct {
	Hook
	cursor int64
}

func (st *SQLStore) lockCursors(ctx context.Context, tx sqlTx) ([]cursorHook, error) {
	q := `SELECT hooks.doc, hook_cursors.seq FROM hooks JOIN hook_cursors ON hook_cursors.hook = hooks.name ORDER BY hooks.name`
	if tx.pg {
		q += ` FOR UPDATE OF hook_cursors`
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cursorHook
	for rows.Next() {
		var doc []byte
		var h cursorHook
		if err := rows.Scan(&doc, &h.cursor); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(doc, &h.Hook); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func enqueueHook(ctx context.Context, tx sqlTx, h cursorHook, now time.Time) (int, error) {
	evs, err := outboxAfter(ctx, tx, h.cursor, enqueueBatch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	n := 0
	for _, e := range evs {
		if !h.Wants(e.Event, e.System) {
			continue
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (hook, seq, system, state, attempts, created, next_at, last_error, delivered_at, owner, lease_until)
			VALUES (?,?,?,'pending',0,?,?,'',0,'',0)`, h.Name, e.Seq, orderKey(e), ms(now), ms(now))
		if err != nil {
			return 0, err
		}
		n++
	}
	_, err = tx.ExecContext(ctx, `UPDATE hook_cursors SET seq = ? WHERE hook = ?`, evs[len(evs)-1].Seq, h.Name)
	return n, err
}

// orderKey is what a hook's deliveries are ordered by: the system's
// identity (kept through renames), else its name.
func orderKey(e OutboxEvent) string {
	if e.SystemID != "" {
		return e.SystemID
	}
	return e.System
}

func outboxAfter(ctx context.Context, tx sqlTx, seq int64, limit int) ([]OutboxEvent, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, at, event, system, system_id, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?`, seq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxEvent
	for rows.Next() {
		var e OutboxEvent
		var at, payload string
		if err := rows.Scan(&e.Seq, &at, &e.Event, &e.System, &e.SystemID, &payload); err != nil {
			return nil, err
		}
		e.At, _ = time.Parse(outboxTime, at)
		e.Payload = json.RawMessage(payload)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Notify writes one event that is no registry change (a boot report, a
// power change, a discovered machine) to the outbox, when there is a
// hook. On PostgreSQL it takes the serial's row lock, as Commit does, so
// that the outbox's sequence is the order its rows become visible in
// (Enqueue never passes an event still to commit).
func (st *SQLStore) Notify(ctx context.Context, e OutboxEvent) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("registry: notify %s: %w", e.Event, err)
	}
	defer tx.Rollback()
	if tx.pg {
		if _, err := tx.ExecContext(ctx, `SELECT value FROM meta WHERE key = 'serial' FOR UPDATE`); err != nil {
			return fmt.Errorf("registry: notify %s: %w", e.Event, err)
		}
	}
	var hooks bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM hooks)`).Scan(&hooks); err != nil || !hooks {
		return err
	}
	if err := insertOutbox(ctx, tx, []OutboxEvent{e}); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	return tx.Commit()
}
