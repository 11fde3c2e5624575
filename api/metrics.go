package api

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func (s *server) registerMetrics() {
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "provision_http_requests_total", Help: "HTTP requests by method and status.",
	}, []string{"method", "status"})
	serial := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "provision_registry_serial", Help: "Serial of the current registry snapshot.",
	}, func() float64 { return float64(s.snap().Serial) })
	s.Metrics.MustRegister(s.requests, serial, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, kind := range []string{"subnet", "image", "profile", "system", "setting"} {
		s.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "provision_registry_objects", Help: "Objects in the registry by kind.",
			ConstLabels: prometheus.Labels{"kind": kind},
		}, func() float64 { return float64(s.snap().Count(kind)) }))
	}
}
