package images

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/httpserve"
	"github.com/provision/provision/internal/testenv"
)

// liveServer serves the fixture on 127.0.0.1:0 until the test ends.
type liveServer struct {
	url    string
	events *EventQueue
}

func startServer(t *testing.T, f *fixture) *liveServer {
	t.Helper()
	q := NewEventQueue(64)
	h, err := BootHandler(BootConfig{Hosts: f.hosts, Blobs: f.store, OnEvent: q.Report})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpserve.New(httpserve.Config{Handler: h, Fast: h, FastPaths: BootPaths()}) // as the appliance does
	testenv.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, l) })
	return &liveServer{url: "http://" + l.Addr().String(), events: q}
}

// next waits for the server's next event.
func (s *liveServer) next(t *testing.T) BootEvent {
	t.Helper()
	select {
	case e := <-s.events.Events():
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no boot event within 10s")
		return BootEvent{}
	}
}

// curl runs curl with args and returns its stdout.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	bin := testenv.NeedCommand(t, "curl")
	out, err := exec.Command(bin, append([]string{"-sS", "--max-time", "60"}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	return string(out)
}

func TestCurl(t *testing.T) {
	testenv.NeedCommand(t, "curl")
	f := newFixture(t)
	local := web01
	local.Name = "local01"
	local.Cmdline = fakeCmdline("console=ttyS0 provision.host=local01 provision.zone=internal provision.server=SERVER")
	f.hosts.add("127.0.0.1", local)
	s := startServer(t, f)
	kernel := f.content[KindKernel]
	out := filepath.Join(t.TempDir(), "out")

	t.Run("script by source IP", func(t *testing.T) {
		got := curl(t, s.url+"/boot.ipxe")
		want := "provision.host=local01 provision.zone=internal provision.server=" + s.url + " "
		if !strings.Contains(got, want) || !strings.Contains(got, "kernel "+s.url+"/images/centos9/kernel ") {
			t.Errorf("script:\n%s\nwant %q", got, want)
		}
		if e := s.next(t); e.Host != "local01" || e.Kind != KindScript || e.Bytes != int64(len(got)) {
			t.Errorf("event %+v", e)
		}
	})
	t.Run("unknown MAC", func(t *testing.T) {
		if code := curl(t, "-o", "/dev/null", "-w", "%{http_code}", s.url+"/boot/00:00:5e:00:53:01.ipxe"); code != "404" {
			t.Errorf("status %s", code)
		}
		s.next(t)
	})
	t.Run("range", func(t *testing.T) {
		code := curl(t, "-r", "100-199", "-o", out, "-w", "%{http_code}", s.url+"/images/centos9/kernel")
		got, err := os.ReadFile(out)
		if err != nil || code != "206" || !bytes.Equal(got, kernel[100:200]) {
			t.Errorf("status %s, %d bytes (%v), want 206 with kernel[100:200]", code, len(got), err)
		}
		if e := s.next(t); e.Status != 206 || e.Bytes != 100 || e.Host != "local01" || e.Err != nil {
			t.Errorf("event %+v", e)
		}
	})
	t.Run("if-none-match", func(t *testing.T) {
		code := curl(t, "-H", `If-None-Match: "`+f.digest[KindKernel]+`"`, "-o", out, "-w", "%{http_code}", s.url+"/images/centos9/kernel")
		if code != "304" {
			t.Errorf("status %s, want 304", code)
		}
		if e := s.next(t); e.Status != 304 || e.Bytes != 0 {
			t.Errorf("event %+v", e)
		}
	})
}

// TestCurlLargeFile: 64 MiB through sendfile arrive byte-identical, and the
// event counts them all.
func TestCurlLargeFile(t *testing.T) {
	testenv.NeedCommand(t, "curl")
	f := newFixture(t)
	big := randomBytes(7, 64<<20)
	d := f.addImage(t, "big", KindRootfs, big)
	s := startServer(t, f)
	out := filepath.Join(t.TempDir(), "rootfs")
	if code := curl(t, "-o", out, "-w", "%{http_code}", s.url+"/images/big/rootfs"); code != "200" {
		t.Fatalf("status %s", code)
	}
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("download of %d bytes differs from the %d stored (%v)", len(got), len(big), err)
	}
	if e := s.next(t); e.Status != 200 || e.Bytes != int64(len(big)) || e.Err != nil || e.Kind != KindRootfs {
		t.Errorf("event %+v", e)
	}
	sum := sha256.Sum256(got)
	if hex.EncodeToString(sum[:]) != d {
		t.Error("sha256 of the download differs")
	}
}

// TestClientGoesAway: a client that hangs up mid-body is reported with the
// bytes sent so far and an error.
func TestClientGoesAway(t *testing.T) {
	f := newFixture(t)
	f.addImage(t, "big", KindRootfs, randomBytes(8, 32<<20))
	s := startServer(t, f)
	c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /images/big/rootfs HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	c.Close()
	e := s.next(t)
	if e.Status != 200 || e.Err == nil || e.Bytes >= 32<<20 {
		t.Errorf("event %+v, want status 200 with an error and fewer bytes than the file", e)
	}
}
