package api

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/console"
)

// The splitter ends lines as the Ring does (\n, \r\n, a lone \r, also
// when \r and \n come in two reads), cuts one of MaxLine bytes, cleans
// each, and sends the line under way as partial only when asked.
func TestLineSplitter(t *testing.T) {
	var sp lineSplitter
	var got []ConsoleLine
	emit := func(l ConsoleLine) { got = append(got, l) }
	t0 := at(0)
	sp.write([]byte("Linux version 6.1\r"), t0, emit)
	sp.write([]byte("\nDeb"), at(1), emit)
	sp.write([]byte("ian \x1b[1minstaller\x1b[0m\n\na\rb\n"), at(2), emit)
	sp.write([]byte("login: "), at(3), emit)
	if due, ok := sp.due(); !ok || !due.Equal(at(3).Add(partialAfter)) {
		t.Errorf("due %v %v; want %v", due, ok, at(3).Add(partialAfter))
	}
	sp.flushPartial(at(4), emit)
	if _, ok := sp.due(); ok {
		t.Error("a line is under way after flushPartial")
	}
	sp.write([]byte("root\n"), at(5), emit)
	sp.write([]byte(strings.Repeat("x", console.MaxLine+3)+"\n"), at(6), emit)
	want := []ConsoleLine{
		{At: t0, Text: "Linux version 6.1"},
		{At: at(1), Text: "Debian installer"},
		{At: at(2), Text: ""},
		{At: at(2), Text: "a"},
		{At: at(2), Text: "b"},
		{At: at(3), Text: "login: ", Partial: true},
		{At: at(5), Text: "root"},
		{At: at(6), Text: strings.Repeat("x", console.MaxLine), Partial: true},
		{At: at(6), Text: "xxx"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
}

// The stream follows the console before it reads the recorded lines
// (none is lost between the two), sends the recorded lines since ?since=
// then the live ones as they come, a line not ended within partialAfter
// as partial, and ends when the console's channel closes.
func TestConsoleStream(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	f := &fakeConsole{
		live:     make(chan []byte),
		followed: make(chan string, 1),
		lines:    []console.Line{{At: now.Add(-2 * time.Hour), Text: []byte("old")}, {At: now.Add(-time.Minute), Text: []byte("booting")}},
	}
	srv, _ := consoleServer(t, f)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	got := make(chan ConsoleLine, 100)
	ended := make(chan error, 1)
	go func() {
		ended <- consoleClient(srv, "viewer").FollowConsole(ctx, "web001", "10m", func(l ConsoleLine) error {
			got <- l
			return nil
		})
	}()
	next := func() ConsoleLine {
		t.Helper()
		select {
		case l := <-got:
			return l
		case <-ctx.Done():
			t.Fatal("no line came")
			return ConsoleLine{}
		}
	}
	if sys := <-f.followed; sys != "web001" {
		t.Fatalf("followed %s", sys)
	}
	if l := next(); l.Text != "booting" || !l.At.Equal(now.Add(-time.Minute)) {
		t.Errorf("first line %+v; want the recorded booting", l)
	}
	f.live <- []byte("Linux version 6.1\r")
	f.live <- []byte("\n\x1b[2JDebian installer\n")
	for _, want := range []string{"Linux version 6.1", "Debian installer"} {
		if l := next(); l.Text != want || l.Partial {
			t.Errorf("line %+v; want %q, ended", l, want)
		}
	}
	sent := time.Now()
	f.live <- []byte("login: ")
	l := next()
	if waited := time.Since(sent); l.Text != "login: " || !l.Partial || waited < partialAfter-50*time.Millisecond || waited > 5*time.Second {
		t.Errorf("prompt %+v after %v; want login: as partial, after about %v", l, waited, partialAfter)
	}
	f.live <- []byte("root\n")
	if l := next(); l.Text != "root" || l.Partial {
		t.Errorf("the prompt's rest %+v; want root, ended", l)
	}
	close(f.live)
	if err := <-ended; err == nil || !strings.Contains(err.Error(), "web001's console stream: the server") {
		t.Errorf("FollowConsole after the console ended: %v", err)
	}
	if d := cmp.Diff([]string{"follow", "lines"}, f.calls); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
}

// The stream is Server-Sent Events: a comment naming the system first,
// then one "data: JSON" event per line; without ?since= no recorded line.
func TestConsoleStreamFraming(t *testing.T) {
	f := &fakeConsole{live: make(chan []byte, 1), lines: []console.Line{{At: at(0), Text: []byte("recorded")}}}
	f.live <- []byte("hello\n")
	close(f.live)
	srv, _ := consoleServer(t, f)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/api/v1/systems/web001/console/stream", nil)
	req.Header.Set("Authorization", "Bearer viewer")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", resp.Header)
	}
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 4 {
		t.Fatalf("stream %q", lines)
	}
	if lines[0] != ": provision console web001" || lines[1] != "" || !strings.HasPrefix(lines[2], `data: {"at":"`) ||
		!strings.HasSuffix(lines[2], `","text":"hello"}`) || lines[3] != "" {
		t.Errorf("stream %q", lines)
	}
}
