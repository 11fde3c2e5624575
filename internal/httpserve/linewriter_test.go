package httpserve

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingWriter keeps every write, optionally slowly.
type recordingWriter struct {
	mu     sync.Mutex
	writes [][]byte
	delay  time.Duration
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	time.Sleep(w.delay)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

// TestLineWriter: the lines of concurrent writers all come out, whole and
// each writer's in order, in writes of whole lines of at most 4 KiB.
func TestLineWriter(t *testing.T) {
	w := &recordingWriter{}
	l := NewLineWriter(w)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				fmt.Fprintf(l, "g%d line %d %s\n", g, i, strings.Repeat("x", i%300))
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(l, "long %s\n", strings.Repeat("y", 10000))
	l.Close()
	fmt.Fprintf(l, "after close\n")
	next := map[string]int{}
	for _, b := range w.writes {
		if len(b) > lineChunk && bytes.Count(b, []byte("\n")) > 1 {
			t.Errorf("a write of %d bytes and %d lines", len(b), bytes.Count(b, []byte("\n")))
		}
		if len(b) == 0 || b[len(b)-1] != '\n' {
			t.Fatalf("a write of a part of a line: %.40q", b)
		}
		for _, line := range strings.SplitAfter(string(b), "\n") {
			if line == "" {
				continue
			}
			var g string
			var i int
			if _, err := fmt.Sscanf(line, "%s line %d", &g, &i); err != nil {
				next[line[:5]]++
				continue
			}
			if want := fmt.Sprintf("%s line %d %s\n", g, i, strings.Repeat("x", i%300)); line != want || next[g] != i {
				t.Fatalf("line %.60q, want line %d of %s", line, next[g], g)
			}
			next[g]++
		}
	}
	for g := range 8 {
		if n := next[fmt.Sprint("g", g)]; n != 2000 {
			t.Errorf("g%d: %d lines", g, n)
		}
	}
	if next["long "] != 1 || next["after"] != 1 {
		t.Errorf("the long line and the one after Close: %v", next)
	}
}

// A writer that cannot keep up holds Write back once 1 MiB waits: no line
// is dropped.
func TestLineWriterBacklog(t *testing.T) {
	w := &recordingWriter{delay: time.Millisecond}
	l := NewLineWriter(w)
	line := strings.Repeat("z", 1023) + "\n"
	start := time.Now()
	for range 4 << 10 { // 4 MiB
		l.Write([]byte(line))
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("4 MiB queued in %v: no backpressure", d)
	}
	l.Close()
	n := 0
	for _, b := range w.writes {
		n += len(b)
	}
	if n != 4<<20 {
		t.Errorf("%d bytes written, want %d", n, 4<<20)
	}
}

// To a regular file, the writes are larger, still of whole lines.
func TestLineWriterFile(t *testing.T) {
	path := t.TempDir() + "/log"
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l := NewLineWriter(f)
	if l.chunk != lineFileChunk {
		t.Errorf("chunk %d to a file", l.chunk)
	}
	var want strings.Builder
	for i := range 10000 {
		fmt.Fprintf(io.MultiWriter(l, &want), "line %d\n", i)
	}
	l.Close()
	got, _ := os.ReadFile(path)
	if string(got) != want.String() {
		t.Errorf("the file has %d bytes, want %d", len(got), want.Len())
	}
	other := NewLineWriter(&bytes.Buffer{})
	defer other.Close()
	if other.chunk != lineChunk {
		t.Error("a pipe-sized chunk for other writers")
	}
}
