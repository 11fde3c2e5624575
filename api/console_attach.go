package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/provision/provision/console"
	"github.com/provision/provision/registry"
)

// attachGrace is how long an attach waits for Attach to refuse (another
// operator attached, too many sessions, no BMC) before it answers 200:
// the answer's head goes out at the console's first byte or then, and an
// error after it can only end the stream (ConsoleErrorTrailer).
const attachGrace = 200 * time.Millisecond

// ConsoleErrorTrailer is the trailer of an attach's answer that says why
// the console ended, when it ended on an error after the answer began.
const ConsoleErrorTrailer = "X-Console-Error"

// attachConsole connects the caller to a system's console, full duplex
// on one HTTP/1.1 request: the request's body is what the operator
// types, the answer's (application/octet-stream, flushed as bytes come)
// the console's raw bytes, control sequences included. It ends when the
// body ends (the client detached), the client leaves, or the session
// stops. Who attached and when they detached go in the system's history.
func (s *server) attachConsole(w http.ResponseWriter, r *http.Request) {
	system, ok := s.consoleSystem(w, r)
	if !ok {
		return
	}
	if st, ok := s.Console.Status(system); ok && st.Attached {
		consoleFail(w, system, console.ErrAttached)
		return
	}
	rc := http.NewResponseController(w)
	if err := rc.EnableFullDuplex(); err != nil && !errors.Is(err, http.ErrNotSupported) { // HTTP/2 is full duplex anyway
		writeError(w, http.StatusInternalServerError, system+"'s console: "+err.Error())
		return
	}
	rc.SetReadDeadline(time.Time{}) // typing has no deadline (the server's ReadTimeout is for uploads)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Trailer", ConsoleErrorTrailer)
	out := &attachWriter{w: w, rc: rc, first: make(chan struct{})}
	done := make(chan error, 1)
	typed := &eofReader{r: r.Body}
	go func() { done <- s.Console.Attach(r.Context(), system, typed, out) }()
	grace := time.NewTimer(attachGrace)
	defer grace.Stop()
	var err error
	ended := false
	select {
	case err = <-done:
		ended = true
	case <-grace.C:
	case <-out.first:
	}
	if ended && err != nil && out.refuse() {
		consoleFail(w, system, err)
		return
	}
	out.start()
	history := context.WithoutCancel(r.Context()) // noted after the client left too
	s.noteConsole(history, system, "attached by "+registry.ActorOf(r.Context()).Name)
	if !ended {
		err = <-done
	}
	out.refuse()
	detail := "detached"
	if err != nil && r.Context().Err() == nil {
		h.Set(ConsoleErrorTrailer, system+"'s console: "+err.Error())
		detail += ": " + err.Error()
	}
	s.noteConsole(history, system, detail)
	if !typed.ended.Load() {
		// The answer is whole: net/http would wait for the rest of the
		// body, which the client may never send. The connection closes.
		rc.SetReadDeadline(time.Now())
	}
}

// eofReader is a request's body that tells whether it was read to its
// end (the connection may then serve another request).
type eofReader struct {
	r     io.Reader
	ended atomic.Bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.ended.Store(true)
	}
	return n, err
}

// noteConsole puts an attach or detach in the system's history.
func (s *server) noteConsole(ctx context.Context, system, detail string) {
	if err := s.Registry.Note(ctx, registry.ObjSystem, system, "console", detail); err != nil {
		s.Log.Warn("history of a console attach", "system", system, "err", err)
	}
}

// attachWriter is the answer of an attach as Attach writes the console
// to it: it begins the answer at the first byte, flushes each write, and
// refuses writes once the handler is done with the answer.
type attachWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	first   chan struct{} // closed at the first write
	mu      sync.Mutex
	started bool
	done    bool
}

var errAttachDone = errors.New("the attach's answer is complete")

func (a *attachWriter) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return 0, errAttachDone
	}
	a.startLocked()
	n, err := a.w.Write(p)
	if err == nil {
		err = a.rc.Flush()
	}
	return n, err
}

// start begins the answer (200), if no write did.
func (a *attachWriter) start() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.startLocked()
}

func (a *attachWriter) startLocked() {
	if a.started {
		return
	}
	a.started = true
	close(a.first)
	a.w.WriteHeader(http.StatusOK)
	a.rc.Flush()
}

// refuse ends the writes; it reports whether the answer had not begun
// (an error can still be answered with its status).
func (a *attachWriter) refuse() (unstarted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done = true
	return !a.started
}
