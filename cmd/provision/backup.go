package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/provision/provision/backup"
	"github.com/provision/provision/internal/human"
)

func newBackup() *cobra.Command {
	c := &cobra.Command{
		Use:   "backup FILE [--with-secrets]",
		Short: "Write the appliance's whole state to FILE, while it serves",
		Long: `Write a consistent snapshot of the appliance to FILE (a tar archive), while it
keeps serving: the registry with its history, boot events, leases and
discovered machines (a copy made in one read transaction, as SQLite whatever
the appliance's store), and every image file. BMC passwords and build tokens
stay sealed: with --with-secrets the archive also holds the key that seals
them (secret.key), the API tokens and the API listener's TLS key, and must
then be kept as secret as they are. It needs the admin token.

The archive is written to FILE.partial, synced, checked against its manifest
and only then renamed to FILE: an interrupted backup never leaves a FILE
that looks whole. "provision restore FILE --data DIR" makes a data directory
of it.`,
		Example: `  provision backup /srv/backups/provision-$(date +%F).tar --with-secrets
  provision backup nightly.tar          # without the key: restore needs the old secret.key`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			file := a[0]
			secrets, _ := c.Flags().GetBool("with-secrets")
			m, err := client(c).Backup(ctx(c), file, secrets)
			if err != nil {
				return err
			}
			var size int64
			for _, f := range m.Files {
				size += f.Size
			}
			if !quiet(c) {
				fmt.Fprintf(c.OutOrStdout(), "%s: %d files, %s, registry serial %d, of %s%s\n", file, len(m.Files), human.Bytes(size), m.Serial, m.Appliance, secretsNote(m.Secrets))
			}
			return nil
		},
	}
	c.Flags().Bool("with-secrets", false, "include the sealing key (secret.key), the API tokens and the API's TLS key")
	return c
}

func secretsNote(with bool) string {
	if with {
		return ", with its secrets"
	}
	return ", without secrets"
}

func newRestore() *cobra.Command {
	c := &cobra.Command{
		Use:   "restore FILE --data DIR",
		Short: "Make a data directory of a backup",
		Long: `Restore a backup written by "provision backup" into DIR, which must be new or
empty: the archive is extracted beside DIR, every file checked against the
manifest (an archive cut short or damaged is refused, and nothing is left),
and only then renamed to DIR. It runs on the machine, without a server.
"provision serve --data DIR" then answers as the appliance did: the same
registry, DNS zone and data.cdb, DHCP reservations, history and events. A
backup made without --with-secrets holds no key: put the old appliance's
secret.key in DIR (or give --secret-key-file) before serving; new API
tokens are made at the first start.`,
		Example: `  provision restore /srv/backups/provision-2026-12-01.tar --data /var/lib/provision
  provision restore nightly.tar --data ./provision-data && provision serve --dev`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			dir, _ := c.Flags().GetString("data")
			f, err := os.Open(a[0])
			if err != nil {
				return fmt.Errorf("restore: %w", err)
			}
			defer f.Close()
			m, err := backup.Restore(f, dir)
			if err != nil {
				return fmt.Errorf("%w (from %s; nothing was written to %s)", err, a[0], dir)
			}
			if !quiet(c) {
				out := c.OutOrStdout()
				fmt.Fprintf(out, "restored %d files of %s (registry serial %d, %s) into %s\n", len(m.Files), m.Appliance, m.Serial, m.Created.Format(time.RFC3339), dir)
				if !m.Secrets {
					fmt.Fprintln(out, "the backup holds no secret key: put the old appliance's secret.key in "+filepath.Join(dir, "secret.key")+" (or give --secret-key-file) before serving")
				}
				fmt.Fprintln(out, "serve it: provision serve --data "+shellQuote(dir))
			}
			return nil
		},
	}
	c.Flags().String("data", "", "the data directory to make (new or empty)")
	c.MarkFlagRequired("data")
	return c
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]#~;&|<>(){}") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quiet reports -q.
func quiet(c *cobra.Command) bool {
	q, _ := c.Flags().GetBool("quiet")
	return q
}
