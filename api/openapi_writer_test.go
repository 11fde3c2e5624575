package api

import (
	"bytes"
	"net/http"
)

// checkWriter passes an answer through and keeps a copy to check. A
// stream (Server-Sent Events) is checked at its first flush: its head only.
type checkWriter struct {
	http.ResponseWriter
	status  int
	body    bytes.Buffer
	wrote   bool
	checked bool
	onFlush func()
}

func (w *checkWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *checkWriter) Write(b []byte) (int, error) {
	w.wrote = true
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *checkWriter) Flush() {
	if !w.checked {
		w.onFlush()
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (w *checkWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
