package dnsconf

import (
	"bytes"
	"net/http"
	"sync"
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
// the zone serial (304 on a match). The file is encoded once per serial,
// on the first request that needs it.
func CDBHandler(s *Server) http.Handler {
	return &cdbHandler{srv: s}
}

type cdbHandler struct {
	srv    *Server
	mu     sync.Mutex
	serial uint64
	data   []byte
	built  time.Time
}

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
	data, built, err := h.encoded(z)
	if err != nil {
		http.Error(w, "encoding data.cdb: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "data.cdb", built, bytes.NewReader(data))
}

func (h *cdbHandler) encoded(z *Zone) ([]byte, time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.data != nil && h.serial == z.Serial() {
		return h.data, h.built, nil
	}
	data, err := EncodeCDB(z)
	if err != nil {
		return nil, time.Time{}, err
	}
	h.serial, h.data, h.built = z.Serial(), data, time.Now()
	return data, h.built, nil
}
