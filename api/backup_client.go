package api

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/provision/provision/backup"
	"github.com/provision/provision/internal/durable"
)

// Backup writes the appliance's whole state to file (POST /api/v1/backup,
// with the sealing key, API tokens and TLS key when secrets): to
// file.partial first, synced, checked against its manifest, and only then
// renamed to file, so that an interrupted backup never leaves a file that
// looks whole. It returns the archive's manifest.
func (c *Client) Backup(ctx context.Context, file string, secrets bool) (*backup.Manifest, error) {
	path := Path("backup")
	if secrets {
		path += "?secrets=1"
	}
	partial := file + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(partial) // renamed away when all went well
	err = c.Raw(ctx, "POST", path, "", nil, 0, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w (nothing was written to %s)", file, err, file)
	}
	r, err := os.Open(partial)
	if err != nil {
		return nil, err
	}
	m, err := backup.Check(r)
	r.Close()
	if err != nil {
		return nil, fmt.Errorf("backup %s: the archive received is not whole: %w (nothing was written to %s)", file, err, file)
	}
	if err := os.Rename(partial, file); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := durable.SyncDir(filepath.Dir(file)); err != nil {
		return nil, fmt.Errorf("backup %s: %w", file, err)
	}
	return m, nil
}
