package lab

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// relay carries each connection both ways to its own upstream
// connection, and closes the client's once the upstream closes; a
// failed dial closes the client's connection and is logged by name.
func TestRelay(t *testing.T) {
	upstream, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer upstream.Close()
	go func() { // answers each line in upper case; "bye" closes
		for {
			c, err := upstream.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() && sc.Text() != "bye" {
					io.WriteString(c, strings.ToUpper(sc.Text())+"\n")
				}
			}()
		}
	}()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var log testenv.Buffer
	fail := false
	var mu sync.Mutex
	go relay(l, &log, "test relay", func() (net.Conn, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nil, errors.New("no route to the server")
		}
		return net.Dial("tcp", upstream.Addr().String())
	})

	for _, word := range []string{"one", "two"} { // each its own upstream connection
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		rd := bufio.NewReader(c)
		io.WriteString(c, word+"\n")
		if got, err := rd.ReadString('\n'); err != nil || got != strings.ToUpper(word)+"\n" {
			t.Fatalf("through the relay: %q %v, want %q", got, err, strings.ToUpper(word))
		}
		io.WriteString(c, "bye\n")
		if got, err := rd.ReadString('\n'); err != io.EOF {
			t.Errorf("after the upstream closed: %q %v, want EOF", got, err)
		}
	}

	mu.Lock()
	fail = true
	mu.Unlock()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("a failed dial: read %d %v, want EOF", n, err)
	}
	if got := log.String(); got != "lab: test relay: no route to the server\n" {
		t.Errorf("a failed dial logged %q", got)
	}
}

// Forward carries a connection made here to a server listening in the
// server namespace, where this process's own dial cannot reach.
func TestForward(t *testing.T) {
	e := testEnv(t)
	n, err := e.NewNet("forward")
	check(t, err)
	l, err := e.Listen(n, "tcp4", n.ServerIP.String()+":0")
	check(t, err)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "from the server namespace\n")
			c.Close()
		}
	}()
	addr, err := e.Forward(n, l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if got, err := io.ReadAll(c); err != nil || string(got) != "from the server namespace\n" {
		t.Errorf("through Forward to %s: %q %v", l.Addr(), got, err)
	}
}
