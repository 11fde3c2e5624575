package dnsconf

import (
	"io"
	"net/http"
	"time"
)

// EncodeCDB returns the zone's records as a tinydns data.cdb, readable by
// tinydns, tinycdb and zonecfg.
func EncodeCDB(z *Zone) ([]byte, error) {
	f, _, err := z.dataCDB()
	if err != nil {
		return nil, err
	}
	return f.bytes(), nil
}

// CDBHandler serves the zone being served by s as data.cdb, with ETag =
// the database's identity and the zone serial (304 on a match). Each zone
// is encoded once (Zone.CDB), in the background as soon as Run has built
// it, so a request rarely waits for it.
func CDBHandler(s *Server) http.Handler {
	return &cdbHandler{srv: s}
}

type cdbHandler struct{ srv *Server }

func (h *cdbHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	z := h.srv.Zone()
	if z == nil {
		http.Error(w, "no zone yet", http.StatusServiceUnavailable)
		return
	}
	etag := z.ETag()
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if d := h.srv.disk.Load(); d != nil && d.etag == etag && !z.cdb.done.Load() {
		// The zone's own is being put together: the same bytes, kept
		// on disk by the run before this one.
		http.ServeContent(w, r, "data.cdb", d.at, io.NewSectionReader(d.f, 0, d.size))
		return
	}
	f, built, err := z.dataCDB()
	if err != nil {
		http.Error(w, "encoding data.cdb: "+err.Error(), http.StatusInternalServerError)
		return
	}
	http.ServeContent(w, r, "data.cdb", built, f.reader())
}

// dataCDB returns the zone as data.cdb, put together once, and when.
func (z *Zone) dataCDB() (*cdbFile, time.Time, error) {
	z.cdb.once.Do(func() {
		z.cdb.file, z.cdb.err = z.encodeCDB()
		z.cdb.at = time.Now()
		z.cdb.done.Store(true)
	})
	return z.cdb.file, z.cdb.at, z.cdb.err
}
