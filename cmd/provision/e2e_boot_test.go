package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// The boot files through the real binary: iPXE over TFTP (curl and
// tftp-hpa) and over HTTP for UEFI HTTP boot, a generated pxelinux config
// with the host's kernel URL, the iPXE script, SHA256SUMS, and the TFTP
// transfer on the system's timeline.
func TestBootFilesFromAppliance(t *testing.T) {
	defer parallel(t)()
	curl := testenv.NeedCommand(t, "curl")
	const undionly = "/usr/lib/ipxe/undionly.kpxe"
	want, err := os.ReadFile(undionly)
	if err != nil {
		testenv.Missing(t, "Debian's ipxe package is not installed")
	}
	efi, err := os.ReadFile("/usr/lib/ipxe/ipxe.efi")
	if err != nil {
		testenv.Missing(t, "Debian's ipxe package is not installed")
	}
	s := startServer(t, t.TempDir(), "--zone", "dsas")
	seed(t, s)
	s.ok("system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11", "--profile", "centos-web")

	got, err := exec.Command(curl, "-sS", "--tftp-blksize", "1468", "tftp://"+s.TFTP+"/undionly.kpxe").Output()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("curl tftp:// undionly.kpxe: %d bytes, %v; want the %d bytes of %s", len(got), err, len(want), undionly)
	}
	if hpa, err := exec.LookPath("tftp"); err == nil {
		host, port, _ := strings.Cut(s.TFTP, ":")
		out := t.TempDir() + "/undionly.kpxe"
		if b, err := exec.Command(hpa, host, port, "-m", "binary", "-c", "get", "undionly.kpxe", out).CombinedOutput(); err != nil {
			t.Fatalf("tftp-hpa: %v %s", err, b)
		}
		if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
			t.Fatal("tftp-hpa got other bytes")
		}
	} else {
		testenv.Missing(t, "tftp-hpa is not installed")
	}
	if b, err := exec.Command(curl, "-sS", "--path-as-is", "tftp://"+s.TFTP+"/../etc/passwd").CombinedOutput(); err == nil {
		t.Fatalf("../etc/passwd was served: %s", b)
	}
	cfg, err := exec.Command(curl, "-sS", "tftp://"+s.TFTP+"/pxelinux.cfg/01-aa-bb-cc-dd-ee-01").Output()
	if err != nil || !strings.Contains(string(cfg), "/images/centos/kernel") || !strings.Contains(string(cfg), "provision.host=web001") {
		t.Fatalf("pxelinux.cfg: %v\n%s", err, cfg)
	}
	if body := httpGet(t, s.URL+"/ipxe.efi"); !bytes.Equal(body, efi) {
		t.Fatalf("GET /ipxe.efi: %d bytes, want %d", len(body), len(efi))
	}
	if body := httpGet(t, s.URL+"/boot/AA-BB-CC-DD-EE-01.ipxe"); !bytes.Contains(body, []byte("provision.host=web001")) {
		t.Fatalf("iPXE script:\n%s", body)
	}
	if body := httpGet(t, s.URL+"/images/centos/SHA256SUMS"); !bytes.Contains(body, []byte("  kernel\n")) {
		t.Fatalf("SHA256SUMS:\n%s", body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for status := ""; !strings.Contains(status, "pxelinux.cfg/01-aa-bb-cc-dd-ee-01"); status = s.ok("system", "status", "web001", "--all") {
		if time.Now().After(deadline) {
			t.Fatalf("the TFTP transfer is not on the timeline:\n%s", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return b
}
