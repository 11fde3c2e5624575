package registry

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/access"
)

// streamedDoc is manySystems with enough systems for the import to write
// them while it checks them (a document of splitMin bytes or more).
func streamedDoc(t *testing.T) ([]byte, int) {
	t.Helper()
	n := 9 * chunkEntries
	doc := manySystems(n)
	if len(doc) < splitMin {
		t.Fatalf("the document is %d bytes, under %d: not written ahead", len(doc), splitMin)
	}
	return doc, n
}

// TestImportStreamed: a large import, written while it is checked, reads
// back from the database as the registry has it in memory (BMC passwords
// and build tokens sealed), in one commit whose history holds the
// subnet's record and then one per system, in the document's order.
func TestImportStreamed(t *testing.T) {
	ctx := context.Background()
	doc, n := streamedDoc(t)
	again, base, _ := importReadBack(t, doc)
	rows, err := again.store.(*SQLStore).db.QueryContext(ctx, `SELECT kind, name, at FROM history WHERE serial = ? ORDER BY id`, int64(base+1))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	ats := map[string]bool{}
	for rows.Next() {
		var kind, name, at string
		if err := rows.Scan(&kind, &name, &at); err != nil {
			t.Fatal(err)
		}
		names = append(names, kind+" "+name)
		ats[at] = true
	}
	wantNames := []string{"subnet big"}
	for i := range n {
		wantNames = append(wantNames, fmt.Sprintf("system h%06d", i))
	}
	if d := cmp.Diff(wantNames, names); d != "" {
		t.Fatalf("history of the import (-want +got):\n%s", d)
	}
	if len(ats) != 1 {
		t.Fatalf("the import's history has %d times, want one", len(ats))
	}
}

// TestImportStreamedFails: a large import that fails after some of its
// systems were written (a later system's check, a chunk that does not
// decode, the database's refusal, the principal's scopes) leaves the
// database and the registry as they were, and takes the next write.
func TestImportStreamedFails(t *testing.T) {
	doc, _ := streamedDoc(t)
	lateN := 85 * chunkEntries / 10 // in the last chunk
	late := fmt.Sprintf("h%06d", lateN)
	tests := []struct {
		name  string
		doc   string
		ghost bool // a MAC of a late system written behind the registry's back
		scope bool // imported by a principal scoped to a site
		want  string
	}{
		{name: "late conflict", doc: strings.Replace(string(doc), "ip: "+benchIP(lateN)+"\n", "ip: "+benchIP(3)+"\n", 1), want: "system h000003"},
		{name: "late entry does not decode", doc: strings.Replace(string(doc), "  - name: "+late+"\n", "  - nmae: "+late+"\n", 1), want: "field nmae not found"},
		{name: "database refuses", doc: string(doc), ghost: true, want: "refused by the database"},
		{name: "principal's scopes", doc: string(doc), scope: true, want: "subnet big"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r, _ := openInstall(t)
			st := r.store.(*SQLStore)
			if tt.ghost {
				for _, q := range []string{`INSERT INTO systems VALUES ('ghost', 'ghost.dsas', 'web', '', '{}')`, `INSERT INTO macs VALUES ('` + benchMAC(lateN) + `', 'ghost')`} {
					if _, err := st.db.ExecContext(ctx, q); err != nil {
						t.Fatal(err)
					}
				}
			}
			before := tableCounts(t, st)
			snap := r.Snapshot()
			ictx := ctx
			if tt.scope {
				ictx = scoped(t, "alice", access.Admin, "site=tokyo")
			}
			_, err := r.Import(ictx, []byte(tt.doc), false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("import: %v, want an error with %q", err, tt.want)
			}
			if d := cmp.Diff(before, tableCounts(t, st)); d != "" {
				t.Fatalf("rows after the failed import (-before +after):\n%s", d)
			}
			if r.Snapshot() != snap {
				t.Fatal("the registry changed")
			}
			if _, err := r.AddSystem(ctx, System{Name: "next", MACs: []string{"02:ff:00:00:00:01"}, IP: "10.0.0.9", Profile: "web"}); err != nil {
				t.Fatalf("the write after the failed import: %v", err)
			}
		})
	}
}

// tableCounts counts the rows of the tables an import writes, and reads
// the serial.
func tableCounts(t *testing.T, st *SQLStore) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"systems", "macs", "addresses", "builds", "object_secrets", "subnets", "history", "outbox"} {
		var n int
		if err := st.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	var serial int
	if err := st.db.QueryRowContext(context.Background(), `SELECT value FROM meta WHERE key = 'serial'`).Scan(&serial); err != nil {
		t.Fatal(err)
	}
	out["serial"] = serial
	return out
}
