package httpserve

import (
	"io"
	"net/http"
)

// Recorder is a ResponseWriter that notes the status, the body bytes and
// the first write error of a response, for a handler's log line or event:
//
//	rec := &httpserve.Recorder{ResponseWriter: w}
//	h.ServeHTTP(rec, r)
//	log(rec.Status(), rec.Bytes(), rec.Err())
//
// It passes io.ReaderFrom through, so that http.ServeContent still
// reaches the connection's sendfile(2), and Unwrap, for
// http.ResponseController.
type Recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
	err   error
}

func (w *Recorder) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *Recorder) Write(p []byte) (int, error) {
	w.started()
	n, err := w.ResponseWriter.Write(p)
	w.note(int64(n), err)
	return n, err
}

func (w *Recorder) ReadFrom(r io.Reader) (int64, error) {
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
func (w *Recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *Recorder) started() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
}

func (w *Recorder) note(n int64, err error) {
	w.bytes += n
	if err != nil && w.err == nil {
		w.err = err
	}
}

// Status is the status sent; 200 when the handler wrote nothing at all.
func (w *Recorder) Status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Bytes is the count of body bytes written.
func (w *Recorder) Bytes() int64 { return w.bytes }

// Err is the first write error (the client went away); nil if none.
func (w *Recorder) Err() error { return w.err }

// writerOnly hides a Writer's other methods, so io.Copy cannot loop back
// into Recorder.ReadFrom.
type writerOnly struct{ io.Writer }
