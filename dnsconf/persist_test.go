package dnsconf

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestCDBKeptOnDisk: a server with CDBDir writes its data.cdb there,
// named by its version, and writes the latest when it stops; the next
// server finds it for that version only (not for another serial, other
// options, a truncated file or a temporary one) and serves it while its
// zone's own is put together.
func TestCDBKeptOnDisk(t *testing.T) {
	dir := t.TempDir()
	src := testSource()
	cfg := Config{Zone: Options{Origin: "dsas", NS: applianceIP, Instance: "0123456789abcdef"}, CDBDir: dir}
	run := func(serial uint64) (*Server, *Zone) {
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		z, err := s.Update(src, serial)
		if err != nil {
			t.Fatal(err)
		}
		return s, z
	}
	files := func() []string {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		hidden, _ := filepath.Glob(filepath.Join(dir, ".*"))
		return append(names, hidden...)
	}

	s, _ := run(7)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(files()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// A later version, offered within CDBPersistEvery of the first, is
	// written when the server stops.
	z8, err := s.Update(src, 8)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	<-done
	got := files()
	if len(got) != 1 || filepath.Base(got[0]) != cdbFileName(z8) {
		t.Fatalf("files in the data.cdb directory after the server stopped: %v, want only %s", got, cdbFileName(z8))
	}
	if b, _ := os.ReadFile(got[0]); !bytes.Equal(b, mustCDB(t, z8)) {
		t.Fatalf("%s does not hold the zone's data.cdb", got[0])
	}

	// The next run finds it for serial 8, and serves it while its own
	// data.cdb is not put together yet.
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	z2, err := BuildZone(src, Options{Origin: "dsas", NS: applianceIP, Instance: "0123456789abcdef", Serial: 8})
	if err != nil {
		t.Fatal(err)
	}
	d, err := openDiskCDB(dir, z2)
	if err != nil || d == nil {
		t.Fatalf("the data.cdb of serial 8 was not found again: %v", err)
	}
	s2.disk.Store(d)
	s2.SetZone(z2) // no Update: nothing puts its data.cdb together
	rec := httptest.NewRecorder()
	CDBHandler(s2).ServeHTTP(rec, httptest.NewRequest("GET", "/zone/data.cdb", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("ETag") != z2.ETag() || !bytes.Equal(rec.Body.Bytes(), mustCDB(t, z8)) {
		t.Fatalf("served %d, ETag %s, %d bytes: want the file kept on disk", rec.Code, rec.Header().Get("ETag"), rec.Body.Len())
	}
	if z2.cdb.done.Load() {
		t.Fatal("the handler put the zone's data.cdb together instead of serving the file")
	}

	// Not for another serial, other options, a truncated file.
	z9, _ := BuildZone(src, Options{Origin: "dsas", NS: applianceIP, Instance: "0123456789abcdef", Serial: 9})
	if d, err := openDiskCDB(dir, z9); d != nil || err != nil {
		t.Fatalf("serial 9 found %v (%v): want nothing", d, err)
	}
	other, _ := BuildZone(src, Options{Origin: "dsas", NS: applianceIP.Next(), Instance: "0123456789abcdef", Serial: 8})
	if d, err := openDiskCDB(dir, other); d != nil || err != nil {
		t.Fatalf("serial 8 with another name server address found %v (%v): want nothing", d, err)
	}
	withStatic, _ := BuildZone(src, Options{Origin: "dsas", NS: applianceIP, Instance: "0123456789abcdef", Serial: 8, Static: []dns.RR{mustRR(t, "x.dsas. 60 IN A 10.0.0.99")}})
	if d, err := openDiskCDB(dir, withStatic); d != nil || err != nil {
		t.Fatalf("serial 8 with other static records found %v (%v): want nothing", d, err)
	}
	full := mustCDB(t, z8)
	if err := os.WriteFile(got[0], full[:len(full)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err := openDiskCDB(dir, z2); d != nil || err == nil {
		t.Fatalf("a truncated file was used (%v)", err)
	}
	// A temporary file of a run that crashed is never read, and the next
	// write removes it.
	os.Remove(got[0])
	os.WriteFile(filepath.Join(dir, ".data-123.tmp"), full, 0o644)
	if d, _ := openDiskCDB(dir, z2); d != nil {
		t.Fatal("a temporary file was used")
	}
	p := newCDBPersister(dir, s.log)
	p.offer(z2)
	p.flush()
	if got := files(); len(got) != 1 || filepath.Base(got[0]) != cdbFileName(z2) {
		t.Fatalf("files after a write: %v", got)
	}
}

func mustCDB(t *testing.T, z *Zone) []byte {
	t.Helper()
	b, err := EncodeCDB(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckCDBSize: the size check of a kept file against its header.
func TestCheckCDBSize(t *testing.T) {
	b := mustCDB(t, testZone(t))
	if err := checkCDBSize(bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 100, len(b) - 1} {
		if err := checkCDBSize(bytes.NewReader(b[:n]), int64(n)); err == nil {
			t.Errorf("%d of %d bytes passed", n, len(b))
		}
	}
	if err := checkCDBSize(io.NewSectionReader(bytes.NewReader(append(b, 0)), 0, int64(len(b)+1)), int64(len(b)+1)); err == nil {
		t.Error("a byte too many passed")
	}
}

// Once a version's data.cdb is kept on disk, its records are read from
// the file: the server still serves the same bytes, and Config.Kept is
// told how many bytes of records it let go of in memory.
func TestCDBRecordsReadFromDisk(t *testing.T) {
	var freed atomic.Int64
	cfg := Config{Zone: Options{Origin: "dsas", NS: applianceIP, Instance: "0123456789abcdef"}, CDBDir: t.TempDir(),
		Kept: func(n int64) { freed.Add(n) }}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	z, err := s.Update(testSource(), 3)
	if err != nil {
		t.Fatal(err)
	}
	want := mustCDB(t, z)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); freed.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	f, _, _ := z.dataCDB()
	if records := f.bases[256] - f.bases[0]; freed.Load() != records || keptParts(f) == 0 {
		t.Fatalf("Kept was told %d bytes, %d parts read from disk; the records are %d bytes", freed.Load(), keptParts(f), records)
	}
	rec := httptest.NewRecorder()
	CDBHandler(s).ServeHTTP(rec, httptest.NewRequest("GET", "/zone/data.cdb", nil))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
		t.Fatalf("served %d, %d bytes: want the zone's data.cdb (%d bytes)", rec.Code, rec.Body.Len(), len(want))
	}
}
