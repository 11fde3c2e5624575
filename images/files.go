package images

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
)

// file serves /images/<image>/<role> and /images/<image>/SHA256SUMS. The
// names in the URL are only keys into the host data: the blob is opened by
// the digest registered for them, never by a path built from the URL.
func (b *bootHandler) file(w http.ResponseWriter, r *http.Request, ev *BootEvent) {
	if h, ok := b.hosts.HostByIP(ev.Client); ok {
		ev.Host, ev.MAC = h.Name, h.MAC
	}
	image, role := r.PathValue("image"), r.PathValue("file")
	files, ok := b.hosts.ImageFiles(image)
	if !ok {
		fail(w, r, ev, fmt.Errorf("image %q: %w", image, ErrUnknownImage))
		return
	}
	if role == KindSums {
		ev.Kind = KindSums
		b.sums(w, r, ev, files)
		return
	}
	digest, ok := files[role]
	if !ok {
		fail(w, r, ev, fmt.Errorf("image %q, file %q: %w", image, role, ErrUnknownFile))
		return
	}
	ev.Kind = role
	b.blob(w, r, ev, digest)
}

// blob sends a stored file with http.ServeContent: Range (RFC 9110 §14),
// If-None-Match against the sha256 as a strong ETag, and Last-Modified
// (the time the blob was stored).
func (b *bootHandler) blob(w http.ResponseWriter, r *http.Request, ev *BootEvent, digest string) {
	f, err := b.blobs.Open(digest)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("blob %s is registered but not stored: %w", digest, err)
		}
		failCode(w, r, ev, http.StatusInternalServerError, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		failCode(w, r, ev, http.StatusInternalServerError, fmt.Errorf("blob %s: %w", digest, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+digest+`"`)
	h.Set("Cache-Control", "no-cache") // the URL can point at new content: revalidate
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// sums sends the image's files in sha256sum(1) format, sorted by role.
func (b *bootHandler) sums(w http.ResponseWriter, r *http.Request, ev *BootEvent, files map[string]string) {
	body, err := sha256Sums(files)
	if err != nil {
		failCode(w, r, ev, http.StatusInternalServerError, err)
		return
	}
	sum := sha256.Sum256(body)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// sha256Sums writes "HEX  ROLE" lines. A role or digest that would break
// the format (or a path when checked) is refused.
func sha256Sums(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	for _, role := range slices.Sorted(maps.Keys(files)) {
		d := files[role]
		if !validDigest(d) {
			return nil, fmt.Errorf("file %q: digest %q is not lower-case sha256 hex: %w", role, d, ErrBadArgs)
		}
		if role == "" || role == "." || role == ".." || strings.ContainsFunc(role, badNameRune) {
			return nil, fmt.Errorf("file role %q cannot be a file name: %w", role, ErrBadArgs)
		}
		fmt.Fprintf(&buf, "%s  %s\n", d, role)
	}
	return buf.Bytes(), nil
}

func badNameRune(r rune) bool {
	return r == '/' || r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r)
}
