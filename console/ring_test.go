package console

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ticker is a clock that moves one second on each reading.
type ticker struct{ t time.Time }

func (c *ticker) now() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

var epoch = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)

// openTest opens a ring in a new directory with a ticking clock.
func openTest(t *testing.T, max int64) (*Ring, string) {
	t.Helper()
	dir := t.TempDir()
	r, err := OpenRing(dir, "vm", max)
	if err != nil {
		t.Fatal(err)
	}
	r.now = (&ticker{t: epoch}).now
	t.Cleanup(func() { r.Close() })
	return r, dir
}

func write(t *testing.T, r *Ring, chunks ...string) {
	t.Helper()
	for _, c := range chunks {
		if n, err := r.Write([]byte(c)); err != nil || n != len(c) {
			t.Fatalf("Write(%q) = %d, %v", c, n, err)
		}
	}
}

func texts(lines []Line) []string {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = string(l.Text)
	}
	return s
}

func TestRingLines(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"lines", []string{"one\ntwo\n"}, []string{"one", "two"}},
		{"partial last line", []string{"one\ntw", "o"}, []string{"one", "two"}},
		{"crlf", []string{"one\r\ntwo\r\n"}, []string{"one", "two"}},
		{"crlf split across writes", []string{"one\r", "\ntwo\r", "\n"}, []string{"one", "two"}},
		{"lone cr ends a line", []string{"10%\r20%\rdone\n"}, []string{"10%", "20%", "done"}},
		{"cr cr lf", []string{"one\r\r\ntwo\r\r\n"}, []string{"one", "two"}},
		{"lf cr", []string{"one\n\rtwo\n\r"}, []string{"one", "two"}},
		{"blank lines", []string{"\n\r\n\n"}, []string{"", "", ""}},
		{"cr at the end stays partial", []string{"login: \r"}, []string{"login: "}},
		{"bytes kept raw", []string{"a\x00b\x1b[2J\x1b]0;x\x07\xff\xfe\n"}, []string{"a\x00b\x1b[2J\x1b]0;x\x07\xff\xfe"}},
		{"nothing", nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := openTest(t, 0)
			write(t, r, tc.chunks...)
			got, err := r.Lines(time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, texts(got)); d != "" {
				t.Errorf("lines (-want +got):\n%s", d)
			}
		})
	}
}

func TestRingStampsFirstByte(t *testing.T) {
	r, _ := openTest(t, 0)
	write(t, r, "ab", "c\nd", "e\n", "f")
	got, err := r.Lines(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{epoch.Add(1 * time.Second), epoch.Add(2 * time.Second), epoch.Add(4 * time.Second)}
	for i, l := range got {
		if !l.At.Equal(want[i]) {
			t.Errorf("line %d %q at %v, want %v", i, l.Text, l.At, want[i])
		}
	}
	if d := cmp.Diff([]string{"abc", "de", "f"}, texts(got)); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
}

func TestRingTimesNeverGoBack(t *testing.T) {
	r, _ := openTest(t, 0)
	clock := []time.Time{epoch, epoch.Add(-time.Hour), epoch.Add(time.Minute), epoch.Add(-time.Minute)}
	r.now = func() time.Time { t := clock[0]; clock = clock[1:]; return t }
	write(t, r, "a\n", "b\n", "c\n", "d\n")
	got, _ := r.Lines(time.Time{})
	checkOrder(t, got)
	if !got[1].At.Equal(epoch) || !got[3].At.Equal(epoch.Add(time.Minute)) {
		t.Errorf("times %v, want a clock that goes back held at the last time", got)
	}
}

func checkOrder(t *testing.T, lines []Line) {
	t.Helper()
	for i := 1; i < len(lines); i++ {
		if lines[i].At.Before(lines[i-1].At) {
			t.Errorf("line %d at %v before line %d at %v", i, lines[i].At, i-1, lines[i-1].At)
			return
		}
	}
}

func TestRingLongLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []int // lengths
	}{
		{"exactly MaxLine then a line end", strings.Repeat("x", MaxLine) + "\r\n", []int{MaxLine}},
		{"cut", strings.Repeat("x", 2*MaxLine+100) + "\n", []int{MaxLine, MaxLine, 100}},
		{"endless", strings.Repeat("y", 3*MaxLine+1), []int{MaxLine, MaxLine, MaxLine, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := openTest(t, 0)
			write(t, r, tc.in[:MaxLine/2], tc.in[MaxLine/2:])
			got, err := r.Lines(time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var lens []int
			for _, l := range got {
				lens = append(lens, len(l.Text))
			}
			if d := cmp.Diff(tc.want, lens); d != "" {
				t.Errorf("line lengths (-want +got):\n%s", d)
			}
		})
	}
}

func TestRingTailAndSince(t *testing.T) {
	r, _ := openTest(t, 0)
	write(t, r, "1\n", "2\n", "3\n", "4")
	for _, tc := range []struct {
		n    int
		want []string
	}{{0, []string{}}, {-1, []string{}}, {2, []string{"3", "4"}}, {9, []string{"1", "2", "3", "4"}}} {
		got, err := r.Tail(tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.want, texts(got)); d != "" {
			t.Errorf("Tail(%d) (-want +got):\n%s", tc.n, d)
		}
	}
	got, _ := r.Lines(epoch.Add(2 * time.Second))
	if d := cmp.Diff([]string{"2", "3", "4"}, texts(got)); d != "" {
		t.Errorf("Lines(since the second line) (-want +got):\n%s", d)
	}
}

// TestRingBoundedBatches writes 10 MiB in chunks of up to 64 KiB, many
// lines to one Write (one write to disk): the files still never pass max.
func TestRingBoundedBatches(t *testing.T) {
	r, dir := openTest(t, MinMax)
	i := 0
	for total := 0; total < 10<<20; i++ {
		line := fmt.Sprintf("%06d %s\n", i, strings.Repeat("b", i%100))
		chunk := strings.Repeat(line, (64<<10)/len(line)*(i%8)/7+1)
		write(t, r, chunk)
		total += len(chunk)
		if size := dirSize(t, dir); size > MinMax {
			t.Fatalf("after chunk %d the files hold %d bytes, more than %d", i, size, MinMax)
		}
	}
	got, err := r.Tail(1)
	if err != nil || len(got) != 1 || !strings.HasPrefix(string(got[0].Text), fmt.Sprintf("%06d ", i-1)) {
		t.Errorf("Tail(1) = %q, %v: want a line of the last chunk", texts(got), err)
	}
}

// TestRingBounded writes 10 MiB of numbered lines of varied length into a
// 1 MiB ring: the files never pass 1 MiB, and what is kept is the newest
// lines, none missing in between, in time order.
func TestRingBounded(t *testing.T) {
	r, dir := openTest(t, DefaultMax)
	total, n := 0, 0
	for ; total < 10<<20; n++ {
		line := fmt.Sprintf("%08d %s\r\n", n, strings.Repeat("z", n%300))
		write(t, r, line[:n%len(line)], line[n%len(line):]) // a line in one Write, or across two
		total += len(line)
		if n%1000 == 0 {
			if size := dirSize(t, dir); size > DefaultMax {
				t.Fatalf("after %d bytes the files hold %d bytes, more than %d", total, size, DefaultMax)
			}
		}
	}
	got, err := r.Lines(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, got)
	for i, l := range got {
		want := n - len(got) + i
		if !strings.HasPrefix(string(l.Text), fmt.Sprintf("%08d ", want)) {
			t.Fatalf("line %d of %d is %.20q, want number %d", i, len(got), l.Text, want)
		}
	}
	if size := dirSize(t, dir); size < DefaultMax/3 {
		t.Errorf("the files hold %d bytes of a %d ring: too little kept", size, DefaultMax)
	}
	t.Logf("%d lines kept of %d written", len(got), n)
	for _, k := range []int{len(got) - 1, len(got) + 5} { // both files, then all
		tail, err := r.Tail(k)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(texts(got[max(0, len(got)-k):]), texts(tail)); d != "" {
			t.Errorf("Tail(%d) is not the end of Lines (-want +got):\n%s", k, d)
		}
	}
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
	}
	return size
}

func TestRingReopen(t *testing.T) {
	dir := t.TempDir()
	r, err := OpenRing(dir, "vm", 0)
	if err != nil {
		t.Fatal(err)
	}
	write(t, r, "one\n", "login: ")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = OpenRing(dir, "vm", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	write(t, r, "root\n")
	got, err := r.Lines(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"one", "login: ", "root"}, texts(got)); d != "" {
		t.Errorf("lines after reopening (-want +got):\n%s", d)
	}
	checkOrder(t, got)
}

func TestRingWriteAfterClose(t *testing.T) {
	r, _ := openTest(t, 0)
	r.Close()
	if _, err := r.Write([]byte("x\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v, want os.ErrClosed", err)
	}
	if _, err := r.Tail(1); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Tail after Close: %v, want os.ErrClosed", err)
	}
}

func TestRingFileMode(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vm.log"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRing(dir, "vm", MinMax)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for range 20 {
		write(t, r, strings.Repeat("m", 1000)+"\n")
	}
	for _, name := range []string{"vm.log", "vm.log.1"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}

func TestOpenRingSize(t *testing.T) {
	for _, max := range []int64{-1, 1, MinMax - 1} {
		if r, err := OpenRing(t.TempDir(), "vm", max); err == nil {
			r.Close()
			t.Errorf("OpenRing with max %d: no error", max)
		}
	}
}

// BenchmarkRingWrite writes 4 KiB chunks of 80-byte console lines (as a
// SOL session reads them) into a 1 MiB ring, rotations included.
func BenchmarkRingWrite(b *testing.B) {
	r, err := OpenRing(b.TempDir(), "vm", DefaultMax)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	chunk := []byte(strings.Repeat(strings.Repeat("k", 78)+"\r\n", 4096/80))
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if _, err := r.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRingTail reads the last 20 lines of a full 1 MiB ring (a
// failed build's history, system status): both files are read whole.
func BenchmarkRingTail(b *testing.B) {
	r, err := OpenRing(b.TempDir(), "vm", DefaultMax)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for range 2 * DefaultMax / 80 {
		r.Write([]byte(strings.Repeat("t", 78) + "\r\n"))
	}
	for b.Loop() {
		if lines, err := r.Tail(20); err != nil || len(lines) != 20 {
			b.Fatal(len(lines), err)
		}
	}
}
