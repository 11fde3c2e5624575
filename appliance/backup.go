package appliance

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/provision/provision/backup"
	"github.com/provision/provision/internal/apitoken"
)

// writeBackup is the API's Backup: a consistent copy of the registry
// (made while serving), every image file, and with secrets the sealing
// key, the API tokens and the TLS key of the API listener.
func (a *Appliance) writeBackup(ctx context.Context, w io.Writer, secrets bool) error {
	start := time.Now()
	serial := a.reg.Snapshot().Serial
	tmp, err := os.MkdirTemp(a.blobs.TempDir(), "backup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db := filepath.Join(tmp, "registry.db")
	if err := a.store.CopyTo(ctx, db); err != nil {
		return err
	}
	entries := []backup.Entry{{Path: "registry.db", Source: db}}
	files, err := a.blobs.List()
	if err != nil {
		return err
	}
	for _, f := range files {
		entries = append(entries, backup.Entry{Path: "images/" + f.Rel, Source: f.Path})
	}
	if secrets {
		for name, src := range map[string]string{
			"secret.key":                         a.cfg.SecretKeyFile,
			apitoken.FileName(apitoken.Admin):    filepath.Join(a.cfg.Data, apitoken.FileName(apitoken.Admin)),
			apitoken.FileName(apitoken.ReadOnly): filepath.Join(a.cfg.Data, apitoken.FileName(apitoken.ReadOnly)),
			"tls/api.crt":                        filepath.Join(a.cfg.Data, "tls", "api.crt"),
			"tls/api.key":                        filepath.Join(a.cfg.Data, "tls", "api.key"),
		} {
			if _, err := os.Stat(src); err == nil {
				entries = append(entries, backup.Entry{Path: name, Source: src, Secret: true})
			}
		}
	}
	m, err := backup.Write(w, backup.Manifest{Created: start.UTC(), Appliance: a.cfg.Name, Serial: serial, Secrets: secrets}, entries)
	if err != nil {
		return err
	}
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	a.log.Info("backup written", "files", len(m.Files), "bytes", size, "secrets", secrets, "serial", serial, "dur", time.Since(start).Round(time.Millisecond))
	return nil
}
