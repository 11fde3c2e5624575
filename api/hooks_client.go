package api

import (
	"context"
	"strconv"

	"github.com/provision/provision/registry"
)

// AddHook adds a webhook and answers it as stored (without its secret).
func (c *Client) AddHook(ctx context.Context, in HookInput) (*registry.Hook, error) {
	var out registry.Hook
	return &out, c.Do(ctx, "POST", Path("hooks"), in, &out)
}

// TestHook POSTs a signed test event to hook name now.
func (c *Client) TestHook(ctx context.Context, name string) (*HookTest, error) {
	var out HookTest
	return &out, c.Do(ctx, "POST", Path("hooks", name, "test"), nil, &out)
}

// HookDeliveries lists hook name's last limit deliveries, newest first.
func (c *Client) HookDeliveries(ctx context.Context, name string, limit int) ([]registry.Delivery, error) {
	var out []registry.Delivery
	return out, c.Do(ctx, "GET", Path("hooks", name, "deliveries")+"?limit="+strconv.Itoa(limit), nil, &out)
}
