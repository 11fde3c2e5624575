// Package pgtest runs a throwaway PostgreSQL server (Debian's postgresql
// package) for tests: initdb into a temporary directory, then the server
// as an unprivileged user (postgres when the tests run as root) on a free
// port of 127.0.0.1 and a Unix socket in that directory, with no password
// (trust, reachable only from this machine). One server serves a test
// binary; each test gets a database of its own. Stop, from TestMain,
// stops it and removes the directory; the server also dies with the test
// binary (PR_SET_PDEATHSIG).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/provision/provision/internal/testenv"
)

// Server is a running PostgreSQL server.
type Server struct {
	Dir  string // its temporary directory: data/, the socket, the log
	Port int    // on 127.0.0.1
	cmd  *exec.Cmd
	bin  string // the PostgreSQL programs' directory
	cred *syscall.Credential
}

var (
	mu     sync.Mutex
	shared *Server
	failed error // why the shared server could not start; every caller fails alike
)

// Start returns the test binary's server, starting it on first use. A
// missing postgresql is Missing (a skip, or a failure under CI=true).
func Start(t testing.TB) *Server {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared == nil && failed == nil {
		bin, err := binDir()
		if err != nil {
			testenv.Missing(t, err.Error())
		}
		shared, failed = start(bin)
	}
	if failed != nil {
		t.Fatalf("pgtest: %v", failed)
	}
	return shared
}

// Stop stops the server, if one was started, and removes its directory.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if shared == nil {
		return
	}
	shared.halt()
	os.RemoveAll(shared.Dir)
	shared = nil
}

// DB creates a database of its own for t and returns its URL (for pgx);
// the database is dropped at t's cleanup.
func DB(t testing.TB) string {
	t.Helper()
	s := Start(t)
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	// FILE_COPY (PostgreSQL 15): the template's files copied, not its
	// every block through the WAL: 134 ms a database here, not 252, and
	// 40% less of the server's CPU (the registry's tests make hundreds).
	if err := s.exec("CREATE DATABASE " + name + " STRATEGY FILE_COPY"); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { s.exec("DROP DATABASE " + name + " WITH (FORCE)") })
	return s.URL(name)
}

// DBSocket is DB reached through the server's Unix socket, for clients
// in another network namespace (the lab's appliances), which cannot reach
// this one's 127.0.0.1.
func DBSocket(t testing.TB) string {
	t.Helper()
	url := DB(t)
	name := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	return Start(t).socketURL(name)
}

// URL is the pgx URL of database name on s.
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres://provision@127.0.0.1:%d/%s?sslmode=disable", s.Port, name)
}

// exec runs one statement in the postgres database.
func (s *Server) exec(stmt string) error {
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// binDir finds the newest installed PostgreSQL's programs.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("postgresql is not installed (apt-get install postgresql): no /usr/lib/postgresql/*/bin/initdb")
}

func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

func start(bin string) (*Server, error) {
	dir, err := os.MkdirTemp("", "provision-pg-")
	if err != nil {
		return nil, err
	}
	cred, err := credential(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "provision", "-A", "trust", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	s := &Server{Dir: dir, Port: port, bin: bin, cred: cred}
	if err := s.launch(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// launch starts the server on s's data directory and port and waits until
// it answers.
func (s *Server) launch() error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	if s.cred != nil {
		os.Chown(logf.Name(), int(s.cred.Uid), int(s.cred.Gid))
	}
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(s.Dir, "data"), "-p", strconv.Itoa(s.Port), "-k", s.Dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=off")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.cmd = cmd
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if s.exec("SELECT 1") == nil {
			return nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			b, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("postgres did not answer on port %d within 30 s:\n%s", s.Port, b)
		}
	}
}

// halt stops the server (a fast shutdown: clients are disconnected,
// committed transactions stay) and waits for it to exit.
func (s *Server) halt() {
	s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// Private starts a server of t's own, for tests that stop and restart
// it (Down, Up); t's cleanup stops it and removes its directory.
func Private(t testing.TB) *Server {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		testenv.Missing(t, err.Error())
	}
	s, err := start(bin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.halt()
		}
		os.RemoveAll(s.Dir)
	})
	return s
}

// Down stops a Private server, as a database outage: every client loses
// its connection, nothing committed is lost.
func (s *Server) Down(t testing.TB) {
	t.Helper()
	s.halt()
}

// Up starts a Private server again after Down, on the same port and data.
func (s *Server) Up(t testing.TB) {
	t.Helper()
	if err := s.launch(); err != nil {
		t.Fatalf("pgtest: restart: %v", err)
	}
}

// NewDB creates a database on s and returns its URL through the Unix
// socket (see DBSocket) and through 127.0.0.1.
func (s *Server) NewDB(t testing.TB) (socket, tcp string) {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if err := s.exec("CREATE DATABASE " + name + " STRATEGY FILE_COPY"); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	return s.socketURL(name), s.URL(name)
}

func (s *Server) socketURL(name string) string {
	return fmt.Sprintf("postgres://provision@/%s?host=%s&port=%d&sslmode=disable", name, s.Dir, s.Port)
}

// credential is the user the server runs as: the postgres user when the
// tests run as root (PostgreSQL refuses root), owning dir; else nil, the
// tests' own user.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and there is no postgres user to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Main is TestMain for a package whose tests use the server: it runs
// them and stops the server.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}
