package registry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/kickstart"
)

// A profile of a disk image deploys it: its template is the built-in
// deploy unless it names another of kind deploy, its systems go through
// the install lifecycle, and the network boot of a build is the image's
// boot environment with the plan's URL and the rootfs it writes.
func TestDiskImageDeploys(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	img := diskImage("bookworm")
	img.Files["rootfs"] = File{SHA256: sha, Size: 300 << 20}
	img.Unpacked = 900 << 20
	must(t, func() error { _, err := r.AddImage(ctx, img); return err })
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "deb", Image: "bookworm", KernelArgs: "console=ttyS0"})
		return err
	})
	p, _ := r.Snapshot().Profile("deb")
	if p.Kickstart != DeployTemplate {
		t.Fatalf("profile deb's template is %q, want %s", p.Kickstart, DeployTemplate)
	}
	must(t, func() error {
		_, err := r.AddSystem(ctx, System{Name: "web01", MACs: []string{"aa:bb:cc:dd:ee:31"}, IP: "10.0.0.31", Profile: "deb", Netboot: true})
		return err
	})
	snap := r.Snapshot()
	sys, _ := snap.SystemByName("web01")
	if sys.Status != StatePending || sys.BuildToken == "" {
		t.Fatalf("web01 is %s, want pending with a token", sys.Status)
	}
	plan := snap.BootPlan(sys, time.Now())
	if !plan.Netboot || plan.Install == nil || plan.Install.Kind != kickstart.KindDeploy || plan.Image.Name != "bookworm" {
		t.Fatalf("plan %+v, want the deploy of bookworm", plan)
	}
	line, err := snap.KernelArgs(sys, plan, BootVia{Server: "http://10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	want := "console=ttyS0 provision.deploy=http://10.0.0.1/ks/" + string(sys.BuildToken) +
		" provision.image=bookworm provision.mac=aa:bb:cc:dd:ee:31 provision.rootfs.sha256=" + sha +
		" provision.rootfs.size=314572800 provision.rootfs.unpacked=943718400 provision.host=web01 provision.zone=dsas provision.server=http://10.0.0.1"
	if line != want {
		t.Errorf("kernel args\n got %s\nwant %s", line, want)
	}
	// Deployed: the disk boots, and the command line has no rootfs.
	must(t, func() error { _, err := r.BuildDone(ctx, string(sys.BuildToken), "test"); return err })
	snap = r.Snapshot()
	sys, _ = snap.SystemByName("web01")
	if plan := snap.BootPlan(sys, time.Now()); plan.Netboot || sys.Status != StateInstalled {
		t.Errorf("after done: %s, plan %+v, want installed and the local disk", sys.Status, plan)
	}
	if _, ok := (BootPlan{Image: snap.images["bookworm"]}).Rootfs(); ok {
		t.Error("a disk image's rootfs is on the command line without a deploy")
	}

	// Templates and images go together: deploy with disk images only.
	must(t, func() error {
		_, err := r.AddTemplate(ctx, kickstart.Template{Name: "mydeploy", Kind: kickstart.KindDeploy, Text: "configure() { :; }\n"})
		return err
	})
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "own", Image: "bookworm", Kickstart: "mydeploy"})
		return err
	})
	for _, tt := range []struct {
		name string
		p    Profile
		want string
	}{
		{"preseed on a disk image", Profile{Name: "x", Image: "bookworm", Kickstart: "debian12-preseed"},
			"profile x: image bookworm is a disk image, deployed by a template of kind deploy (such as deploy), not debian12-preseed of kind preseed"},
		{"deploy on an installer", Profile{Name: "x", Image: "centos", Kickstart: "deploy"},
			"profile x: template deploy deploys disk images, and image centos is install"},
		{"grub", Profile{Name: "x", Image: "bookworm", Loader: LoaderGRUB},
			"profile x: loader grub cannot boot disk image bookworm: its boot environment boots with loader ipxe only"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.AddProfile(ctx, tt.p)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalid with %q", err, tt.want)
			}
		})
	}
	centos, _ := r.Snapshot().Image("centos")
	toDisk := *centos
	toDisk.Kind, toDisk.Files, toDisk.Disk = KindDisk, img.Files, img.Disk
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "debian12-preseed"})
		return err
	})
	if _, err := r.EditImage(ctx, "centos", toDisk); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "image centos: profile inst: image centos is a disk image") {
		t.Errorf("an installer made a disk image under a preseed profile: %v", err)
	}
}
