package mirror

import (
	"io/fs"
	"slices"
	"strings"
	"time"
)

// found is a file New finds in Dir.
type found struct {
	key   string
	e     entry
	mtime time.Time
}

// rebuild accounts what Dir holds, least recently used (oldest mtime)
// first, so that the bound evicts the oldest; it removes temporary files
// a crash left behind.
func (d *disk) rebuild() error {
	var files []found
	err := fs.WalkDir(d.root.FS(), ".", func(key string, de fs.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		if strings.HasPrefix(key, tempPrefix) {
			return d.root.Remove(key)
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		files = append(files, found{key, entry{archiveOfKey(key), fi.Size()}, fi.ModTime()})
		return nil
	})
	slices.SortFunc(files, func(a, b found) int { return a.mtime.Compare(b.mtime) })
	for _, f := range files {
		d.add(f.key, f.e)
	}
	return err
}

// archiveOfKey is the archive a key belongs to: NAME/PATH or
// .index/NAME/HASH.
func archiveOfKey(key string) string {
	key = strings.TrimPrefix(key, indexDir+"/")
	name, _, _ := strings.Cut(key, "/")
	return name
}
