package dnsconf

import (
	"bytes"
	"net/http"
	"time"

	"github.com/provision/provision/dnsconf/tinydns"
)

// EncodeCDB writes the zone's records as a tinydns data.cdb, readable by
// tinydns, tinycdb and zonecfg.
func EncodeCDB(z *Zone) ([]byte, error) {
	rrs := z.Records()
	recs := make([]tinydns.Record, 0, len(rrs))
	for _, rr := range rrs {
		rec, err := tinydns.FromRR(rr)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	var buf bytes.Buffer
	if err := tinydns.WriteCDB(&buf, recs); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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
	data, built, err := z.CDB()
	if err != nil {
		http.Error(w, "encoding data.cdb: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "data.cdb", built, bytes.NewReader(data))
}

// CDB returns the zone as data.cdb (EncodeCDB), encoded once, and when.
func (z *Zone) CDB() ([]byte, time.Time, error) {
	z.cdb.once.Do(func() {
		z.cdb.data, z.cdb.err = EncodeCDB(z)
		z.cdb.at = time.Now()
	})
	return z.cdb.data, z.cdb.at, z.cdb.err
}
