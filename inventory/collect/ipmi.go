package collect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/app"
	"github.com/bougou/go-ipmi/pkg/types"

	"github.com/provision/provision/inventory"
)

// The IPMI limits EnrolUser works within (IPMI 2.0, 22.28 and 22.30).
const (
	maxUserName = 16
	maxPassword = 20 // the 20-byte form; 16 bytes fit the short one
	privAdmin   = 4
)

// ErrSOL wraps the BMC's refusal of Set User Payload Access: the user
// was created and works over IPMI, without SOL.
var ErrSOL = errors.New("sol")

// OpenIPMI connects to the BMC in-band through device (/dev/ipmiN, the
// kernel's ipmi_devintf). Close the client when done.
func OpenIPMI(ctx context.Context, device string) (*client.Client, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(device, "/dev/ipmi"))
	if err != nil || !strings.HasPrefix(device, "/dev/ipmi") {
		return nil, fmt.Errorf("ipmi: %s: not an IPMI device (/dev/ipmiN)", device)
	}
	if _, err := os.Stat(device); err != nil {
		return nil, fmt.Errorf("ipmi: %w", err)
	}
	c, err := client.NewOpenClient()
	if err != nil {
		return nil, fmt.Errorf("ipmi: %w", err)
	}
	if err := c.ConnectOpen(ctx, int32(n)); err != nil {
		return nil, fmt.Errorf("ipmi: %s: %w", device, err)
	}
	return c, nil
}

// bmc reads the BMC's LAN settings in-band, if there is a BMC.
func (c *collector) bmc(ctx context.Context) *inventory.BMCLAN {
	dev := c.o.IPMIDevice
	if dev == "" {
		dev = DefaultIPMIDevice
	}
	if dev == "-" {
		return nil
	}
	if _, err := os.Stat(dev); os.IsNotExist(err) {
		return nil // no BMC, or no ipmi_si driver for it: not an error
	}
	ic, err := OpenIPMI(ctx, dev)
	if err != nil {
		c.errorf("bmc: %v", err)
		return nil
	}
	defer ic.Close(ctx)
	b, err := BMCLAN(ctx, ic)
	if err != nil {
		c.errorf("bmc: %v", err)
		return nil
	}
	return b
}

// LANChannel is the BMC's first 802.3 LAN channel.
func LANChannel(ctx context.Context, c *client.Client) (uint8, error) {
	var last error
	for ch := uint8(1); ch <= 0x0b; ch++ {
		info, err := c.GetChannelInfo(ctx, ch)
		if err != nil {
			last = err
			continue
		}
		if info.ChannelMedium == types.ChannelMediumLAN {
			return ch, nil
		}
	}
	if last != nil {
		return 0, fmt.Errorf("ipmi: no LAN channel (%w)", last)
	}
	return 0, errors.New("ipmi: no LAN channel")
}

// BMCLAN reads the first LAN channel's settings (Get LAN Configuration
// Parameters 3, 4, 5, 6 and 12).
func BMCLAN(ctx context.Context, c *client.Client) (*inventory.BMCLAN, error) {
	ch, err := LANChannel(ctx, c)
	if err != nil {
		return nil, err
	}
	ip, src, mac := &types.LanConfigParam_IP{}, &types.LanConfigParam_IPSource{}, &types.LanConfigParam_MAC{}
	mask, gw := &types.LanConfigParam_SubnetMask{}, &types.LanConfigParam_DefaultGatewayIP{}
	b := &inventory.BMCLAN{Channel: int(ch)}
	for _, p := range []types.LanConfigParameter{ip, src, mac, mask, gw} {
		if err := c.GetLanConfigParamFor(ctx, ch, p); err != nil {
			sel, _, _ := p.LanConfigParameter()
			return nil, fmt.Errorf("ipmi: channel %d: %s: %w", ch, sel, err)
		}
	}
	b.IP, b.Netmask, b.Gateway = ipString(ip.IP), ipString(mask.SubnetMask), ipString(gw.IP)
	if len(mac.MAC) == 6 {
		b.MAC = mac.MAC.String()
	}
	b.Source = ipSource(src.Source)
	return b, nil
}

func ipString(ip []byte) string {
	if len(ip) == 0 {
		return ""
	}
	return net.IP(ip).String()
}

func ipSource(s types.LanIPAddressSource) string {
	switch s {
	case types.IPAddressSourceStatic:
		return "static"
	case types.IPAddressSourceDHCP:
		return "dhcp"
	case types.IPAddressSourceBIOS:
		return "bios"
	}
	return "other"
}

// EnrolUser creates the BMC user named user with password, or sets it
// again when a user of that name exists: administrator on the first LAN
// channel, enabled, with IPMI messaging, link authentication and, when
// the BMC allows it, SOL. It takes the first empty slot, never slot 1
// (the anonymous user) and never another named user's. A BMC that
// refuses only SOL is an error wrapping ErrSOL, with the user's slot
// and channel: the user works without it.
func EnrolUser(ctx context.Context, c *client.Client, user, password string) (userID, channel int, err error) {
	if user == "" || len(user) > maxUserName {
		return 0, 0, fmt.Errorf("ipmi: user %q: a name of 1 to %d bytes", user, maxUserName)
	}
	if password == "" || len(password) > maxPassword {
		return 0, 0, fmt.Errorf("ipmi: user %s: a password of 1 to %d bytes", user, maxPassword)
	}
	ch, err := LANChannel(ctx, c)
	if err != nil {
		return 0, 0, err
	}
	id, named, err := userSlot(ctx, c, ch, user)
	if err != nil {
		return 0, int(ch), err
	}
	fail := func(step string, err error) (int, int, error) {
		return int(id), int(ch), fmt.Errorf("ipmi: user %s (slot %d): %s: %w", user, id, step, err)
	}
	if !named {
		if _, err := c.SetUsername(ctx, id, user); err != nil {
			return fail("set user name", err)
		}
	}
	if _, err := c.SetUserPassword(ctx, id, password, len(password) > 16); err != nil {
		return fail("set password", err)
	}
	if err := c.EnableUser(ctx, id); err != nil {
		return fail("enable", err)
	}
	if _, err := c.SetUserAccess(ctx, &app.SetUserAccessRequest{
		EnableChanging: true, EnableLinkAuth: true, EnableIPMIMessaging: true,
		ChannelNumber: ch, UserID: id, MaxPrivLevel: privAdmin,
	}); err != nil {
		return fail(fmt.Sprintf("set channel %d access", ch), err)
	}
	sol := &app.SetUserPayloadAccessRequest{ChannelNumber: ch, UserID: id,
		Operation: app.SetUserPayloadAccessOperationEnable, PayloadTypeSOL: true}
	if err := c.Exchange(ctx, sol, &app.SetUserPayloadAccessResponse{}); err != nil {
		return int(id), int(ch), fmt.Errorf("ipmi: user %s (slot %d): %w: payload access refused: %w", user, id, ErrSOL, err)
	}
	return int(id), int(ch), nil
}

// userSlot is the slot of the user named user (named true), else the
// first empty slot after 1.
func userSlot(ctx context.Context, c *client.Client, ch uint8, user string) (id uint8, named bool, err error) {
	acc, err := c.GetUserAccess(ctx, ch, 1)
	if err != nil {
		return 0, false, fmt.Errorf("ipmi: channel %d: get user access: %w", ch, err)
	}
	max := acc.MaxUsersIDCount
	for i := uint8(2); i <= max && i < 64; i++ {
		name, err := c.GetUsername(ctx, i)
		if err != nil {
			if r, ok := types.IsResponseError(err); ok && r.CompletionCode() == types.CodeRequestDataFieldInvalid {
				continue // a slot the BMC does not have
			}
			return 0, false, fmt.Errorf("ipmi: user slot %d: %w", i, err)
		}
		switch {
		case name.Username == user:
			return i, true, nil
		case name.Username == "" && id == 0:
			id = i
		}
	}
	if id == 0 {
		return 0, false, fmt.Errorf("ipmi: no free user slot among %d for user %s", max, user)
	}
	return id, false, nil
}
