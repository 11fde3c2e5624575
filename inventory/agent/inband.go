package agent

import (
	"context"

	"github.com/bougou/go-ipmi/pkg/client"

	"github.com/provision/provision/inventory"
	"github.com/provision/provision/inventory/collect"
)

// ErrSOL is collect.ErrSOL: the BMC user was made, without SOL.
var ErrSOL = collect.ErrSOL

// InBand opens the BMC through device (/dev/ipmi0) for Config.IPMI.
func InBand(device string) func(ctx context.Context) (BMC, error) {
	return func(ctx context.Context) (BMC, error) {
		c, err := collect.OpenIPMI(ctx, device)
		if err != nil {
			return nil, err
		}
		return ipmiBMC{c}, nil
	}
}

// ipmiBMC is a go-ipmi client as a BMC.
type ipmiBMC struct{ c *client.Client }

func (b ipmiBMC) EnrolUser(ctx context.Context, user, password string) (int, int, error) {
	return collect.EnrolUser(ctx, b.c, user, password)
}

func (b ipmiBMC) LAN(ctx context.Context) (*inventory.BMCLAN, error) { return collect.BMCLAN(ctx, b.c) }

func (b ipmiBMC) Close() error { return b.c.Close(context.Background()) }
