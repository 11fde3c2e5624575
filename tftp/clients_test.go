package tftp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

// run runs a client program and returns its exit code and combined output.
func run(t *testing.T, dir, prog string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	default:
		t.Fatalf("%s %v: %v", prog, args, err)
		return -1, ""
	}
}

// checkFile compares a downloaded file with what the server holds.
func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffBytes(got, want); d != "" {
		t.Errorf("%s: %s", path, d)
	}
}

// curl's exit codes for TFTP errors 1 and 2 (curl(1), EXIT CODES).
const (
	curlNotFound   = 68
	curlPermission = 69
)

func TestCurl(t *testing.T) {
	curl := testenv.NeedCommand(t, "curl")
	root, boot := newRoot(t)
	ts := startServer(t, root, testHosts)
	url := fmt.Sprintf("tftp://%s/", ts.addr)
	config, err := os.ReadFile("testdata/pxelinux-web01.cfg")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantExit int
		want     []byte // expected download, if any
		wantOut  string // in curl's verbose output
	}{
		{"fetch", []string{url + bootFile}, 0, boot,
			fmt.Sprintf("got option=(tsize) value=(%d)", len(boot))},
		{"fetch with blksize 1468", []string{"--tftp-blksize", "1468", url + bootFile}, 0, boot,
			"got option=(blksize) value=(1468)"},
		{"per-host config", []string{url + "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff"}, 0, config, ""},
		{"unknown MAC", []string{url + "pxelinux.cfg/01-00-11-22-33-44-55"}, curlNotFound, nil, ""},
		{"traversal", []string{"--path-as-is", url + "../etc/passwd"}, curlPermission, nil, ""},
		{"absolute name", []string{"--path-as-is", url + "/etc/passwd"}, curlNotFound, nil, ""},
		{"write", []string{"-T", filepath.Join(root, bootFile), url + "up.bin"}, curlPermission, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"-sS", "-v", "-o", "out"}, tt.args...)
			exit, out := run(t, dir, curl, args...)
			if exit != tt.wantExit {
				t.Fatalf("curl %v: exit %d, want %d\n%s", args, exit, tt.wantExit, out)
			}
			if tt.want != nil {
				checkFile(t, filepath.Join(dir, "out"), tt.want)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("curl output lacks %q:\n%s", tt.wantOut, out)
			}
			ts.event(t)
		})
	}
}

// TestTFTPHPA uses tftp-hpa's client. It has no blksize or tsize option:
// those are covered by curl and pin/tftp's client.
func TestTFTPHPA(t *testing.T) {
	tftp := testenv.NeedCommand(t, "tftp")
	root, boot := newRoot(t)
	ts := startServer(t, root, testHosts)
	port := fmt.Sprint(ts.addr.Port)
	tests := []struct {
		name    string
		command string
		want    []byte // expected download of "out", if any
		wantOut string
	}{
		{"fetch", "get " + bootFile + " out", boot, ""},
		{"traversal", "get ../etc/passwd out", nil, "Error code 2"},
		{"unknown file", "get nothing.efi out", nil, "Error code 1"},
		{"write", "put " + filepath.Join(root, bootFile) + " up.bin", nil, "Error code 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"127.0.0.1", port, "-m", "binary", "-c"}, strings.Fields(tt.command)...)
			_, out := run(t, dir, tftp, args...)
			if tt.want != nil {
				checkFile(t, filepath.Join(dir, "out"), tt.want)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("tftp -c %s: output lacks %q:\n%s", tt.command, tt.wantOut, out)
			}
			ts.event(t)
		})
	}
}
