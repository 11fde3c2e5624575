package registry

import (
	"context"
	"fmt"
	"time"
)

// Latest is what a fleet view shows of a system's events: when it last
// booted from the network (its last DHCP event) and its last event.
type Latest struct {
	Boot time.Time `json:"last_boot,omitzero"`
	Last Event     `json:"last_event"`
}

// latestStore is an EventStore that can list every system's Latest.
type latestStore interface {
	LatestEvents(ctx context.Context) (map[string]Latest, error)
}

// LoadLatest fills the log's per-system summary from the store (at
// start; Record keeps it up to date afterwards).
func (l *EventLog) LoadLatest(ctx context.Context) error {
	ls, ok := l.store.(latestStore)
	if !ok {
		return nil
	}
	m, err := ls.LatestEvents(ctx)
	if err != nil {
		return fmt.Errorf("registry: the latest events: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, v := range m {
		if cur, ok := l.latest[id]; !ok || cur.Last.At.Before(v.Last.At) {
			l.latest[id] = v
		}
	}
	return nil
}

// Latest returns the summary of the system with identity id.
func (l *EventLog) Latest(id string) (Latest, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	v, ok := l.latest[id]
	return v, ok
}

// noteLatest updates the summary with e; l.mu is held.
func (l *EventLog) noteLatest(e Event) {
	if e.SystemID == "" {
		return
	}
	v := l.latest[e.SystemID]
	v.Last = e
	if e.Kind == "dhcp" {
		v.Boot = e.At
	}
	l.latest[e.SystemID] = v
}

// LatestEvents implements latestStore: the last event and the last DHCP
// event of every system identity.
func (st *SQLStore) LatestEvents(ctx context.Context) (map[string]Latest, error) {
	out := map[string]Latest{}
	rows, err := st.db.QueryContext(ctx, `SELECT e.sid, e.at, e.system, e.mac, e.ip, e.kind, e.detail, e.appliance FROM events e
		JOIN (SELECT sid, MAX(id) AS id FROM events WHERE sid <> '' GROUP BY sid) m ON e.id = m.id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&e.SystemID, &at, &e.System, &e.MAC, &e.IP, &e.Kind, &e.Detail, &e.Appliance); err != nil {
			rows.Close()
			return nil, err
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out[e.SystemID] = Latest{Last: e}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = st.db.QueryContext(ctx, `SELECT e.sid, e.at FROM events e
		JOIN (SELECT sid, MAX(id) AS id FROM events WHERE kind = 'dhcp' AND sid <> '' GROUP BY sid) m ON e.id = m.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, at string
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		v := out[id]
		v.Boot, _ = time.Parse(time.RFC3339Nano, at)
		out[id] = v
	}
	return out, rows.Err()
}
