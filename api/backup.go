package api

import (
	"fmt"
	"net/http"
)

// countWriter counts what reaches the client, to tell an error before the
// archive began (an error answer) from one in its middle (a cut stream).
type countWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// backup answers POST /api/v1/backup[?secrets=1] with the appliance's
// whole state as a tar archive (package backup). It is a POST, so it
// needs the admin token even without secrets: the archive holds every
// sealed secret and all history. An error in the middle cuts the stream:
// the archive then lacks its manifest, and restore refuses it.
func (s *server) backup(w http.ResponseWriter, r *http.Request) {
	if s.Backup == nil {
		writeError(w, http.StatusNotFound, "this server makes no backups")
		return
	}
	secrets := wantSecrets(r)
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", `attachment; filename="provision-backup.tar"`)
	cw := &countWriter{ResponseWriter: w}
	if err := s.Backup(r.Context(), cw, secrets); err != nil {
		if s.Log != nil {
			s.Log.Error("backup failed", "err", err, "bytes_sent", cw.n)
		}
		if cw.n == 0 {
			w.Header().Del("Content-Disposition")
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("backup: %v", err))
			return
		}
		panic(http.ErrAbortHandler) // cut the stream: the client must not take it for a whole archive
	}
}
