package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/provision/provision/internal/pgtest"
)

// binary (built with -race) runs the server; cli (without, to start
// fast) runs the client verbs.
var binary, cli, zonecfg, agent string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "provision-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary, cli = filepath.Join(dir, "provision-race"), filepath.Join(dir, "provision")
	zonecfg, agent = filepath.Join(dir, "zonecfg"), filepath.Join(dir, "provision-agent")
	// The four builds at once: each links alone, on one core.
	builds := [][]string{{"-race", "-o", binary, "."}, {"-o", cli, "."}, {"-o", zonecfg, "../zonecfg"}, {"-o", agent, "../provision-agent"}}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, b := range builds {
		build := exec.Command("go", append([]string{"build"}, b...)...)
		// zonecfg and provision-agent go into boot environments, which
		// need them static: the appliance finds them next to its binary.
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b[0] == "-race" {
			build.Env = os.Environ()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := build.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go build %s: %v\n%s", strings.Join(b, " "), err, out)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, "building provision:", err)
		os.Exit(1)
	}
	e2eDir = dir
	// Minutes of mmdebstrap each, at once, in slots of their own that
	// come before every test's (schedule_test.go): the longest VM tests
	// wait for them.
	if wantsBuild("TestVMDeploy") && os.Getenv("PROVISION_TEST_DISK_IMAGE") == "" {
		inBackground(buildDiskImage, func() { diskImageOnce() })
	}
	if wantsBuild("TestVMDisklessDebianRole") {
		inBackground(buildRole, func() { debianRoleOnce() })
	}
	code := m.Run()
	sched.report(os.Stderr)
	pgtest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startEnv is the environment the test binary started with. The builds
// TestMain starts in the background run with it: they run beside the
// tests that set a variable (t.Setenv("HOME", ...) of a test that is gone
// by then once failed scripts/package's go build).
var startEnv = os.Environ()

// server is a running `provision serve --dev`.
type server struct {
	t     testing.TB
	Data  string
	URL   string
	DNS   string // host:port of the DNS server
	TFTP  string // host:port of the TFTP server
	API   string // https://host:port of the API with --api, else ""
	CA    string // the --api certificate's fingerprint
	Token string
	cmd   *exec.Cmd
	mu    sync.Mutex
	log   bytes.Buffer
	done  chan struct{}
}

var (
	listenRE      = regexp.MustCompile(`msg=listening proto=(\w+) addr=(\S+)`)
	fingerprintRE = regexp.MustCompile(`certificate=(sha256:[0-9a-f]{64})`)
)

// startServer runs the server on fresh ports of 127.0.0.1 and waits for
// its "listening" log lines.
func startServer(t testing.TB, data string, extra ...string) *server {
	t.Helper()
	return startServerBinary(t, binary, data, extra...)
}

// startServerBinary is startServer with another build of provision:
// benchmarks run the one built without -race.
func startServerBinary(t testing.TB, bin, data string, extra ...string) *server {
	t.Helper()
	s := &server{t: t, Data: data, done: make(chan struct{})}
	args := []string{"serve", "--dev", "--data", data, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--tftp", "127.0.0.1:0"}
	if !slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "--dns-forward") }) {
		// Tests never send a query out of this machine: no resolv.conf upstream.
		args = append(args, "--dns-forward", "none")
	}
	s.cmd = exec.Command(bin, append(args, extra...)...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan [2]string, 8)
	go s.readLog(stderr, addr)
	for s.URL == "" {
		select {
		case a := <-addr:
			switch a[0] {
			case "http":
				s.URL = "http://" + a[1]
			case "dns":
				s.DNS = a[1]
			case "tftp":
				s.TFTP = a[1]
			case "https":
				s.API = "https://" + a[1]
			}
			continue
		case <-s.done:
			t.Fatalf("server exited before listening:\n%s", s.Log())
		case <-time.After(60 * time.Second):
			t.Fatalf("server did not listen within 60s:\n%s", s.Log())
		}
	}
	tok, err := os.ReadFile(filepath.Join(data, "token"))
	if err != nil {
		t.Fatal(err)
	}
	s.Token = strings.TrimSpace(string(tok))
	if m := fingerprintRE.FindStringSubmatch(s.Log()); m != nil {
		s.CA = m[1]
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *server) readLog(r io.Reader, addr chan<- [2]string) {
	defer close(s.done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.log.WriteString(line + "\n")
		s.mu.Unlock()
		if m := listenRE.FindStringSubmatch(line); m != nil {
			addr <- [2]string{m[1], m[2]}
		}
	}
	s.cmd.Wait()
}

// Log returns everything the server logged so far.
func (s *server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Stop sends SIGTERM and waits for a graceful exit.
func (s *server) Stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Kill is kill -9.
func (s *server) Kill() {
	s.cmd.Process.Kill()
	<-s.done
}

type result struct {
	Out, Err string
	Code     int
}

// run runs the CLI against s with the token in the environment.
func (s *server) run(env []string, args ...string) result {
	s.t.Helper()
	base := []string{"PROVISION_SERVER=" + s.URL, "PROVISION_TOKEN=" + s.Token}
	if s.API != "" {
		base = append(base, "PROVISION_SERVER="+s.API, "PROVISION_CA="+s.CA)
	}
	return runCLI(s.t, "", append(base, env...), args...)
}

// ok runs the CLI and fails the test unless it exits 0.
func (s *server) ok(args ...string) string {
	s.t.Helper()
	r := s.run(nil, args...)
	if r.Code != 0 {
		s.t.Fatalf("provision %s: exit %d: %s", strings.Join(args, " "), r.Code, r.Err)
	}
	return r.Out
}

// fails runs the CLI and checks it fails with a one-line error containing want.
func (s *server) fails(want string, args ...string) {
	s.t.Helper()
	r := s.run(nil, args...)
	if r.Code == 0 || !strings.Contains(r.Err, want) || !strings.HasPrefix(r.Err, "provision: ") {
		s.t.Errorf("provision %s: exit %d, stderr %q; want failure with %q", strings.Join(args, " "), r.Code, r.Err, want)
	}
}

// get is a GET of the API (or /metrics) with the admin token.
func (s *server) get(path string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
