package bind

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/provision/provision/images"
)

// TFTPImages serves the kernel and initrd of the registry's images over
// TFTP (for GRUB, which has no HTTP) as the HTTP boot handler does: the
// files of the current Snapshot's image, from the image store
// (tftp.Config's Images).
type TFTPImages struct {
	Files images.Hosts
	Blobs images.Blobs
}

// OpenImageFile opens the file of image in role (kernel or initrd).
func (i TFTPImages) OpenImageFile(image, role string) (*os.File, error) {
	files, ok := i.Files.ImageFiles(image)
	if !ok {
		return nil, fmt.Errorf("no image %s: %w", image, fs.ErrNotExist)
	}
	sha, ok := files[role]
	if !ok {
		return nil, fmt.Errorf("image %s has no %s: %w", image, role, fs.ErrNotExist)
	}
	f, err := i.Blobs.Open(sha)
	if err != nil {
		return nil, fmt.Errorf("image %s: %s %s: %w", image, role, sha, err)
	}
	return f, nil
}
