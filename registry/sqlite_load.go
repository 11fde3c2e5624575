package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Load implements Store.
func (st *SQLStore) Load(ctx context.Context) (*Data, error) {
	d := &Data{Settings: map[string]string{}}
	if err := st.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'serial'`).Scan(&d.Serial); err != nil {
		return nil, fmt.Errorf("registry: load serial: %w", err)
	}
	var instance int64
	err := st.db.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE key = 'epoch'), (SELECT value FROM meta WHERE key = 'instance')`).Scan(&d.Epoch, &instance)
	if err != nil {
		return nil, fmt.Errorf("registry: load epoch: %w", err)
	}
	d.Instance = fmt.Sprintf("%016x", uint64(instance))
	if err := loadDocs(ctx, st, "subnets", &d.Subnets); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "images", &d.Images); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "profiles", &d.Profiles); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "templates", &d.Templates); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "rules", &d.Rules); err != nil {
		return nil, err
	}
	if err := st.loadHooks(ctx, d); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "users", &d.Users); err != nil {
		return nil, err
	}
	if err := st.loadTokens(ctx, d); err != nil {
		return nil, err
	}
	if err := st.loadSystems(ctx, d); err != nil {
		return nil, err
	}
	if err := st.loadRecords(ctx, d); err != nil {
		return nil, err
	}
	rows, err := st.db.QueryContext(ctx, `SELECT key, value FROM settings`)
	if err != nil {
		return nil, fmt.Errorf("registry: load settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		d.Settings[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return d, st.loadSecrets(ctx, d)
}

func loadDocs[T any](ctx context.Context, st *SQLStore, table string, out *[]T) error {
	rows, err := st.db.QueryContext(ctx, `SELECT doc FROM `+table+` ORDER BY name`)
	if err != nil {
		return fmt.Errorf("registry: load %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc []byte
		var v T
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		if err := json.Unmarshal(doc, &v); err != nil {
			return fmt.Errorf("registry: load %s: %w", table, err)
		}
		*out = append(*out, v)
	}
	return rows.Err()
}

// loadSystems reads the systems: the rows on this goroutine, their
// documents decoded and their secrets opened on one worker per CPU, in
// chunks of systemChunk rows, into d.Systems in the rows' order.
func (st *SQLStore) loadSystems(ctx context.Context, d *Data) error {
	builds, err := st.systemTokens(ctx, "builds")
	if err != nil {
		return err
	}
	inspections, err := st.systemTokens(ctx, "inspections")
	if err != nil {
		return err
	}
	var n int
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM systems`).Scan(&n); err != nil {
		return fmt.Errorf("registry: load systems: %w", err)
	}
	workers := runtime.GOMAXPROCS(0)
	g, gctx := errgroup.WithContext(ctx)
	work, free := make(chan *loadChunk, workers), make(chan *loadChunk, 2*workers)
	for range workers {
		g.Go(func() error {
			dec := newDocDecoder()
			for c := range work {
				if err := st.decodeRows(dec, c, builds, inspections); err != nil {
					return err
				}
				select {
				case free <- c:
				default:
				}
			}
			return nil
		})
	}
	all := make([]System, n)
	read, extra, readErr := st.readSystemRows(gctx, all, work, free)
	if err := g.Wait(); err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	d.Systems = all[:min(read, n)] // fewer rows than counted: some were removed since
	for _, e := range extra {
		d.Systems = append(d.Systems, e...)
	}
	return nil
}

// loadChunk is rows of the systems table, read and not yet decoded,
// and where their systems go.
type loadChunk struct {
	names, docs []byte // one after the other
	ends        [][2]int
	pws         []string // sealed BMC passwords
	out         []System
}

const systemChunk = 256

// readSystemRows hands the rows of the systems table to work in chunks
// (taken from free when there is one), their systems to be decoded into
// all, whose length is the number of rows counted before; it closes
// work. It returns how many rows it read, and the systems of the rows
// past that count (added since), decoded apart.
func (st *SQLStore) readSystemRows(ctx context.Context, all []System, work, free chan *loadChunk) (read int, extra [][]System, err error) {
	defer close(work)
	rows, err := st.db.QueryContext(ctx, `SELECT name, doc, bmc_password FROM systems`)
	if err != nil {
		return 0, nil, fmt.Errorf("registry: load systems: %w", err)
	}
	defer rows.Close()
	i, c := 0, (*loadChunk)(nil)
	send := func() error {
		if j := i - len(c.ends); i <= len(all) {
			c.out = all[j:i]
		} else {
			c.out = make([]System, len(c.ends))
			extra = append(extra, c.out)
		}
		select {
		case work <- c:
			c = nil
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for rows.Next() {
		if c == nil {
			select {
			case c = <-free:
				c.names, c.docs, c.ends, c.pws = c.names[:0], c.docs[:0], c.ends[:0], c.pws[:0]
			default:
				c = &loadChunk{}
			}
		}
		var name, doc sql.RawBytes
		var pw string
		if err := rows.Scan(&name, &doc, &pw); err != nil {
			return 0, nil, fmt.Errorf("registry: load systems: %w", err)
		}
		c.names, c.docs = append(c.names, name...), append(c.docs, doc...)
		c.ends, c.pws = append(c.ends, [2]int{len(c.names), len(c.docs)}), append(c.pws, pw)
		if i++; len(c.ends) == systemChunk || i == len(all) {
			if err := send(); err != nil {
				return 0, nil, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("registry: load systems: %w", err)
	}
	if c != nil {
		err = send()
	}
	return i, extra, err
}

// decodeRows decodes the systems of c into c.out.
func (st *SQLStore) decodeRows(dec *docDecoder, c *loadChunk, builds, inspections map[string]string) error {
	var name, doc int
	for i, end := range c.ends {
		s := &c.out[i]
		if err := dec.decode(c.docs[doc:end[1]], s); err != nil {
			return fmt.Errorf("registry: load system %s: %w", c.names[name:end[0]], err)
		}
		name, doc = end[0], end[1]
		if err := st.openSystem(s, c.pws[i], builds[s.Name], inspections[s.Name]); err != nil {
			return err
		}
	}
	c.out = nil
	return nil
}

// systemTokens maps each system with a row in table (builds, inspections)
// to its token, sealed.
func (st *SQLStore) systemTokens(ctx context.Context, table string) (map[string]string, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT system, token FROM `+table)
	if err != nil {
		return nil, fmt.Errorf("registry: load %s: %w", table, err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var system, token string
		if err := rows.Scan(&system, &token); err != nil {
			return nil, fmt.Errorf("registry: load %s: %w", table, err)
		}
		m[system] = token
	}
	return m, rows.Err()
}

// decodeSystem is a system as stored: its document, with the sealed BMC
// password and build token opened.
func (st *SQLStore) decodeSystem(doc []byte, pw, token string) (*System, error) {
	var s System
	if err := newDocDecoder().decode(doc, &s); err != nil {
		return nil, fmt.Errorf("registry: load systems: %w", err)
	}
	return &s, st.openSystem(&s, pw, token, "")
}

// openSystem opens the sealed secrets of a system just decoded: its BMC
// password, build token and inspection token.
func (st *SQLStore) openSystem(s *System, pw, token, inspect string) error {
	var err error
	if s.BMC != nil {
		if s.BMC.Password, err = st.openBMC(pw, s.Name, s.BMC.Address); err != nil {
			return fmt.Errorf("registry: the bmc password of system %s: %w", s.Name, err)
		}
	}
	if s.BuildToken, err = st.open(token); err != nil {
		return fmt.Errorf("registry: the build token of system %s: %w", s.Name, err)
	}
	if s.InspectToken, err = st.open(inspect); err != nil {
		return fmt.Errorf("registry: the inspection token of system %s: %w", s.Name, err)
	}
	return nil
}

// History lists the last limit audit records (HistoryBefore from the end).
func (st *SQLStore) History(ctx context.Context, name string, limit int) ([]Change, error) {
	return st.HistoryBefore(ctx, name, 0, limit)
}

// HistoryBefore implements Store. An object's history follows its renames
// back: the history of web101 includes what happened to it as web001.
func (st *SQLStore) HistoryBefore(ctx context.Context, name string, before int64, limit int) ([]Change, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	q := `SELECT id, at, kind, name, op, old, new, note, actor, addr FROM history WHERE id < ? ORDER BY id DESC LIMIT ?`
	args := []any{before, limit}
	if name != "" {
		names, err := st.formerNames(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("registry: history: %w", err)
		}
		marks := strings.TrimSuffix(strings.Repeat("?,", len(names)), ",")
		q = `SELECT id, at, kind, name, op, old, new, note, actor, addr FROM history WHERE id < ? AND (name IN (` + marks + `) OR prev IN (` + marks + `)) ORDER BY id DESC LIMIT ?`
		args = []any{before}
		for range 2 {
			for _, n := range names {
				args = append(args, n)
			}
		}
		args = append(args, limit)
	}
	rows, err := st.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("registry: history: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.ID, &c.At, &c.Kind, &c.Name, &c.Op, &c.Old, &c.New, &c.Note, &c.By, &c.From); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}

func (st *SQLStore) loadRecords(ctx context.Context, d *Data) error {
	rows, err := st.db.QueryContext(ctx, `SELECT rr FROM records ORDER BY rr`)
	if err != nil {
		return fmt.Errorf("registry: load records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rr string
		if err := rows.Scan(&rr); err != nil {
			return err
		}
		d.Records = append(d.Records, rr)
	}
	return rows.Err()
}

// formerNames returns name and the names it had before renames.
func (st *SQLStore) formerNames(ctx context.Context, name string) ([]string, error) {
	names := []string{name}
	for i := 0; i < len(names) && len(names) < 100; i++ {
		rows, err := st.db.QueryContext(ctx, `SELECT prev FROM history WHERE name = ? AND op = 'rename'`, names[i])
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var prev string
			if err := rows.Scan(&prev); err == nil && !slices.Contains(names, prev) {
				names = append(names, prev)
			}
		}
		rows.Close()
	}
	return names, nil
}

// InstallLog implements Store.
func (st *SQLStore) InstallLog(ctx context.Context, system string) (*InstallLog, error) {
	l := &InstallLog{System: system}
	err := st.db.QueryRowContext(ctx, `SELECT at, size, log FROM install_logs WHERE system = ?`, system).Scan(&l.At, &l.Size, &l.Log)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &Error{ErrNotFound, "system " + system + " has no installer log"}
	}
	if err != nil {
		return nil, fmt.Errorf("registry: installer log of %s: %w", system, err)
	}
	return l, nil
}

// Audit implements Store.
func (st *SQLStore) Audit(ctx context.Context, cs []Change) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("registry: begin: %w", err)
	}
	defer tx.Rollback()
	for _, c := range cs {
		_, err := tx.ExecContext(ctx, `INSERT INTO history (at, kind, name, prev, op, old, new, note, actor, addr) VALUES (?,?,?,'',?,'','',?,?,?)`,
			c.At, c.Kind, c.Name, c.Op, c.Note, c.By, c.From)
		if err != nil {
			return fmt.Errorf("registry: history: %w", err)
		}
	}
	return tx.Commit()
}
