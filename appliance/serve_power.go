package appliance

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/bind"
	"github.com/provision/provision/ipmi"
)

// pollPower reads every BMC's power state each --power-poll: gauges
// provision_power_on and provision_bmc_up per system, and a power event
// on the system's timeline when its state changes.
func (a *Appliance) pollPower(ctx context.Context) error {
	every, _ := time.ParseDuration(a.cfg.PowerPoll)
	if every == 0 {
		return nil
	}
	on := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "provision_power_on", Help: "1 when the system's BMC says it is on, 0 off (last poll)"}, []string{"system"})
	up := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "provision_bmc_up", Help: "1 when the system's BMC answered the last poll"}, []string{"system"})
	a.metrics.MustRegister(on, up)
	p := &ipmi.Poller{Controller: a.power, Interval: every,
		BMCs: func() []ipmi.BMC {
			var out []ipmi.BMC
			for _, sys := range a.reg.Snapshot().Systems() {
				if b, ok := bind.BMC(sys); ok {
					out = append(out, b)
				}
			}
			return out
		},
		Report: func(r ipmi.Reading) {
			if r.Err != nil {
				up.WithLabelValues(r.System).Set(0)
				a.powerStates.Store(r.System, "unknown")
				return
			}
			a.powerStates.Store(r.System, r.State)
			up.WithLabelValues(r.System).Set(1)
			v := 0.0
			if r.State == ipmi.On {
				v = 1
			}
			on.WithLabelValues(r.System).Set(v)
		},
		Changed: func(r ipmi.Reading) { a.events.Record(bind.PowerEvent(r)) },
	}
	return p.Run(ctx)
}
