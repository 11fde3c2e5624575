package registry

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/provision/provision/internal/seal"
	"github.com/provision/provision/kickstart"
)

// manySystems is an import document of n systems (more than one batch
// statement holds) of every shape a batch writes: two MACs, a BMC with
// a password, an interface with its own address, a build under way
// (profile inst installs), settings.
func manySystems(n int) []byte {
	var doc strings.Builder
	doc.WriteString("subnets:\n  - {name: big, cidr: 172.16.0.0/12, gateway: 172.16.0.1}\nsystems:\n")
	for i := range n {
		macs := `"` + benchMAC(i) + `"`
		if i%3 == 2 {
			macs += `, "` + benchMAC(i+n) + `"`
		}
		fmt.Fprintf(&doc, "  - name: h%06d\n    macs: [%s]\n    ip: %s\n    profile: %s\n    settings: {k: v%d}\n",
			i, macs, benchIP(i), []string{"web", "inst"}[i%2], i)
		switch i % 3 {
		case 1:
			fmt.Fprintf(&doc, "    bmc: {address: %s, user: admin, password: pw%d}\n", benchIP(i+n), i)
		case 2:
			fmt.Fprintf(&doc, "    interfaces:\n      - {name: eth0, mac: \"%s\", primary: true}\n      - {name: eth1, mac: \"%s\", ip: %s}\n",
				benchMAC(i), benchMAC(i+n), benchIP(i+2*n))
		}
	}
	return []byte(doc.String())
}

// openInstall is openTest with profile inst, whose template installs.
func openInstall(t *testing.T) (*Registry, string) {
	t.Helper()
	r, path := openTest(t)
	ctx := context.Background()
	must(t, func() error {
		_, err := r.AddTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "#!/bin/sh\n# {{.System.Name}}\n"})
		return err
	})
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "inst"})
		return err
	})
	return r, path
}

// importOps are the ops the import of doc makes on r, stamped as commit
// stamps them.
func importOps(t *testing.T, r *Registry, doc []byte) []Op {
	t.Helper()
	var d Document
	if err := yaml.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	_, ops, err := prepare(context.Background(), r.Snapshot(), func(n *Snapshot) ([]Op, error) {
		imp := importer{now: r.now()}
		imp.run(n, &d, nil)
		if len(imp.errs) > 0 {
			return nil, imp.errs
		}
		return imp.ops, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ops {
		ops[i].Audit.At, ops[i].Audit.By = importAt, "test"
	}
	return ops
}

const importAt = "2026-12-07T12:00:00Z"

// commitOneByOne commits ops as Commit did before batches: each op's
// statements, then its BMC password and secrets sealed for it.
func commitOneByOne(t *testing.T, st *SQLStore, ops []Op) {
	t.Helper()
	ctx := context.Background()
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var serial uint64
	if err := tx.QueryRowContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'serial' RETURNING value`).Scan(&serial); err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if err := applyOp(ctx, tx, op, st.seal, serial); err != nil {
			t.Fatal(err)
		}
		if err := st.bindBMC(ctx, tx, op); err != nil {
			t.Fatal(err)
		}
		if err := st.bindSecrets(ctx, tx, op); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// dump is every row of the tables a system is stored in, each value
// with its Go type (a BLOB and a TEXT differ).
func dump(t *testing.T, st *SQLStore) []string {
	t.Helper()
	var out []string
	for _, table := range []string{"systems", "macs", "addresses", "builds", "inspections", "object_secrets", "history"} {
		where := ""
		if table == "history" { // the import's, not those of openInstall's changes (their times differ)
			where = ` WHERE at = '` + importAt + `'`
		}
		rows, err := st.db.QueryContext(context.Background(), `SELECT * FROM `+table+where+` ORDER BY 1, 2`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := table
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = "bytes:" + string(b)
				}
				row += fmt.Sprintf(" %T:%v", v, v)
			}
			out = append(out, row)
		}
		rows.Close()
	}
	return out
}

// TestBatchWritesWhatOpsWrite: the ops of an import of 2,000 systems of
// every shape, committed by Commit (in batches), leave the same rows as
// the same ops written one by one, whether the actor the rows share is
// written into the statements or, not being plain text, bound.
func TestBatchWritesWhatOpsWrite(t *testing.T) {
	for _, by := range []string{"test", `o'brien?\x`, strings.Repeat("a", 65)} {
		t.Run(by, func(t *testing.T) {
			batched, _ := openInstall(t)
			single, _ := openInstall(t)
			ops := importOps(t, batched, manySystems(2000))
			for i := range ops {
				ops[i].Audit.By, ops[i].Audit.From = by, "[::1]:80"
			}
			if _, err := batched.store.Commit(context.Background(), batched.Snapshot().Serial, ops); err != nil {
				t.Fatal(err)
			}
			commitOneByOne(t, single.store.(*SQLStore), ops)
			got, want := dump(t, batched.store.(*SQLStore)), dump(t, single.store.(*SQLStore))
			if len(want) < 2000*4 {
				t.Fatalf("only %d rows written", len(want))
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("rows differ (-one by one +batched):\n%s", d)
			}
		})
	}
}

// TestSharedLiteral: only a number or a short plain text every row
// shares is written into a batch statement.
func TestSharedLiteral(t *testing.T) {
	for _, tc := range []struct {
		rows [][]any
		want string
	}{
		{[][]any{{int64(7)}, {int64(7)}}, "7"},
		{[][]any{{"add"}, {"add"}}, "'add'"},
		{[][]any{{""}, {""}}, "''"},
		{[][]any{{"2026-12-07T12:00:00Z"}, {"2026-12-07T12:00:00Z"}}, "'2026-12-07T12:00:00Z'"},
		{[][]any{{"a"}, {"b"}}, ""},
		{[][]any{{"a"}, {int64(1)}}, ""},
		{[][]any{{int64(1)}, {"1"}}, ""},
		{[][]any{{"it's"}, {"it's"}}, ""},
		{[][]any{{"a?"}, {"a?"}}, ""},
		{[][]any{{`a\`}, {`a\`}}, ""},
		{[][]any{{"a\x00"}, {"a\x00"}}, ""},
		{[][]any{{strings.Repeat("a", 65)}, {strings.Repeat("a", 65)}}, ""},
		{[][]any{{[]byte("a")}, {[]byte("a")}}, ""},
	} {
		if got := sharedLiteral(tc.rows, 0); got != tc.want {
			t.Errorf("sharedLiteral(%q) = %q, want %q", tc.rows, got, tc.want)
		}
	}
}

// TestImportManySealed: 2,000 systems imported on a store with a key come
// back from the database as they went in, BMC passwords and build tokens
// too, in one commit whose history has a record per system.
func TestImportManySealed(t *testing.T) {
	ctx := context.Background()
	again, base, got := importReadBack(t, manySystems(2000))
	for _, s := range []string{"password: pw1\n", "build_token: "} {
		if !strings.Contains(string(got), s) {
			t.Fatalf("read back without %q", s)
		}
	}
	var n int
	st := again.store.(*SQLStore)
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM history WHERE kind = 'system' AND serial = ?`, int64(base+1)).Scan(&n); err != nil || n != 2000 {
		t.Fatalf("%d history records of systems at the import's serial (%v), want 2000", n, err)
	}
}

// importReadBack imports doc in one commit into a registry on disk with
// sealed secrets, reopens it, and checks that it reads back as it was in
// memory: the reopened registry, the serial before the import, and its
// export with secrets.
func importReadBack(t *testing.T, doc []byte) (again *Registry, base uint64, export []byte) {
	t.Helper()
	r, path := openInstall(t)
	r.Close()
	key, _ := seal.Create(filepath.Join(t.TempDir(), "key"))
	r, err := sealedRegistry(t, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	base = r.Snapshot().Serial
	if _, err := r.Import(context.Background(), doc, false); err != nil {
		t.Fatal(err)
	}
	if r.Snapshot().Serial != base+1 {
		t.Fatalf("serial %d after the import, want %d: one commit", r.Snapshot().Serial, base+1)
	}
	want, _ := r.Snapshot().Export(true)
	r.Close()
	again, err = sealedRegistry(t, path, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	got, _ := again.Snapshot().Export(true)
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Fatalf("the registry read back differs (-imported +read):\n%s", d)
	}
	return again, base, got
}

// TestImportAllOrNothing: an import refused by the database half-way (a
// MAC the registry did not know of, written behind its back) writes
// nothing: no system, no history.
func TestImportAllOrNothing(t *testing.T) {
	ctx := context.Background()
	r, _ := openInstall(t)
	st := r.store.(*SQLStore)
	var before int
	st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM history`).Scan(&before)
	for _, q := range []string{`INSERT INTO systems VALUES ('ghost', 'ghost.dsas', 'web', '', '{}')`, `INSERT INTO macs VALUES ('` + benchMAC(1500) + `', 'ghost')`} {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_, err := r.Import(ctx, manySystems(2000), false)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "refused by the database") {
		t.Fatalf("import over a MAC in the database: %v, want the database's conflict", err)
	}
	var systems, after int
	st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM systems`).Scan(&systems)
	st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM history`).Scan(&after)
	if systems != 1 || after != before {
		t.Fatalf("after a refused import: %d systems (want ghost alone), %d history records (want %d)", systems, after, before)
	}
}
