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

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newImage() *cobra.Command {
	c := &cobra.Command{Use: "image", Short: "Manage OS images (kernel, initrd, root filesystem)"}
	add := &cobra.Command{
		Use:   "add NAME --kernel FILE --initrd FILE [--rootfs FILE] [--kind install|diskless]",
		Short: "Upload an image's files to the appliance and register it",
		Long: `Upload an image's files to the appliance's image store (content-addressed by
sha256; a file already there is not stored twice) and register the image.
An image with --rootfs is diskless unless --kind says otherwise. A progress
bar is shown on a terminal.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			img, err := imageFromFlags(c, a[0])
			if err != nil {
				return err
			}
			return client(c).Do(ctx(c), "POST", api.Path("images"), img, nil)
		},
	}
	f := add.Flags()
	f.String("kernel", "", "kernel file (required)")
	f.String("initrd", "", "initrd file (required)")
	f.String("rootfs", "", "root filesystem archive of a diskless role")
	f.String("kind", "", "install or diskless (default: diskless with --rootfs, else install)")
	add.MarkFlagRequired("kernel")
	add.MarkFlagRequired("initrd")
	c.AddCommand(add)
	kindCmds(c, "image", "images", func(w io.Writer, items []json.RawMessage) {
		row(w, "NAME", "KIND", "FILES")
		for _, raw := range items {
			var img registry.Image
			json.Unmarshal(raw, &img)
			var files []string
			for _, role := range slices.Sorted(maps.Keys(img.Files)) {
				files = append(files, fmt.Sprintf("%s(%s)", role, humanSize(img.Files[role].Size)))
			}
			row(w, img.Name, img.Kind, strings.Join(files, " "))
		}
	})
	return c
}

func imageFromFlags(c *cobra.Command, name string) (registry.Image, error) {
	f := c.Flags()
	img := registry.Image{Name: name, Files: map[string]registry.File{}}
	img.Kind, _ = f.GetString("kind")
	for _, role := range []string{"kernel", "initrd", "rootfs"} {
		path, _ := f.GetString(role)
		if path == "" {
			continue
		}
		if role == "rootfs" && img.Kind == "" {
			img.Kind = registry.KindDiskless
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

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
