package labtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/lab"
)

// env returns a new Env whose Close runs when t ends; then, if t has
// failed, the transcript of each process it started is logged. Its
// context is not t.Context(): that ends before any cleanup runs, which
// would stop every process at once instead of in cleanup order.
func env(t testing.TB) *lab.Env {
	t.Helper()
	e, err := lab.New(context.Background(), lab.Options{Log: logWriter{t}, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
		if !t.Failed() {
			return
		}
		for _, p := range e.Procs() {
			t.Logf("lab: %s (%s) printed:\n%s", p.Label, strings.Join(p.Args, " "), p.Timed())
		}
	})
	return e
}

// check ends t on err: a missing prerequisite skips it, or fails it
// under CI=true (testenv.Missing); any other error fails it.
func check(t testing.TB, err error) {
	t.Helper()
	var m *lab.MissingError
	switch {
	case errors.As(err, &m):
		testenv.Missing(t, m.Error())
	case err != nil:
		t.Fatal(err)
	}
}

// logWriter is the Env's log: each write is a line of t's log.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
