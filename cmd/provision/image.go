package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/provision/provision/api"
	"github.com/provision/provision/bootenv"
	"github.com/provision/provision/internal/human"
	"github.com/provision/provision/registry"
)

func newImage() *cobra.Command {
	c := &cobra.Command{Use: "image", Short: "Manage OS images (kernel, initrd, root filesystem)"}
	add := &cobra.Command{
		Use:   "add NAME (--kernel FILE --initrd FILE | [--kind diskless|disk] --kernel-package DEB --rootfs ROOT.tar.gz|.tar.zst)",
		Short: "Upload an image's files to the appliance and register it",
		Long: `Upload an image's files to the appliance's image store (content-addressed by
sha256; a file already there is not stored twice) and register the image.
An image with --rootfs is diskless unless --kind says otherwise.

An install image boots an installer: --kernel and --initrd. A diskless
image boots a role into memory: its --rootfs (a tar archive, plain or
gzip, zstd or xz compressed) and either --kernel-package, a Debian kernel
package from which the appliance builds the kernel and the boot environment
(initrd; --kernel takes the package too), or your own --kernel and --initrd. The appliance checks the
rootfs (every member stays inside the root) and measures it for the tmpfs.

A disk image (--kind disk) is deployed to the machines' disks by the
profiles that boot it, and boots from there with its own kernel and GRUB:
its --rootfs must hold /boot/vmlinuz-VERSION with /boot/initrd.img-VERSION,
/usr/sbin/grub-install and GRUB for BIOS (/usr/lib/grub/i386-pc) or UEFI
(/usr/lib/grub/x86_64-efi; Secure Boot with shim and the signed GRUB), as
"image build --kind disk" makes. Its --kernel-package is required: the
appliance builds from it the boot environment that runs the deployer, with
sfdisk, wipefs, blkid, blockdev, mkfs.ext4, mkfs.vfat, mdadm and zstd
copied from the appliance's machine. "image show" names the kernel and the
boot loaders found.
A progress bar is shown on a terminal.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			img, err := imageFromFlags(c, a[0])
			if err != nil {
				return err
			}
			return addImage(c, img)
		},
	}
	imageFlags(add)
	c.AddCommand(add)
	edit := &cobra.Command{
		Use:   "edit NAME [--kernel-package FILE] [--rootfs FILE] [--kernel FILE] [--initrd FILE]",
		Short: "Replace some of an image's files",
		Long: `Upload new files for an image and keep the others. A diskless or disk image
with a kernel package gets its kernel and boot environment rebuilt (a disk
image's rootfs is checked again).`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var old registry.Image
			if err := client(c).Do(ctx(c), "GET", api.Path("images", a[0]), nil, &old); err != nil {
				return err
			}
			img, err := imageFromFlags(c, a[0])
			if err != nil {
				return err
			}
			if img.Kind == "" {
				img.Kind = old.Kind
			}
			for role, f := range old.Files {
				if _, ok := img.Files[role]; !ok {
					img.Files[role] = f // the appliance rebuilds kernel and initrd from a kernel package
				}
			}
			return clientWaiting(c, imageAnswer).Do(ctx(c), "PUT", api.Path("images", a[0]), img, nil)
		},
	}
	imageFlags(edit)
	c.AddCommand(edit)
	c.AddCommand(newImageBuild())
	kindCmds(c, "image", "images", func(w io.Writer, items []json.RawMessage, _ bool) {
		row(w, "NAME", "KIND", "FILES")
		for _, raw := range items {
			var img registry.Image
			json.Unmarshal(raw, &img)
			var files []string
			for _, role := range slices.Sorted(maps.Keys(img.Files)) {
				files = append(files, fmt.Sprintf("%s(%s)", role, human.Size(img.Files[role].Size)))
			}
			row(w, img.Name, img.Kind, strings.Join(files, " "))
		}
	})
	return c
}

func imageFlags(c *cobra.Command) {
	f := c.Flags()
	f.String("kernel", "", "kernel file (for a diskless or disk image, a Debian kernel package works too: see --kernel-package)")
	f.String("initrd", "", "initrd file")
	f.String("rootfs", "", "root filesystem archive of a diskless role or a disk image (.tar, .tar.gz, .tar.zst, .tar.xz)")
	f.String("kernel-package", "", "Debian kernel package (.deb) of a diskless or disk image: the appliance builds its kernel and boot environment")
	f.String("kind", "", "install, diskless or disk (default: diskless with --rootfs, else install)")
}

// imageRoles are the files an image may have, in upload order.
var imageRoles = []string{"kernel", "initrd", "rootfs", "kernel-package"}

// imageFromFlags uploads the files that add or edit name and returns the
// image.
func imageFromFlags(c *cobra.Command, name string) (registry.Image, error) {
	f := c.Flags()
	kind, _ := f.GetString("kind")
	paths := map[string]string{}
	for _, role := range imageRoles {
		if p, _ := f.GetString(role); p != "" {
			paths[role] = p
		}
	}
	return imageFromPaths(c, name, kind, paths, c.Name() == "add")
}

// imageFromPaths uploads the files of paths (role to file) and returns the
// image; complete says all the image's files are there (add, build).
func imageFromPaths(c *cobra.Command, name, kind string, paths map[string]string, complete bool) (registry.Image, error) {
	img := registry.Image{Name: name, Kind: kind, Files: map[string]registry.File{}}
	if img.Kind == "" && paths["rootfs"] != "" {
		img.Kind = registry.KindDiskless
	}
	// A diskless or disk image's --kernel may be the Debian kernel package itself.
	if k := paths["kernel"]; (img.Kind == registry.KindDiskless || img.Kind == registry.KindDisk) && paths["kernel-package"] == "" && bootenv.IsDeb(k) {
		paths["kernel-package"] = k
		delete(paths, "kernel")
	}
	if complete && img.Kind == registry.KindDisk && (paths["kernel-package"] == "" || paths["rootfs"] == "") {
		return img, usage(fmt.Errorf("image %s: a disk image needs --rootfs and --kernel-package", name))
	}
	if complete && paths["kernel-package"] == "" && (paths["kernel"] == "" || paths["initrd"] == "") {
		return img, usage(fmt.Errorf("image %s: give --kernel and --initrd, or --kernel-package for a diskless image", name))
	}
	for _, role := range imageRoles {
		path, ok := paths[role]
		if !ok {
			continue
		}
		ref, err := upload(c, role, path)
		if err != nil {
			return img, err
		}
		img.Files[role] = registry.File{SHA256: ref.SHA256, Size: ref.Size}
	}
	return img, nil
}

// upload streams one file to the image store.
func upload(c *cobra.Command, role, path string) (api.BlobRef, error) {
	var ref api.BlobRef
	fh, err := os.Open(path)
	if err != nil {
		return ref, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return ref, err
	}
	if !st.Mode().IsRegular() {
		return ref, fmt.Errorf("%s %s is not a regular file", role, path)
	}
	var body io.Reader = fh
	if term.IsTerminal(int(os.Stderr.Fd())) {
		bar := progressbar.DefaultBytes(st.Size(), fmt.Sprintf("%s %s", role, filepath.Base(path)))
		defer bar.Finish()
		r := progressbar.NewReader(fh, bar)
		body = &r
	}
	err = client(c).Raw(ctx(c), "PUT", api.Path("blobs"), "application/octet-stream", body, st.Size(), &ref)
	return ref, err
}

// imageAnswer is how long image add and edit wait for the appliance: a
// diskless image's boot environment is built before it answers.
const imageAnswer = 10 * time.Minute

// addImage registers an image whose files are uploaded, and says so.
func addImage(c *cobra.Command, img registry.Image) error {
	var out registry.Image
	if err := clientWaiting(c, imageAnswer).Do(ctx(c), "POST", api.Path("images"), img, &out); err != nil {
		return err
	}
	var size int64
	for _, f := range out.Files {
		size += f.Size
	}
	confirm(c, "image %s added (%s, %d files, %s)", out.Name, out.Kind, len(out.Files), human.Size(size))
	return nil
}
