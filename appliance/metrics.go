package appliance

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/dnsconf"
)

// protocolMetrics exports the DNS and DHCP servers' counters and the
// background writers' losses to /metrics, read at scrape time.
type protocolMetrics struct {
	a    *Appliance
	dns  *dnsconf.Server
	dhcp *dhcp.Server // nil when DHCP is off
}

var (
	descDNS = map[string]*prometheus.Desc{
		"queries":   prometheus.NewDesc("provision_dns_queries_total", "DNS messages received.", nil, nil),
		"malformed": prometheus.NewDesc("provision_dns_malformed_total", "DNS messages that did not parse.", nil, nil),
		"truncated": prometheus.NewDesc("provision_dns_truncated_total", "UDP answers sent empty with TC.", nil, nil),
		"limited":   prometheus.NewDesc("provision_dns_rate_limited_total", "UDP queries from outside the registered subnets dropped by the rate limit.", nil, nil),
		"serial":    prometheus.NewDesc("provision_dns_zone_serial", "Registry serial of the zone served.", nil, nil),
		"forwarded": prometheus.NewDesc("provision_dns_forwarded_total", "DNS queries for names outside the zone sent to upstream resolvers.", nil, nil),
		"cachehits": prometheus.NewDesc("provision_dns_cache_hits_total", "DNS queries for names outside the zone answered from the cache.", nil, nil),
		"upstream":  prometheus.NewDesc("provision_dns_upstream_failures_total", "Tries of upstream resolvers that failed: timeout, SERVFAIL, REFUSED or an error.", nil, nil),
		"cached":    prometheus.NewDesc("provision_dns_cache_entries", "Forwarded answers in the cache.", nil, nil),
	}
	descDNSReplies = prometheus.NewDesc("provision_dns_replies_total", "DNS replies by rcode.", []string{"rcode"}, nil)
	descDHCP       = prometheus.NewDesc("provision_dhcp_packets_total", "DHCP packets by outcome.", []string{"outcome"}, nil)
	descLost       = prometheus.NewDesc("provision_background_writes_lost_total",
		"Boot events, leases and sightings lost to a full buffer or a failed write; DHCP events lost to a slow consumer.", []string{"log"}, nil)
)

func (m *protocolMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descDNS {
		ch <- d
	}
	ch <- descDNSReplies
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
	for rcode, n := range st.Rcodes {
		counter(descDNSReplies, n, rcode)
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
