package registry

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/provision/provision/internal/pgtest"
	"github.com/provision/provision/kickstart"
)

// An appliance that follows another's commits one by one (catchUp, from
// the serials on history rows) ends every step with the Snapshot a full
// load gives, secrets included, and says what changed as the writer's
// own Snapshot does; it never falls back to loading everything.
func TestCatchUpMatchesAFullLoad(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	a, b := openPostgresRegistry(t, url), openPostgresRegistry(t, url)
	type step struct {
		name string
		do   func() error
	}
	web1 := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	web1.BMC = &BMC{Address: "10.0.1.11", User: "admin", Password: "s3cret"}
	steps := []step{
		{"subnets", func() error {
			if _, err := a.AddSubnet(ctx, Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1", Pool: "10.0.0.200-10.0.0.250"}); err != nil {
				return err
			}
			_, err := a.AddSubnet(ctx, Subnet{Name: "mgmt", CIDR: "10.0.1.0/24"})
			return err
		}},
		{"image", func() error {
			_, err := a.AddImage(ctx, Image{Name: "centos", Kind: KindInstall, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}})
			return err
		}},
		{"template", func() error {
			_, err := a.AddTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "#!/bin/sh\ndisk={{.Settings.disk}}\nwget {{.URLs.Done}}\n"})
			return err
		}},
		{"profiles", func() error {
			if _, err := a.AddProfile(ctx, Profile{Name: "web", Image: "centos"}); err != nil {
				return err
			}
			_, err := a.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "inst", Settings: map[string]string{"disk": "vda"}})
			return err
		}},
		{"systems", func() error {
			if _, err := a.AddSystem(ctx, web1); err != nil {
				return err
			}
			if _, err := a.AddSystem(ctx, instSys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12")); err != nil {
				return err
			}
			_, err := a.AddSystem(ctx, sys("web003", "aa:bb:cc:dd:ee:03", "10.0.0.13"))
			return err
		}},
		{"rename", func() error {
			_, err := a.EditSystem(ctx, "web003", sys("web103", "aa:bb:cc:dd:ee:03", "10.0.0.13"))
			return err
		}},
		{"the address of a removed system, taken by another", func() error {
			if err := a.RemoveSystem(ctx, "web103"); err != nil {
				return err
			}
			_, err := a.EditSystem(ctx, "web001", func() System { s := web1; s.IP = "10.0.0.13"; return s }())
			return err
		}},
		{"build done", func() error {
			s, _ := a.Snapshot().SystemByName("web002")
			_, err := a.BuildDone(ctx, string(s.BuildToken), "ok")
			return err
		}},
		{"settings and records", func() error {
			if _, err := a.SetSetting(ctx, "lvs.vrid", "100"); err != nil {
				return err
			}
			if _, err := a.SetSetting(ctx, "ntp", "10.0.0.2"); err != nil {
				return err
			}
			_, err := a.AddRecords(ctx, []string{"mail.dsas. 3600 IN A 10.0.0.25", "www.dsas. 300 IN CNAME web001.dsas."}, false)
			return err
		}},
		{"secret settings: global (one moved from an ordinary one), a profile's, a system's", func() error {
			if _, err := a.SetSecretSetting(ctx, "root.password-hash", "g-hash"); err != nil {
				return err
			}
			if _, err := a.SetSecretSetting(ctx, "lvs.vrid", "moved"); err != nil {
				return err
			}
			p, _ := a.Snapshot().Profile("inst")
			pc := *p
			pc.SecretSettings = SecretSettings{"user.password-hash": "p-hash"}
			if _, err := a.EditProfile(ctx, "inst", pc); err != nil {
				return err
			}
			s, _ := a.Snapshot().SystemByName("web001")
			sc := s.Clone()
			sc.SecretSettings = SecretSettings{"root.password-hash": "s-hash"}
			_, err := a.EditSystem(ctx, "web001", sc)
			return err
		}},
		{"unset, remove a record, edit the template and a subnet", func() error {
			if err := a.UnsetSetting(ctx, "ntp"); err != nil {
				return err
			}
			if err := a.RemoveRecord(ctx, "mail.dsas. 3600 IN A 10.0.0.25"); err != nil {
				return err
			}
			if _, err := a.EditTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "#!/bin/sh\ndisk={{.Settings.disk}} # v2\nwget {{.URLs.Done}}\n"}); err != nil {
				return err
			}
			_, err := a.EditSubnet(ctx, "lan", Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.254"})
			return err
		}},
		{"a discovery rule, edited, and an inspection asked", func() error {
			x := Rule{Name: "tor-a12", Match: `lldp.switch == "tor-a12"`, Hostname: "a12-{{ .LLDP.PortNumber }}", Profile: "web"}
			if err := a.AddRule(ctx, x); err != nil {
				return err
			}
			x.Priority, x.Subnet = 5, "lan"
			if err := a.EditRule(ctx, "tor-a12", x); err != nil {
				return err
			}
			_, err := a.StartInspect(ctx, "web001")
			return err
		}},
		{"an import of many", func() error {
			var y bytes.Buffer
			y.WriteString("systems:\n")
			for i := range 20 {
				fmt.Fprintf(&y, "  - {name: db%02d, macs: [\"02:00:00:00:00:%02x\"], ip: 10.0.0.%d, profile: web}\n", i, i, 100+i)
			}
			_, err := a.Import(ctx, y.Bytes(), false)
			return err
		}},
		{"remove a profile's last user and the profile", func() error {
			if err := a.RemoveSystem(ctx, "web002"); err != nil {
				return err
			}
			return a.RemoveProfile(ctx, "inst")
		}},
	}
	for _, st := range steps {
		before, aBefore := b.Snapshot(), a.Snapshot()
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		b.mu.Lock()
		err := b.catchUpLocked(ctx)
		b.mu.Unlock()
		if err != nil {
			t.Fatalf("%s: catchUp: %v", st.name, err)
		}
		got := b.Snapshot()
		if got.Serial != a.Snapshot().Serial {
			t.Fatalf("%s: the follower is at serial %d, the writer at %d", st.name, got.Serial, a.Snapshot().Serial)
		}
		full := openPostgresRegistry(t, url).Snapshot()
		gotY, err := got.Export(true)
		if err != nil {
			t.Fatal(err)
		}
		wantY, _ := full.Export(true)
		if !bytes.Equal(gotY, wantY) {
			t.Fatalf("%s: the followed Snapshot differs from a full load:\n--- followed\n%s\n--- loaded\n%s", st.name, gotY, wantY)
		}
		sameIndexes(t, st.name, got, full)
		ch, ok := got.ChangedSince(before)
		wantCh, _ := a.Snapshot().ChangedSince(aBefore)
		if !ok || fmt.Sprint(ch) != fmt.Sprint(wantCh) {
			t.Errorf("%s: the follower says %v changed (%v), the writer %v", st.name, ch, ok, wantCh)
		}
	}
}

// sameIndexes checks that every index of got holds what full's does.
func sameIndexes(t *testing.T, step string, got, full *Snapshot) {
	t.Helper()
	for _, pair := range []struct {
		name      string
		got, want int
	}{
		{"systems", got.systems.Len(), full.systems.Len()}, {"MACs", got.byMAC.Len(), full.byMAC.Len()},
		{"IPs", got.byIP.Len(), full.byIP.Len()}, {"ids", got.byID.Len(), full.byID.Len()},
		{"BMCs", got.byBMC.Len(), full.byBMC.Len()}, {"hostnames", got.byHostname.Len(), full.byHostname.Len()},
		{"build tokens", got.byToken.Len(), full.byToken.Len()},
		{"inspections", got.byInspect.Len(), full.byInspect.Len()}, {"rules", len(got.rules), len(full.rules)},
	} {
		if pair.got != pair.want {
			t.Errorf("%s: the follower indexes %d %s, a full load %d", step, pair.got, pair.name, pair.want)
		}
	}
	for ip, s := range full.byIP.All() {
		if g, ok := got.byIP.Get(ip); !ok || g.Name != s.Name {
			t.Errorf("%s: the follower has %v for %v, a full load %s", step, g, ip, s.Name)
		}
	}
	for mac, s := range full.byMAC.All() {
		if g, ok := got.byMAC.Get(mac); !ok || g.Name != s.Name {
			t.Errorf("%s: the follower has %v for a MAC of %s", step, g, s.Name)
		}
	}
}
