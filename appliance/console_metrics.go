package appliance

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/console"
)

// consoleMetrics exports the console capture's sessions to /metrics, read
// at scrape time: no per-system series.
type consoleMetrics struct{ c *consoles }

var (
	descConsoleSessions = prometheus.NewDesc("provision_console_sessions",
		"Serial-over-LAN sessions of the console capture, by state (connecting, open, retrying, auth-failed, unsupported).", []string{"state"}, nil)
	descConsoleReconnects = prometheus.NewDesc("provision_console_reconnects_total",
		"SOL sessions opened again after the BMC dropped one, over every system since the start.", nil, nil)
	descConsoleBytes = prometheus.NewDesc("provision_console_session_bytes",
		"Console bytes recorded by the sessions open now, since each was started.", nil, nil)
)

// consoleStates are the states a running session can be in: each is
// exported, 0 included, so that a dashboard's series do not come and go.
var consoleStates = []console.State{console.StateConnecting, console.StateOpen, console.StateRetrying, console.StateAuthFailed, console.StateUnsupported}

func (m consoleMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConsoleSessions
	ch <- descConsoleReconnects
	ch <- descConsoleBytes
}

func (m consoleMetrics) Collect(ch chan<- prometheus.Metric) {
	n := map[console.State]int{}
	var bytes int64
	m.c.mu.Lock()
	reconnects := m.c.retired
	m.c.mu.Unlock()
	for _, st := range m.c.mgr.Sessions() {
		n[st.State]++
		reconnects += st.Reconnects
		bytes += st.Bytes
	}
	// A session being stopped is in neither Sessions nor retired: the
	// total never goes back for it.
	m.c.mu.Lock()
	m.c.reconnects = max(m.c.reconnects, reconnects)
	reconnects = m.c.reconnects
	m.c.mu.Unlock()
	for _, s := range consoleStates {
		ch <- prometheus.MustNewConstMetric(descConsoleSessions, prometheus.GaugeValue, float64(n[s]), string(s))
	}
	ch <- prometheus.MustNewConstMetric(descConsoleReconnects, prometheus.CounterValue, float64(reconnects))
	ch <- prometheus.MustNewConstMetric(descConsoleBytes, prometheus.GaugeValue, float64(bytes))
}
