package httpserve

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// readerFromWriter is a ResponseWriter with ReadFrom, as net/http's own is
// (its ReadFrom is where sendfile happens).
type readerFromWriter struct {
	*httptest.ResponseRecorder
	readFrom int
	fail     error
}

func (w *readerFromWriter) ReadFrom(r io.Reader) (int64, error) {
	w.readFrom++
	n, err := io.Copy(w.ResponseRecorder, r)
	if w.fail != nil {
		return n, w.fail
	}
	return n, err
}

func TestRecorderPassesReadFrom(t *testing.T) {
	inner := &readerFromWriter{ResponseRecorder: httptest.NewRecorder()}
	rec := &Recorder{ResponseWriter: inner}
	n, err := io.Copy(rec, io.LimitReader(strings.NewReader(strings.Repeat("x", 5000)), 4096))
	if err != nil || n != 4096 || inner.readFrom != 1 || rec.Bytes() != 4096 || rec.Status() != 200 {
		t.Errorf("copied %d (%v), ReadFrom called %d times, recorded %d bytes, status %d", n, err, inner.readFrom, rec.Bytes(), rec.Status())
	}
	if http.NewResponseController(rec).Flush() != nil {
		t.Error("ResponseController cannot reach the writer through Unwrap")
	}
}

func TestRecorderNotesFirstError(t *testing.T) {
	broken := errors.New("broken pipe")
	inner := &readerFromWriter{ResponseRecorder: httptest.NewRecorder(), fail: broken}
	rec := &Recorder{ResponseWriter: inner}
	rec.WriteHeader(http.StatusPartialContent)
	rec.ReadFrom(strings.NewReader("abc"))
	rec.ReadFrom(strings.NewReader("de"))
	if rec.Err() != broken || rec.Bytes() != 5 || rec.Status() != 206 {
		t.Errorf("err %v, bytes %d, status %d", rec.Err(), rec.Bytes(), rec.Status())
	}
}
