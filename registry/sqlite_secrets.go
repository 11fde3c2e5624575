package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/provision/provision/internal/seal"
)

// Secret settings are stored apart from the documents of their objects
// (whose JSON names their keys only), each value sealed like a BMC
// password, bound to its owner and key (secretContext): the global ones
// in secret_settings, those of profiles and systems in object_secrets,
// under their owner ("profile/NAME", "system/NAME"). A sealed value
// copied to another row does not open.
var secretTables = []string{
	`CREATE TABLE IF NOT EXISTS secret_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS object_secrets (owner TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (owner, key))`,
}

// migrateSecretTables is the migration from schema 3 to 4 (both backends:
// PostgreSQL's TEXT keys take the "C" collation as its other tables do).
func migrateSecretTables(ctx context.Context, tx sqlTx) error {
	for _, stmt := range secretTables {
		if tx.pg {
			stmt = strings.ReplaceAll(stmt, "TEXT PRIMARY KEY", `TEXT COLLATE "C" PRIMARY KEY`)
			stmt = strings.Replace(stmt, "(owner TEXT NOT NULL, key TEXT NOT NULL", `(owner TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL`, 1)
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("secret settings: %w", err)
		}
	}
	return nil
}

// secretOwner is where the secret settings of a profile or system are kept.
func secretOwner(kind, name string) string { return kind + "/" + name }

// globalOwner is the owner of the global secret settings, in their
// sealing context.
const globalOwner = "global"

// secretContext is what a secret setting is sealed for (seal.SealFor).
func secretContext(owner, key string) string { return "secret setting " + key + " of " + owner }

// openSecret reads a stored secret setting back: sealed for owner and
// key, or plaintext in a store without a key (tests).
func (st *SQLStore) openSecret(stored, owner, key string) (Secret, error) {
	if !seal.Sealed(stored) {
		return Secret(stored), nil
	}
	if st.key == nil {
		return "", errors.New("it is sealed, and the store has no key")
	}
	plain, err := st.key.OpenFor(stored, secretContext(owner, key))
	if errors.Is(err, seal.ErrWrongKey) {
		err = fmt.Errorf("it was not sealed for it (copied from another row?), or it was altered: %w", err)
	}
	return Secret(plain), err
}

// bindSecrets seals the secret settings op wrote for their owner and
// key, over the unbound values applyOp wrote (as bindBMC does for BMC
// passwords).
func (st *SQLStore) bindSecrets(ctx context.Context, tx sqlTx, op Op) error {
	if st.key == nil || op.Obj == nil {
		return nil
	}
	if s, ok := op.Obj.(*SecretSetting); ok {
		_, err := tx.ExecContext(ctx, `UPDATE secret_settings SET value = ? WHERE key = ?`,
			st.key.SealFor(string(s.Value), secretContext(globalOwner, s.Key)), s.Key)
		return err
	}
	secrets := secretsOf(op.Obj)
	owner := secretOwner(op.Kind, op.Name)
	for _, k := range secrets.Keys() {
		sealed := st.key.SealFor(string(secrets[k]), secretContext(owner, k))
		if _, err := tx.ExecContext(ctx, `UPDATE object_secrets SET value = ? WHERE owner = ? AND key = ?`, sealed, owner, k); err != nil {
			return fmt.Errorf("registry: seal the secret setting %s of %s %s: %w", k, op.Kind, op.Name, err)
		}
	}
	return nil
}

// writeObjectSecrets replaces the stored secret settings of the profile
// or system op writes (or removes): the rows of op.Prev go, those of the
// object in, sealed.
func writeObjectSecrets(ctx context.Context, tx sqlTx, op Op, seal func(Secret) string) error {
	if op.Kind != ObjProfile && op.Kind != ObjSystem {
		return nil
	}
	if op.Prev != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM object_secrets WHERE owner = ?`, secretOwner(op.Kind, op.Prev)); err != nil {
			return err
		}
	}
	secrets := secretsOf(op.Obj)
	for _, k := range secrets.Keys() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO object_secrets VALUES (?,?,?)`, secretOwner(op.Kind, op.Name), k, seal(secrets[k])); err != nil {
			return fmt.Errorf("%s %s: secret setting %s: %w", op.Kind, op.Name, k, err)
		}
	}
	return nil
}

// loadObjectSecrets reads the secret settings of owner, or of every owner
// when owner is "" (by owner), opened.
func (st *SQLStore) loadObjectSecrets(ctx context.Context, q execQuerier, owner string) (map[string]SecretSettings, error) {
	query, args := `SELECT owner, key, value FROM object_secrets`, []any{}
	if owner != "" {
		query, args = query+` WHERE owner = ?`, []any{owner}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("registry: load secret settings: %w", err)
	}
	defer rows.Close()
	out := map[string]SecretSettings{}
	for rows.Next() {
		var o, k, v string
		if err := rows.Scan(&o, &k, &v); err != nil {
			return nil, err
		}
		plain, err := st.openSecret(v, o, k)
		if err != nil {
			return nil, fmt.Errorf("registry: the secret setting %s of %s: %w", k, strings.Replace(o, "/", " ", 1), err)
		}
		if out[o] == nil {
			out[o] = SecretSettings{}
		}
		out[o][k] = plain
	}
	return out, rows.Err()
}

// loadSecrets gives the loaded profiles and systems of d their secret
// settings (the documents name the keys only), and reads the global ones.
func (st *SQLStore) loadSecrets(ctx context.Context, d *Data) error {
	all, err := st.loadObjectSecrets(ctx, st.db, "")
	if err != nil {
		return err
	}
	for i := range d.Profiles {
		d.Profiles[i].SecretSettings = all[secretOwner(ObjProfile, d.Profiles[i].Name)]
	}
	for i := range d.Systems {
		d.Systems[i].SecretSettings = all[secretOwner(ObjSystem, d.Systems[i].Name)]
	}
	rows, err := st.db.QueryContext(ctx, `SELECT key, value FROM secret_settings`)
	if err != nil {
		return fmt.Errorf("registry: load secret settings: %w", err)
	}
	defer rows.Close()
	d.Secrets = map[string]Secret{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		if d.Secrets[k], err = st.openSecret(v, globalOwner, k); err != nil {
			return fmt.Errorf("registry: the global secret setting %s: %w", k, err)
		}
	}
	return rows.Err()
}

// readSecrets completes an object read on its own (a follower's catch-up):
// a profile's or system's secret settings, or a global secret setting.
func (st *SQLStore) readSecrets(ctx context.Context, tx sqlTx, kind, key string, obj any) (any, error) {
	switch o := obj.(type) {
	case *Profile:
		m, err := st.loadObjectSecrets(ctx, tx, secretOwner(kind, key))
		o.SecretSettings = m[secretOwner(kind, key)]
		return o, err
	case *System:
		m, err := st.loadObjectSecrets(ctx, tx, secretOwner(kind, key))
		o.SecretSettings = m[secretOwner(kind, key)]
		return o, err
	}
	var v string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM secret_settings WHERE key = ?`, key).Scan(&v); err != nil {
		return nil, err
	}
	plain, err := st.openSecret(v, globalOwner, key)
	if err != nil {
		return nil, fmt.Errorf("the global secret setting %s: %w", key, err)
	}
	return &SecretSetting{Key: key, Value: plain}, nil
}

// sealSecretSettings seals, bound to their owner and key, the secret
// settings stored before a key was used (UseKey), or sealed unbound.
func sealSecretSettings(ctx context.Context, tx sqlTx, key *seal.Key) error {
	type row struct{ owner, key, value string }
	var todo []row
	rows, err := tx.QueryContext(ctx, `SELECT '`+globalOwner+`', key, value FROM secret_settings UNION ALL SELECT owner, key, value FROM object_secrets`)
	if err != nil {
		return fmt.Errorf("registry: seal secret settings: %w", err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.owner, &r.key, &r.value); err != nil {
			rows.Close()
			return err
		}
		if !seal.Bound(r.value) {
			todo = append(todo, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range todo {
		plain := r.value
		if seal.Sealed(plain) {
			if plain, err = key.Open(r.value); err != nil {
				return fmt.Errorf("registry: the secret setting %s of %s: %w", r.key, r.owner, err)
			}
		}
		q, args := `UPDATE object_secrets SET value = ? WHERE owner = ? AND key = ?`, []any{key.SealFor(plain, secretContext(r.owner, r.key)), r.owner, r.key}
		if r.owner == globalOwner {
			q, args = `UPDATE secret_settings SET value = ? WHERE key = ?`, []any{args[0], r.key}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("registry: seal the secret setting %s of %s: %w", r.key, r.owner, err)
		}
	}
	return nil
}
