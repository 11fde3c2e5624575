package console

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLoadSessions measures CONSOLE_LOAD_SESSIONS sessions open at once
// against as many ipmi_sim BMCs, each machine writing 10 lines a second
// for 20 s: the CPU and memory of this process and its ipmitool
// children, and the delay from a machine's serial port to a follower.
// It only runs when asked: CONSOLE_LOAD_SESSIONS=100 go test -run TestLoadSessions ./console
func TestLoadSessions(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CONSOLE_LOAD_SESSIONS"))
	if n == 0 {
		t.Skip("set CONSOLE_LOAD_SESSIONS to run it")
	}
	ipt := newCountingIpmitool(t)
	m := newTestManager(t, ipt.path, io.Discard, time.Second, 10*time.Second)
	sims := make([]*simBMC, n)
	for i := range sims {
		sims[i] = startSim(t, "pw-load", true)
		if err := m.Capture(fmt.Sprintf("load%03d", i), sims[i].bmc("pw-load")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 120*time.Second, "every session open", func() bool {
		return !slices.ContainsFunc(m.Sessions(), func(st Status) bool { return st.State != StateOpen })
	})
	var lat latencies
	for i, sim := range sims {
		go lat.follow(t, m, fmt.Sprintf("load%03d", i))
		go writeLines(sim.serialConn(10*time.Second), 20*time.Second)
	}
	cpu0, t0 := cpuTicks(t, ipt), time.Now()
	time.Sleep(20 * time.Second)
	cpu := float64(cpuTicks(t, ipt)-cpu0) / 100 / time.Since(t0).Seconds()
	self, rss, pss := memKiB("self", "Pss"), 0, 0
	for _, r := range ipt.runs(t, "sol activate") {
		rss += memKiB(strconv.Itoa(r.pid), "Rss")
		pss += memKiB(strconv.Itoa(r.pid), "Pss")
	}
	var bytes int64
	for _, st := range m.Sessions() {
		bytes += st.Bytes
	}
	t.Logf("%d sessions, %d bytes recorded in 20 s: CPU %.1f%% of a core (this process and its ipmitool children); memory (PSS): this process %d MiB, ipmitool %d MiB in all (%d KiB each; RSS %d KiB each); serial port to follower: %s",
		n, bytes, cpu*100, self>>10, pss>>10, pss/n, rss/n, lat.summary())
}

// writeLines writes 10 lines a second, each with the time it was sent.
func writeLines(w io.Writer, d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		fmt.Fprintf(w, "sent %d: installing packages, %s\r\n", time.Now().UnixNano(), strings.Repeat("x", 60))
	}
}

// latencies collects the delays of lines from the serial port to a
// follower.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) follow(t *testing.T, m *Manager, system string) {
	ch, err := m.Follow(t.Context(), system)
	if err != nil {
		return
	}
	var buf []byte
	for p := range ch {
		buf = append(buf, p...)
		for {
			i := bytes.Index(buf, []byte("\r\n"))
			if i < 0 {
				break
			}
			var sent int64
			if _, err := fmt.Sscanf(string(buf[:i]), "sent %d:", &sent); err == nil {
				l.mu.Lock()
				l.d = append(l.d, time.Since(time.Unix(0, sent)))
				l.mu.Unlock()
			}
			buf = buf[i+2:]
		}
	}
}

func (l *latencies) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return "no lines"
	}
	slices.Sort(l.d)
	return fmt.Sprintf("%d lines, median %v, 99th percentile %v, max %v", len(l.d), l.d[len(l.d)/2], l.d[len(l.d)*99/100], l.d[len(l.d)-1])
}

// cpuTicks is the CPU time (clock ticks) of this process and of its
// running ipmitool children.
func cpuTicks(t *testing.T, ipt countingIpmitool) int {
	ticks := statTicks("self")
	for _, r := range ipt.runs(t, "sol activate") {
		ticks += statTicks(strconv.Itoa(r.pid))
	}
	return ticks
}

// statTicks is utime+stime of /proc/PID/stat (0 if the process is gone).
func statTicks(pid string) int {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return u + s
}

// memKiB is a field of /proc/PID/smaps_rollup in KiB: Rss (resident) or
// Pss (resident, shared pages divided among their users); 0 if the
// process is gone.
func memKiB(pid, field string) int {
	b, err := os.ReadFile("/proc/" + pid + "/smaps_rollup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}
