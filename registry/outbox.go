package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// OutboxEvent is one event to report to the hooks: written to the
// outbox in the transaction of the change it reports (Commit), or by
// Notify for what is not a registry change.
type OutboxEvent struct {
	Seq      int64           `json:"seq,omitempty"`
	At       time.Time       `json:"at"`
	Event    string          `json:"event"`     // HookSystemAdded, ...
	System   string          `json:"system"`    // the system's name; a discovered machine's MAC
	SystemID string          `json:"system_id"` // the system's identity, "" for none
	Payload  json.RawMessage `json:"payload"`   // the change: {op, note, old, new}, or what Notify was given
}

// buildEvents are the events of a lifecycle transition, by the state
// reached.
var buildEvents = map[string]string{
	StateInstalling: HookBuildStarted,
	StateInstalled:  HookBuildInstalled,
	StateFailed:     HookBuildFailed,
}

// eventsOf maps one Op to the events it reports: a system's add, edit
// or remove, a lifecycle transition, the accept of a discovered machine.
// Other objects report nothing.
func eventsOf(op Op) []OutboxEvent {
	if op.Kind != ObjSystem {
		return nil
	}
	a := op.Audit
	at, _ := time.Parse(time.RFC3339Nano, a.At)
	ev := OutboxEvent{At: at, System: a.Name, Payload: changePayload(a)}
	var old struct{ ID, Status string }
	json.Unmarshal([]byte(a.Old), &old)
	sys, _ := op.Obj.(*System)
	switch {
	case sys == nil:
		return []OutboxEvent{with(ev, HookSystemRemoved, old.ID)}
	case op.Prev == "":
		out := []OutboxEvent{with(ev, HookSystemAdded, sys.ID)}
		if op.Link != nil {
			out = append(out, with(ev, HookAccepted, sys.ID))
		}
		return out
	}
	out := []OutboxEvent{with(ev, HookSystemChanged, sys.ID)}
	if e, ok := buildEvents[sys.Status]; ok && old.Status != sys.Status {
		out = append(out, with(ev, e, sys.ID))
	}
	return out
}

func with(ev OutboxEvent, event, id string) OutboxEvent {
	ev.Event, ev.SystemID = event, id
	return ev
}

// changePayload is a change as a hook is sent it: op, note, and the old
// and new objects (history's JSON, which never holds a secret).
func changePayload(a Change) json.RawMessage {
	m := map[string]any{"op": a.Op}
	if a.Note != "" {
		m["note"] = a.Note
	}
	for k, v := range map[string]string{"old": a.Old, "new": a.New} {
		if v != "" && json.Valid([]byte(v)) {
			m[k] = json.RawMessage(v)
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// writeOutbox writes the events of ops inside the commit's transaction,
// when there is a hook at all (after ops: a commit that adds the first
// hook counts it).
func writeOutbox(ctx context.Context, tx sqlTx, ops []Op) error {
	if !slices.ContainsFunc(ops, func(op Op) bool { return op.Kind == ObjSystem }) {
		return nil // only systems' changes have events
	}
	var hooks bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM hooks)`).Scan(&hooks); err != nil || !hooks {
		return err
	}
	var evs []OutboxEvent
	for _, op := range ops {
		evs = append(evs, eventsOf(op)...)
	}
	return insertOutbox(ctx, tx, evs)
}

func insertOutbox(ctx context.Context, tx sqlTx, evs []OutboxEvent) error {
	for _, e := range evs {
		if e.At.IsZero() {
			e.At = time.Now()
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO outbox (at, event, system, system_id, payload) VALUES (?,?,?,?,?)`,
			e.At.UTC().Format(outboxTime), e.Event, e.System, e.SystemID, string(e.Payload))
		if err != nil {
			return fmt.Errorf("outbox: event %s of %s: %w", e.Event, e.System, err)
		}
	}
	return nil
}

// outboxTime is the outbox's time format: fixed width, so that its text
// sorts as the times do.
const outboxTime = "2006-01-02T15:04:05.000000000Z"
