package lab

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Transcript collects what a process prints (a VM's serial console, a
// server's log) as lines that tests wait on. It drops terminal escape
// sequences and control characters, which iPXE and SeaBIOS's serial console
// print, so patterns see plain text. It is safe for concurrent use.
type Transcript struct {
	mu      sync.Mutex
	start   time.Time
	lines   []string
	at      []time.Duration // when each line ended, since start
	partial []byte          // raw bytes after the last newline
	ended   error           // why the writer stopped, once it has
	changed chan struct{}   // closed and replaced on every change
}

func newTranscript() *Transcript {
	return &Transcript{start: time.Now(), changed: make(chan struct{})}
}

// Write appends output; it never fails.
func (tr *Transcript) Write(p []byte) (int, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, b := range p {
		if b == '\n' {
			tr.lines = append(tr.lines, cleanLine(tr.partial))
			tr.at = append(tr.at, time.Since(tr.start))
			tr.partial = tr.partial[:0]
			continue
		}
		tr.partial = append(tr.partial, b)
	}
	tr.notify()
	return len(p), nil
}

// end records that the writer stopped, with the reason WaitFor reports.
func (tr *Transcript) end(reason error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.ended = reason
	tr.notify()
}

func (tr *Transcript) notify() {
	close(tr.changed)
	tr.changed = make(chan struct{})
}

// WaitFor returns the first complete line, from the start of the
// transcript, that re matches, waiting up to timeout for it to be printed.
// A line counts once its newline has come, so a pattern never sees half a
// line. It fails early when the writer has stopped.
func (tr *Transcript) WaitFor(re *regexp.Regexp, timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		line, found, ended, changed := tr.match(re)
		switch {
		case found:
			return line, nil
		case ended != nil:
			return "", fmt.Errorf("no line matches %q: %w", re, ended)
		}
		select {
		case <-changed:
		case <-deadline.C:
			return "", fmt.Errorf("no line matches %q after %v", re, timeout)
		}
	}
}

func (tr *Transcript) match(re *regexp.Regexp) (line string, found bool, ended error, changed <-chan struct{}) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, l := range tr.lines {
		if re.MatchString(l) {
			return l, true, nil, nil
		}
	}
	return "", false, tr.ended, tr.changed
}

// Lines returns the complete lines so far.
func (tr *Transcript) Lines() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.lines...)
}

// When returns when the first line matching re ended (was printed whole),
// and whether there is one.
func (tr *Transcript) When(re *regexp.Regexp) (time.Time, bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for i, l := range tr.lines {
		if re.MatchString(l) {
			return tr.start.Add(tr.at[i]), true
		}
	}
	return time.Time{}, false
}

// String returns the whole transcript.
func (tr *Transcript) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var b strings.Builder
	for _, l := range tr.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString(cleanLine(tr.partial))
	return b.String()
}

// Timed returns the whole transcript with each line prefixed by when it
// was printed, in seconds since the process started: "[ 12.3s] text".
func (tr *Transcript) Timed() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var b strings.Builder
	for i, l := range tr.lines {
		fmt.Fprintf(&b, "[%5.1fs] %s\n", tr.at[i].Seconds(), l)
	}
	if len(tr.partial) > 0 {
		fmt.Fprintf(&b, "[  ...  ] %s", cleanLine(tr.partial))
	}
	return b.String()
}

// cleanLine drops ANSI escape sequences (ESC [ params final, or ESC and one
// byte), carriage returns and other control characters except tab.
func cleanLine(raw []byte) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == 0x1b && i+1 < len(raw) && raw[i+1] == '[':
			i += 2
			for i < len(raw) && (raw[i] < 0x40 || raw[i] > 0x7e) {
				i++
			}
		case c == 0x1b:
			i++
		case c == '\t' || c >= 0x20 && c != 0x7f:
			b.WriteByte(c)
		}
	}
	return b.String()
}
