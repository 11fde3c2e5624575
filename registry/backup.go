package registry

import (
	"context"
	"fmt"
	"os"
)

// CopyTo writes a consistent copy of the whole registry (objects,
// history, events, leases, discovered machines, sealed secrets as they
// are) to a new SQLite file at path, while the store keeps serving. From
// SQLite it is VACUUM INTO, one read transaction; from PostgreSQL the
// tables are copied (Migrate, in one repeatable-read transaction) and the
// database's epoch and instance carried, so that the copy gives the same
// SOA serials and data.cdb ETags. path must not exist.
func (st *SQLStore) CopyTo(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("registry: copy to %s: the file exists", path)
	}
	if !st.db.pg {
		if _, err := st.db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
			return fmt.Errorf("registry: copy to %s: %w", path, err)
		}
		return nil
	}
	dst, err := OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer dst.Close()
	if _, err := Migrate(ctx, st, dst); err != nil {
		os.Remove(path)
		return fmt.Errorf("registry: copy to %s: %w", path, err)
	}
	for _, key := range []string{"epoch", "instance"} {
		var v int64
		if err := st.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v); err != nil {
			return fmt.Errorf("registry: copy to %s: %s: %w", path, key, err)
		}
		if _, err := dst.db.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = ?`, v, key); err != nil {
			return fmt.Errorf("registry: copy to %s: %s: %w", path, key, err)
		}
	}
	return nil
}
