package lab

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCleanLine(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"plain", "net0: 10.0.0.5/24", "net0: 10.0.0.5/24"},
		{"carriage return", "ok\r", "ok"},
		{"colour", "\x1b[0;1miPXE 1.0\x1b[0m -- x", "iPXE 1.0 -- x"},
		{"private mode", "\x1bc\x1b[?7l\x1b[2JSeaBIOS", "SeaBIOS"},
		{"backspace", "50%\b\b\bok", "50%ok"},
		{"tab kept", "a\tb", "a\tb"},
		{"escape at end", "x\x1b[1", "x"},
		{"lone escape", "x\x1b", "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cleanLine([]byte(tc.raw)); got != tc.want {
				t.Errorf("cleanLine(%q) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestTranscriptLines(t *testing.T) {
	tr := newTranscript()
	for _, chunk := range []string{"Seq\x1b[0", "mBIOS\r\nnet0: ", "10.0.0.5/24\r\n", "boot: "} {
		tr.Write([]byte(chunk))
	}
	if diff := cmp.Diff("SeqBIOS\nnet0: 10.0.0.5/24\nboot: ", tr.String()); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ pattern, want string }{
		{`net0: (\S+)`, "net0: 10.0.0.5/24"},
		{`^$|BIOS`, "SeqBIOS"}, // first match from the start
	} {
		got, err := tr.WaitFor(regexp.MustCompile(tc.pattern), time.Second)
		if err != nil || got != tc.want {
			t.Errorf("WaitFor(%q) = %q, %v; want %q", tc.pattern, got, err, tc.want)
		}
	}
	if _, err := tr.WaitFor(regexp.MustCompile(`boot`), 10*time.Millisecond); err == nil {
		t.Error("matched a line still being printed")
	}
	if !strings.Contains(tr.Timed(), "s] net0: 10.0.0.5/24\n") {
		t.Errorf("Timed:\n%s", tr.Timed())
	}
}

func TestTranscriptWaits(t *testing.T) {
	tr := newTranscript()
	go func() {
		for _, l := range []string{"one\n", "two\n", "MARKER host=x\n"} {
			tr.Write([]byte(l))
		}
	}()
	got, err := tr.WaitFor(regexp.MustCompile(`MARKER host=(\S+)`), 10*time.Second)
	if err != nil || got != "MARKER host=x" {
		t.Errorf("WaitFor = %q, %v", got, err)
	}
}

func TestTranscriptFailsFast(t *testing.T) {
	tr := newTranscript()
	tr.Write([]byte("started\n"))
	exited := errors.New("qemu exited: exit status 1")
	tr.end(exited)
	start := time.Now()
	_, err := tr.WaitFor(regexp.MustCompile(`never`), time.Minute)
	if !errors.Is(err, exited) {
		t.Errorf("err = %v, want %v", err, exited)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("WaitFor waited although the writer had ended")
	}
	if _, err := newTranscript().WaitFor(regexp.MustCompile(`never`), 10*time.Millisecond); err == nil {
		t.Error("no timeout error")
	}
}

func FuzzTranscript(f *testing.F) {
	f.Add([]byte("\x1b[0;1miPXE\x1b[0m\r\nok\n"), uint8(3))
	f.Add([]byte("\x1b[\x1b[\n\x1b"), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, split uint8) {
		tr := newTranscript()
		n := int(split) % (len(b) + 1)
		tr.Write(b[:n])
		tr.Write(b[n:])
		for _, l := range strings.Split(tr.String(), "\n") {
			for _, c := range []byte(l) {
				if c < 0x20 && c != '\t' || c == 0x7f {
					t.Fatalf("control byte %#x in line %q", c, l)
				}
			}
		}
	})
}
