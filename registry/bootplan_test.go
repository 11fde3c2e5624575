package registry

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The boot plan follows the netboot flag and the state: a build under
// way boots its installer until its deadline, a diskless system its
// image, anything else its local disk, saying why.
func TestBootPlan(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "rhel9-kickstart", Loader: LoaderPXELinux})
		return err
	})
	add := func(name, mac, ip, profile string, netboot bool) {
		s := sys(name, mac, ip)
		s.Profile, s.Netboot = profile, netboot
		must(t, func() error { _, err := r.AddSystem(ctx, s); return err })
	}
	add("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11", "web", true)
	add("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12", "web", false)
	add("inst01", "aa:bb:cc:dd:ee:03", "10.0.0.13", "inst", true)
	add("inst02", "aa:bb:cc:dd:ee:04", "10.0.0.14", "inst", true)
	must(t, func() error {
		s, _ := r.Snapshot().SystemByName("inst02")
		if _, err := r.BuildDone(ctx, string(s.BuildToken), "done"); err != nil {
			return err
		}
		s, _ = r.Snapshot().SystemByName("inst02")
		on := s.Clone()
		on.Netboot = true
		_, err := r.EditSystem(ctx, "inst02", on)
		return err
	})
	snap := r.Snapshot()
	inst01, _ := snap.SystemByName("inst01")
	deadline, _ := time.Parse(time.RFC3339, inst01.Deadline)
	centos, _ := snap.Image("centos")
	now := time.Now()
	for _, tt := range []struct {
		system string
		at     time.Time
		want   BootPlan
	}{
		{"web001", now, BootPlan{Netboot: true, Loader: LoaderIPXE, Image: centos}},
		{"web002", now, BootPlan{Loader: LoaderIPXE, Image: centos}},
		{"inst01", now, BootPlan{Netboot: true, Loader: LoaderPXELinux, Image: centos, Install: &Install{Kind: "kickstart", Token: inst01.BuildToken}}},
		{"inst01", deadline, BootPlan{Reason: "past-its-build-deadline", Loader: LoaderPXELinux, Image: centos}},
		{"inst02", now, BootPlan{Reason: StateInstalled, Loader: LoaderPXELinux, Image: centos}},
	} {
		s, _ := snap.SystemByName(tt.system)
		if diff := cmp.Diff(tt.want, snap.BootPlan(s, tt.at)); diff != "" {
			t.Errorf("%s at %v (-want +got):\n%s", tt.system, tt.at, diff)
		}
	}
}

// The kernel command line of each kind of boot, and what only the boot
// can get wrong: the server's URL, and arguments stored before they were
// checked, which the registry still opens.
func TestKernelArgs(t *testing.T) {
	r, path := openTest(t)
	ctx := context.Background()
	live := Image{Name: "live", Kind: KindDiskless, Unpacked: 7, Files: map[string]File{
		"kernel": {SHA256: sha}, "initrd": {SHA256: sha}, "rootfs": {SHA256: sha, Size: 42}}}
	must(t, func() error { _, err := r.AddImage(ctx, live); return err })
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "live", Image: "live", KernelArgs: " console=ttyS0  "})
		return err
	})
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "debian12-preseed", KernelArgs: "a"})
		return err
	})
	for _, s := range []System{
		{Name: "live01", MACs: []string{"aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"}, IP: "10.0.0.11", Profile: "live", Netboot: true, KernelArgs: "b"},
		{Name: "inst01", MACs: []string{"aa:bb:cc:dd:ee:03"}, IP: "10.0.0.13", Profile: "inst", Netboot: true},
		{Name: "web001", MACs: []string{"aa:bb:cc:dd:ee:04"}, IP: "10.0.0.14", Profile: "web", Netboot: true},
	} {
		must(t, func() error { _, err := r.AddSystem(ctx, s); return err })
	}
	snap := r.Snapshot()
	get := func(name string) *System { s, _ := snap.SystemByName(name); return s }
	tok := string(get("inst01").BuildToken)
	mac2, _ := net.ParseMAC("aa:bb:cc:dd:ee:02")
	const srv = "http://10.0.0.1"
	for _, tt := range []struct {
		name, system string
		via          BootVia
		want         string
	}{
		{"plain", "web001", BootVia{Server: srv}, "provision.host=web001 provision.zone=dsas provision.server=" + srv},
		{"iPXE's initrd", "web001", BootVia{Server: srv, Initrd: "initrd"}, "initrd=initrd provision.host=web001 provision.zone=dsas provision.server=" + srv},
		{"diskless, first MAC", "live01", BootVia{Server: srv}, "console=ttyS0 b provision.image=live provision.mac=aa:bb:cc:dd:ee:01 provision.rootfs.sha256=" + sha +
			" provision.rootfs.size=42 provision.rootfs.unpacked=7 provision.host=live01 provision.zone=dsas provision.server=" + srv},
		{"diskless, booting MAC", "live01", BootVia{Server: srv, MAC: mac2}, "console=ttyS0 b provision.image=live provision.mac=aa:bb:cc:dd:ee:02 provision.rootfs.sha256=" + sha +
			" provision.rootfs.size=42 provision.rootfs.unpacked=7 provision.host=live01 provision.zone=dsas provision.server=" + srv},
		{"installer", "inst01", BootVia{Server: srv}, "a auto=true priority=critical url=" + srv + "/ks/" + tok + " provision.ks=" + srv + "/ks/" + tok +
			" provision.host=inst01 provision.zone=dsas provision.server=" + srv},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := get(tt.system)
			got, err := snap.KernelArgs(s, snap.BootPlan(s, time.Now()), tt.via)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
	web := get("web001")
	plan := snap.BootPlan(web, time.Now())
	if _, err := snap.KernelArgs(web, plan, BootVia{Server: "http://a b"}); err == nil || err.Error() != "system web001: kernel command line: server: white space at byte 8" {
		t.Errorf("a server with a space: %v", err)
	}
	if _, err := snap.KernelArgs(web, plan, BootVia{Server: "http://" + strings.Repeat("x", MaxCmdline)}); err == nil ||
		err.Error() != "system web001: kernel command line is 2113 bytes, Linux takes 2047" {
		t.Errorf("a long server: %v", err)
	}

	// Arguments stored before the rule: the registry opens them, and the
	// boot refuses them naming their profile.
	p, _ := snap.Profile("web")
	bad := *p
	bad.KernelArgs = "quiet\nshell"
	if _, err := r.store.Commit(ctx, r.Snapshot().Serial, []Op{op(ObjProfile, "web", p, &bad, "web", "edit")}); err != nil {
		t.Fatal(err)
	}
	old := reopen(t, path).Snapshot()
	web, _ = old.SystemByName("web001")
	if _, err := old.KernelArgs(web, old.BootPlan(web, time.Now()), BootVia{Server: srv}); !errors.Is(err, ErrInvalid) ||
		err.Error() != "profile web: kernel args: control character U+000A at byte 5" {
		t.Errorf("stored bad arguments: %v", err)
	}
	if got := old.OperatorArgs(web); got != "quiet\nshell" {
		t.Errorf("OperatorArgs = %q", got)
	}
}

// A diskless image boots with loader ipxe only: a profile that would boot
// one with pxelinux or GRUB is refused, whichever of the two is written
// last, naming the profile, the loader and the image.
func TestDisklessNeedsIPXE(t *testing.T) {
	r, path := openTest(t)
	ctx := context.Background()
	live := Image{Name: "live", Kind: KindDiskless, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}, "rootfs": {SHA256: sha}}}
	must(t, func() error { _, err := r.AddImage(ctx, live); return err })
	must(t, func() error { _, err := r.AddProfile(ctx, Profile{Name: "boot", Image: "live"}); return err })
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "pxe", Image: "centos", Loader: LoaderPXELinux})
		return err
	})
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "sb", Image: "centos", Loader: LoaderGRUB, SecureBoot: true})
		return err
	})
	centos, _ := r.Snapshot().Image("centos")
	asDiskless := *centos
	asDiskless.Kind, asDiskless.Files = KindDiskless, map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}, "rootfs": {SHA256: sha}}
	doc := func(s string) func() error {
		return func() error { _, err := r.Import(ctx, []byte(s), false); return err }
	}
	for _, tt := range []struct {
		name  string
		write func() error
		want  string
	}{
		{"profile add, pxelinux", func() error {
			_, err := r.AddProfile(ctx, Profile{Name: "p", Image: "live", Loader: LoaderPXELinux})
			return err
		}, "profile p: loader pxelinux cannot boot diskless image live: its boot environment boots with loader ipxe only"},
		{"profile add, grub", func() error {
			_, err := r.AddProfile(ctx, Profile{Name: "p", Image: "live", Loader: LoaderGRUB})
			return err
		}, "profile p: loader grub cannot boot diskless image live: its boot environment boots with loader ipxe only"},
		{"profile edit, loader", func() error {
			_, err := r.EditProfile(ctx, "boot", Profile{Name: "boot", Image: "live", Loader: LoaderGRUB})
			return err
		}, "profile boot: loader grub cannot boot diskless image live: its boot environment boots with loader ipxe only"},
		{"profile edit, image", func() error {
			_, err := r.EditProfile(ctx, "pxe", Profile{Name: "pxe", Image: "live", Loader: LoaderPXELinux})
			return err
		}, "profile pxe: loader pxelinux cannot boot diskless image live: its boot environment boots with loader ipxe only"},
		{"image made diskless", func() error { _, err := r.EditImage(ctx, "centos", asDiskless); return err },
			"image centos: diskless, but profile pxe boots it with loader pxelinux: its boot environment boots with loader ipxe only"},
		{"import, image made diskless", doc("images:\n- name: centos\n  kind: diskless\n  files:\n" +
			"    kernel: {sha256: " + sha + "}\n    initrd: {sha256: " + sha + "}\n    rootfs: {sha256: " + sha + "}\n"),
			"image centos: diskless, but profile pxe boots it with loader pxelinux: its boot environment boots with loader ipxe only"},
		{"import, profile", doc("profiles:\n- {name: boot, image: live, loader: pxelinux}\n"),
			"profile boot: loader pxelinux cannot boot diskless image live: its boot environment boots with loader ipxe only"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			serial := r.Snapshot().Serial
			err := tt.write()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrInvalid with %q", err, tt.want)
			}
			if r.Snapshot().Serial != serial {
				t.Errorf("something was written")
			}
		})
	}
	back := reopen(t, path).Snapshot()
	img, _ := back.Image("centos")
	boot, _ := back.Profile("boot")
	pxe, _ := back.Profile("pxe")
	if _, p := back.Profile("p"); p || img.Kind != KindInstall || boot.Loader != "" || pxe.Image != "centos" {
		t.Errorf("stored: profile p %v, image centos %s, profile boot's loader %q, profile pxe's image %s", p, img.Kind, boot.Loader, pxe.Image)
	}
	// Both sides at once, in one import: the profiles are checked as the
	// document leaves them.
	if _, err := r.Import(ctx, []byte("images:\n- name: centos\n  kind: diskless\n  files:\n"+
		"    kernel: {sha256: "+sha+"}\n    initrd: {sha256: "+sha+"}\n    rootfs: {sha256: "+sha+"}\n"+
		"profiles:\n- {name: pxe, image: centos}\n- {name: sb, image: live}\n"), false); err != nil {
		t.Errorf("an import that moves the image's profiles to iPXE: %v", err)
	}
}
