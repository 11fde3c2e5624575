package registry

import (
	"context"
	"strings"
	"testing"
)

// The secrets UseKey seals or binds at every start are read through
// partial indexes, which a database of schema 7 gets when it is opened,
// on both backends: SQLite's plan for UseKey's queries uses them.
func TestSealIndexes(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			open := reopener(t, backend)
			st := open()
			for _, q := range []string{`DROP INDEX systems_bmc_plain`, `DROP INDEX systems_bmc_v1`, `DROP INDEX machines_bmc_plain`,
				`UPDATE meta SET value = 7 WHERE key = 'schema'`} {
				if _, err := st.db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			st.Close()
			st = open()
			defer st.Close()
			list := `SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name`
			if backend == "postgres" {
				list = `SELECT indexname FROM pg_indexes WHERE tablename IN ('systems', 'machines') ORDER BY indexname`
			}
			rows, err := st.db.QueryContext(ctx, list)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for rows.Next() {
				var n string
				rows.Scan(&n)
				names = append(names, n)
			}
			rows.Close()
			for _, want := range []string{"machines_bmc_plain", "systems_bmc_plain", "systems_bmc_v1"} {
				if !strings.Contains(strings.Join(names, " "), want) {
					t.Errorf("index %s missing after the migration: %v", want, names)
				}
			}
			if backend != "sqlite" {
				return
			}
			for q, index := range map[string]string{
				`SELECT name, bmc_password FROM systems WHERE bmc_password != '' AND bmc_password NOT LIKE 'enc:%'`: "systems_bmc_plain",
				`SELECT name, bmc_password, doc FROM systems WHERE bmc_password LIKE 'enc:v1:%'`:                    "systems_bmc_v1",
				`SELECT mac, bmc_password FROM machines WHERE bmc_password != '' AND bmc_password NOT LIKE 'enc:%'`: "machines_bmc_plain",
			} {
				var id, parent, unused int
				var plan string
				if err := st.db.QueryRowContext(ctx, `EXPLAIN QUERY PLAN `+q).Scan(&id, &parent, &unused, &plan); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(plan, index) {
					t.Errorf("%s: plan %q does not use %s", q, plan, index)
				}
			}
		})
	}
}
