package api

import (
	"time"

	"github.com/provision/provision/console"
)

// partialAfter is how long the live stream waits for the end of a line
// before it sends what came of it (a prompt, a progress bar) as a partial
// line: a person watching an installer's question must see it.
const partialAfter = 300 * time.Millisecond

// lineSplitter cuts a console's live bytes into lines as its Ring does:
// a line ends at \n, \r\n or a lone \r, and one of console.MaxLine bytes
// is cut there. Each line is stamped with the time its first byte came.
// Not safe for concurrent use.
type lineSplitter struct {
	buf []byte
	at  time.Time // when buf's first byte came
	cr  bool      // the last byte ended a line with \r: a \n right after it ends nothing more
}

// write adds bytes that came at now, and passes each line they end to
// emit.
func (sp *lineSplitter) write(p []byte, now time.Time, emit func(ConsoleLine)) {
	for _, b := range p {
		if b == '\n' && sp.cr {
			sp.cr = false
			continue
		}
		sp.cr = b == '\r'
		if b == '\n' || b == '\r' {
			sp.end(false, now, emit)
			continue
		}
		if len(sp.buf) == 0 {
			sp.at = now
		}
		sp.buf = append(sp.buf, b)
		if len(sp.buf) >= console.MaxLine {
			sp.end(true, now, emit)
		}
	}
}

// end passes the line in buf (an empty one too, when the machine ended
// it) and starts the next.
func (sp *lineSplitter) end(partial bool, now time.Time, emit func(ConsoleLine)) {
	at := sp.at
	if len(sp.buf) == 0 {
		at = now
	}
	emit(ConsoleLine{At: at, Text: console.Text(sp.buf), Partial: partial})
	sp.buf = sp.buf[:0]
}

// due says when the line under way is to be sent as partial; ok is false
// when no line is under way.
func (sp *lineSplitter) due() (t time.Time, ok bool) {
	if len(sp.buf) == 0 {
		return time.Time{}, false
	}
	return sp.at.Add(partialAfter), true
}

// flushPartial sends the line under way, if any, as a partial line: its
// rest comes as the next line.
func (sp *lineSplitter) flushPartial(now time.Time, emit func(ConsoleLine)) {
	if len(sp.buf) > 0 {
		sp.end(true, now, emit)
	}
}
