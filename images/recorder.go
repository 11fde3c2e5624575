package images

import (
	"io"
	"net/http"
)

// recorder is a ResponseWriter that notes the status, the body bytes and
// the first write error. It passes io.ReaderFrom through, so that
// http.ServeContent still reaches the connection's sendfile(2).
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
	err   error
}

func (w *recorder) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	w.started()
	n, err := w.ResponseWriter.Write(p)
	w.note(int64(n), err)
	return n, err
}

func (w *recorder) ReadFrom(r io.Reader) (int64, error) {
	w.started()
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, r)
	}
	w.note(n, err)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) started() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
}

func (w *recorder) note(n int64, err error) {
	w.bytes += n
	if err != nil && w.err == nil {
		w.err = err
	}
}

// status is the status sent; 200 when the handler wrote nothing at all.
func (w *recorder) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// writerOnly hides a Writer's other methods, so io.Copy cannot loop back
// into recorder.ReadFrom.
type writerOnly struct{ io.Writer }
