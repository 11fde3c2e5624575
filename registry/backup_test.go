package registry

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/internal/pgtest"
)

// CopyTo gives a SQLite file that opens as the same registry, from either
// backend: the same export (secrets too), serial, epoch and instance (so
// the same SOA serials and data.cdb ETags), history and events.
func TestCopyTo(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var st *SQLStore
			var err error
			if backend == "sqlite" {
				st, err = OpenSQLite(ctx, filepath.Join(t.TempDir(), "r.db"))
			} else {
				st, err = OpenPostgres(ctx, pgtest.DB(t))
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := Open(ctx, st, "dsas")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			must(t, func() error {
				_, err := r.AddSubnet(ctx, Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1"})
				return err
			})
			must(t, func() error {
				_, err := r.AddImage(ctx, Image{Name: "centos", Kind: KindInstall, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}})
				return err
			})
			must(t, func() error { _, err := r.AddProfile(ctx, Profile{Name: "web", Image: "centos"}); return err })
			web := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
			web.BMC = &BMC{Address: "10.0.1.11", User: "admin", Password: "s3cret"}
			must(t, func() error { _, err := r.AddSystem(ctx, web); return err })
			must(t, func() error { _, err := r.SetSetting(ctx, "lvs.vrid", "100"); return err })
			id, _ := r.Snapshot().SystemID("web001")
			must(t, func() error {
				return st.AppendEvents(ctx, []Event{{System: "web001", SystemID: id, Kind: "dhcp", Detail: "ack 10.0.0.11"}}, 100)
			})

			path := filepath.Join(t.TempDir(), "copy.db")
			if err := st.CopyTo(ctx, path); err != nil {
				t.Fatal(err)
			}
			if err := st.CopyTo(ctx, path); err == nil || !strings.Contains(err.Error(), "exists") {
				t.Errorf("a copy onto an existing file: %v", err)
			}
			cst, err := OpenSQLite(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Open(ctx, cst, "dsas")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a, b := r.Snapshot(), c.Snapshot()
			wantY, _ := a.Export(true)
			gotY, _ := b.Export(true)
			if !bytes.Equal(gotY, wantY) || a.Serial != b.Serial || a.Epoch != b.Epoch || a.Instance != b.Instance {
				t.Fatalf("the copy: serial %d epoch %d instance %s, want %d %d %s\n%s\nwant\n%s", b.Serial, b.Epoch, b.Instance, a.Serial, a.Epoch, a.Instance, gotY, wantY)
			}
			evs, err := cst.Events(ctx, id, 10)
			if err != nil || len(evs) != 1 || evs[0].Detail != "ack 10.0.0.11" {
				t.Errorf("the copy's events: %v %v", evs, err)
			}
			h, _ := c.History(ctx, "web001", 10)
			if len(h) != 1 || h[0].Op != "add" {
				t.Errorf("the copy's history of web001: %+v", h)
			}
		})
	}
}
