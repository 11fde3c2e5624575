package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/provision/provision/appliance"
	"github.com/provision/provision/registry"
)

func newMigrate() *cobra.Command {
	c := &cobra.Command{
		Use:   "migrate --from sqlite:PATH --to postgres://USER@HOST:PORT/DB [--to-password-file FILE]",
		Short: "Copy a SQLite registry into a new PostgreSQL database",
		Long: `Copy the registry of an appliance on SQLite (DATA/registry.db) into an empty
PostgreSQL database, for "provision serve --database" and appliances that
share it. It runs on the appliance, on the file (it needs no running server
and no token): stop the appliance first, so that nothing it writes later is
left behind. Every table is copied as it is, ids and history included, in
one transaction: on any error the database is left empty. The database must
be new: its tables are created (or brought to this provision's schema) if
need be, and a table that already holds rows is refused by name. A registry
of an older schema is brought up to date first, as serve would at start.

The password comes from --to-password-file, $PGPASSWORD or ~/.pgpass; a URL
holding one is refused. The copy prints the rows of each table. BMC
passwords and build tokens stay sealed with the old appliance's secret key:
give the appliances on the new database the same DATA/secret.key (or
--secret-key-file), then start them with "provision serve --database URL".`,
		Example: `  provision migrate --from sqlite:/var/lib/provision/registry.db --to postgres://provision@db1:5432/provision
  provision migrate --from provision-data/registry.db --to postgres://provision@127.0.0.1:5432/provision   # the dev server's
  provision migrate --from sqlite:registry.db --to postgres://provision@db1/provision --to-password-file /etc/provision/db.pw`,
		Args: args(cobra.NoArgs),
		RunE: runMigrate,
	}
	c.Flags().String("from", "", "the SQLite registry to copy: sqlite:PATH or PATH (DATA/registry.db)")
	c.Flags().String("to", "", "the PostgreSQL database to copy into: postgres://USER@HOST:PORT/DB, without a password")
	c.Flags().String("to-password-file", "", "read the database password from this file")
	c.MarkFlagRequired("from")
	c.MarkFlagRequired("to")
	return c
}

func runMigrate(c *cobra.Command, _ []string) error {
	from, _ := c.Flags().GetString("from")
	to, _ := c.Flags().GetString("to")
	path, err := migrateSource(from)
	if err != nil {
		return err
	}
	if err := migrateTarget(to); err != nil {
		return err
	}
	password, err := migratePassword(c)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, err := registry.OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := registry.OpenPostgresPassword(ctx, to, password)
	if err != nil {
		return fmt.Errorf("%w (database %s)", err, appliance.RedactDatabase(to))
	}
	defer dst.Close()
	counts, err := registry.Migrate(ctx, src, dst)
	if err != nil {
		return fmt.Errorf("%w (database %s)", err, appliance.RedactDatabase(to))
	}
	if q, _ := c.Flags().GetBool("quiet"); !q {
		printMigrate(c.OutOrStdout(), path, appliance.RedactDatabase(to), counts)
	}
	return nil
}

// migrateSource is the path of --from, which must be an existing file:
// migrate never makes a new, empty registry to copy.
func migrateSource(from string) (string, error) {
	path := strings.TrimPrefix(from, "sqlite:")
	if strings.HasPrefix(path, "postgres:") || strings.HasPrefix(path, "postgresql:") {
		return "", usage(fmt.Errorf("--from %s: migrate copies from a SQLite file (sqlite:PATH)", appliance.RedactDatabase(from)))
	}
	if path == "" {
		return "", usage(errors.New("--from: give the SQLite registry, sqlite:PATH"))
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("--from %s: no such file (an appliance's registry is DATA/registry.db)", path)
	case err != nil:
		return "", fmt.Errorf("--from: %w", err)
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("--from %s: not a file (an appliance's registry is DATA/registry.db)", path)
	}
	return path, nil
}

// migrateTarget refuses a --to that is not PostgreSQL, or holds a password.
func migrateTarget(to string) error {
	if strings.HasPrefix(to, "sqlite:") {
		return usage(errors.New("--to: migrate copies into a PostgreSQL database, postgres://USER@HOST:PORT/DB"))
	}
	if databaseHasPassword(to) {
		return usage(errors.New("--to: the URL holds a password, which every user of this machine can read on the command line: put it in $PGPASSWORD, ~/.pgpass or --to-password-file"))
	}
	return nil
}

// migratePassword is the password of --to-password-file ("": $PGPASSWORD
// or ~/.pgpass, read by the driver).
func migratePassword(c *cobra.Command) (string, error) {
	file, _ := c.Flags().GetString("to-password-file")
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--to-password-file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func printMigrate(w io.Writer, path, to string, counts []registry.TableCount) {
	fmt.Fprintf(w, "copied %s to %s:\n", path, to)
	var total int64
	for _, tc := range counts {
		fmt.Fprintf(w, "  %-13s %7d\n", tc.Table, tc.Rows)
		total += tc.Rows
	}
	fmt.Fprintf(w, "  %-13s %7d rows\n", "total", total)
	key := filepath.Join(filepath.Dir(path), "secret.key")
	fmt.Fprintf(w, "The appliances on the new database need the old one's secret key, %s (or its --secret-key-file):\n"+
		"it seals the BMC passwords and build tokens copied. Give each the same key, then run: provision serve --database %s\n", key, to)
}
