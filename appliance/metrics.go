package appliance

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/dnsconf"
)

// protocolMetrics exports the DNS, HTTP and DHCP servers' counters and the
// background writers' losses to /metrics, read at scrape time.
type protocolMetrics struct {
	a    *Appliance
	dns  *dnsconf.Server
	dhcp *dhcp.Server // nil when DHCP is off
}

var (
	descDNS = map[string]*prometheus.Desc{
		"queries":    prometheus.NewDesc("provision_dns_queries_total", "DNS messages received.", nil, nil),
		"malformed":  prometheus.NewDesc("provision_dns_malformed_total", "DNS messages that did not parse.", nil, nil),
		"truncated":  prometheus.NewDesc("provision_dns_truncated_total", "UDP answers sent empty with TC.", nil, nil),
		"limited":    prometheus.NewDesc("provision_dns_rate_limited_total", "UDP queries from outside the registered subnets dropped by the rate limit.", nil, nil),
		"serial":     prometheus.NewDesc("provision_dns_zone_serial", "Registry serial of the zone served.", nil, nil),
		"forwarded":  prometheus.NewDesc("provision_dns_forwarded_total", "DNS queries for names outside the zone sent to upstream resolvers.", nil, nil),
		"cachehits":  prometheus.NewDesc("provision_dns_cache_hits_total", "DNS queries for names outside the zone answered from the cache.", nil, nil),
		"upstream":   prometheus.NewDesc("provision_dns_upstream_failures_total", "Tries of upstream resolvers that failed: timeout, SERVFAIL, REFUSED or an error.", nil, nil),
		"cached":     prometheus.NewDesc("provision_dns_cache_entries", "Forwarded answers in the cache.", nil, nil),
		"cachebytes": prometheus.NewDesc("provision_dns_cache_bytes", "Size of the forwarded answers in the cache.", nil, nil),
		"coalesced":  prometheus.NewDesc("provision_dns_coalesced_total", "Forwarded DNS queries answered by an identical one in flight.", nil, nil),
		"reclimited": prometheus.NewDesc("provision_dns_recursion_limited_total", "Forwarded DNS queries refused by the client's rate limit.", nil, nil),
		"overloaded": prometheus.NewDesc("provision_dns_overloaded_total", "Forwarded DNS queries refused for the bounds of queries in flight.", nil, nil),
		"inflight":   prometheus.NewDesc("provision_dns_in_flight", "Forwarded DNS queries waiting for an upstream.", nil, nil),
		"tcpconns":   prometheus.NewDesc("provision_dns_tcp_connections", "DNS TCP connections open.", nil, nil),
		"tcprefused": prometheus.NewDesc("provision_dns_tcp_refused_total", "DNS TCP connections closed at once for the connection bounds.", nil, nil),
		"accepterrs": prometheus.NewDesc("provision_dns_accept_errors_total", "DNS TCP accepts that failed (no descriptor left...).", nil, nil),
	}
	descDNSReplies = prometheus.NewDesc("provision_dns_replies_total", "DNS replies by rcode.", []string{"rcode"}, nil)
	descDHCP       = prometheus.NewDesc("provision_dhcp_packets_total", "DHCP packets by outcome.", []string{"outcome"}, nil)
	descHTTP       = map[string]*prometheus.Desc{
		"open":       prometheus.NewDesc("provision_http_connections", "HTTP connections open, by listener (boot, api).", []string{"listener"}, nil),
		"idle":       prometheus.NewDesc("provision_http_idle_connections", "HTTP connections open and idle, by listener.", []string{"listener"}, nil),
		"evicted":    prometheus.NewDesc("provision_http_evicted_total", "Idle HTTP connections closed to make room for new ones, by listener.", []string{"listener"}, nil),
		"refused":    prometheus.NewDesc("provision_http_refused_total", "HTTP connections refused at a client's cap with none of its own idle, by listener.", []string{"listener"}, nil),
		"overloaded": prometheus.NewDesc("provision_http_overloaded_total", "Boot requests answered 503: the connections left were kept for the API and the dashboard.", []string{"listener"}, nil),
	}
	descLost = prometheus.NewDesc("provision_background_writes_lost_total",
		"Boot events, leases and sightings lost to a full buffer or a failed write; DHCP events lost to a slow consumer.", []string{"log"}, nil)
)

func (m *protocolMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descDNS {
		ch <- d
	}
	ch <- descDNSReplies
	for _, d := range descHTTP {
		ch <- d
	}
	ch <- descDHCP
	ch <- descLost
}

func (m *protocolMetrics) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	st := m.dns.Stats()
	counter(descDNS["queries"], st.Queries)
	counter(descDNS["malformed"], st.Malformed)
	counter(descDNS["truncated"], st.Truncated)
	counter(descDNS["limited"], st.Limited)
	ch <- prometheus.MustNewConstMetric(descDNS["serial"], prometheus.GaugeValue, float64(st.Serial))
	counter(descDNS["forwarded"], st.Forwarded)
	counter(descDNS["cachehits"], st.CacheHits)
	counter(descDNS["upstream"], st.UpstreamFailures)
	ch <- prometheus.MustNewConstMetric(descDNS["cached"], prometheus.GaugeValue, float64(st.Cached))
	ch <- prometheus.MustNewConstMetric(descDNS["cachebytes"], prometheus.GaugeValue, float64(st.CachedBytes))
	counter(descDNS["coalesced"], st.Coalesced)
	counter(descDNS["reclimited"], st.RecursionLimited)
	counter(descDNS["overloaded"], st.Overloaded)
	ch <- prometheus.MustNewConstMetric(descDNS["inflight"], prometheus.GaugeValue, float64(st.InFlight))
	ch <- prometheus.MustNewConstMetric(descDNS["tcpconns"], prometheus.GaugeValue, float64(st.TCPConns))
	counter(descDNS["tcprefused"], st.TCPRefused)
	counter(descDNS["accepterrs"], st.AcceptErrors)
	for rcode, n := range st.Rcodes {
		counter(descDNSReplies, n, rcode)
	}
	for listener, srv := range m.a.httpServers {
		h := srv.Stats()
		ch <- prometheus.MustNewConstMetric(descHTTP["open"], prometheus.GaugeValue, float64(h.Open), listener)
		ch <- prometheus.MustNewConstMetric(descHTTP["idle"], prometheus.GaugeValue, float64(h.Idle), listener)
		counter(descHTTP["evicted"], uint64(h.Evicted), listener)
		counter(descHTTP["refused"], uint64(h.Refused), listener)
		counter(descHTTP["overloaded"], uint64(h.Overloaded), listener)
	}
	if m.dhcp != nil {
		d := m.dhcp.Stats()
		for outcome, n := range map[string]uint64{"received": d.Received, "malformed": d.Malformed,
			"rate_limited": d.RateLimited, "ignored": d.Ignored, "replied": d.Replied} {
			counter(descDHCP, n, outcome)
		}
	}
	counter(descLost, uint64(m.a.events.Dropped()), "events")
	if m.dhcp != nil {
		counter(descLost, m.dhcp.Stats().EventsLost, "dhcp_events")
	}
	counter(descLost, uint64(m.a.dynamic.Dropped()), "leases")
}
