package images

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
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
// (the time the blob was stored). A small file is read once and then
// served from memory (see blobCache).
func (b *bootHandler) blob(w http.ResponseWriter, r *http.Request, ev *BootEvent, digest string) {
	if sb := b.small.get(digest); sb != nil {
		sb.serve(w, r)
		return
	}
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
	if fi.Mode().IsRegular() && fi.Size() <= smallBlobMax {
		data := make([]byte, fi.Size())
		if _, err := io.ReadFull(f, data); err != nil {
			failCode(w, r, ev, http.StatusInternalServerError, fmt.Errorf("blob %s: %w", digest, err))
			return
		}
		b.small.put(digest, newSmallBlob(digest, data, fi.ModTime())).serve(w, r)
		return
	}
	blobHeader(w.Header(), digest)
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

func blobHeader(h http.Header, digest string) {
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+digest+`"`)
	h.Set("Cache-Control", "no-cache") // the URL can point at new content: revalidate
}

// Small blobs: a file up to smallBlobMax is kept in memory once read, up
// to smallCacheMax bytes of them. A blob never changes (its name is its
// sha256, and the store writes it once), so what is kept stays right:
// every machine of a profile fetches the same kernel, initrd and files.
const (
	smallBlobMax  = 64 << 10
	smallCacheMax = 64 << 20
)

type smallBlob struct {
	data    []byte
	modTime time.Time
	// Header values, made once; never changed, as http.Header.Set and
	// Del replace or drop a value rather than write into it.
	etag, length, lastModified []string
}

func newSmallBlob(digest string, data []byte, modTime time.Time) *smallBlob {
	sb := &smallBlob{data: data, modTime: modTime, etag: []string{`"` + digest + `"`}, length: []string{strconv.Itoa(len(data))}}
	if !isZeroTime(modTime) {
		sb.lastModified = []string{modTime.UTC().Format(http.TimeFormat)}
	}
	return sb
}

// serve answers as http.ServeContent with the blob's header would: a
// plain GET or HEAD (without Range or a condition) straight, anything
// else through ServeContent.
func (sb *smallBlob) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = octetStream
	h["Etag"] = sb.etag
	h["Cache-Control"] = noCache
	if !plainGet(r) {
		http.ServeContent(w, r, "", sb.modTime, bytes.NewReader(sb.data))
		return
	}
	if sb.lastModified != nil {
		h["Last-Modified"] = sb.lastModified
	}
	h["Accept-Ranges"] = acceptRanges
	h["Content-Length"] = sb.length
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(sb.data)
	}
}

var (
	octetStream  = []string{"application/octet-stream"}
	noCache      = []string{"no-cache"}
	acceptRanges = []string{"bytes"}
)

// plainGet: a GET or HEAD that ServeContent answers 200 with the whole body.
func plainGet(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	for _, k := range []string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	return true
}

// isZeroTime is net/http's: the zero time or the Unix epoch, which
// ServeContent sends no Last-Modified for.
func isZeroTime(t time.Time) bool { return t.IsZero() || t.Equal(time.Unix(0, 0)) }

type blobCache struct {
	mu    sync.RWMutex
	blobs map[string]*smallBlob
	size  int
}

func (c *blobCache) get(digest string) *smallBlob {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.blobs[digest]
}

// put keeps sb unless the cache is full, and returns it.
func (c *blobCache) put(digest string, sb *smallBlob) *smallBlob {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blobs == nil {
		c.blobs = map[string]*smallBlob{}
	}
	if _, ok := c.blobs[digest]; !ok && c.size+len(sb.data) <= smallCacheMax {
		c.blobs[digest] = sb
		c.size += len(sb.data)
	}
	return sb
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
