package inventory

// Report is what the agent posts to /discovery/inventory.
type Report struct {
	// Token is the inspection token of a registered system that its
	// appliance booted into the agent (provision.inspect= on the kernel
	// command line); "" for an unknown machine.
	Token     string    `json:"token,omitempty"`
	Inventory Inventory `json:"inventory"`
}

// Actions an Instruction gives the agent.
const (
	ActionWait     = "wait"     // ask again (GET /discovery/next) in Poll seconds
	ActionEnrol    = "enrol"    // create the BMC user of Enrol in-band, then post an Enrolment
	ActionPowerOff = "poweroff" // power the machine off
	ActionReboot   = "reboot"   // reboot (the appliance has decided what it boots next)
)

// Instruction is the appliance's answer to each of the agent's requests.
type Instruction struct {
	Action string `json:"action"`
	Poll   int    `json:"poll,omitempty"` // seconds, for ActionWait
	// Enrol is the BMC user to create, for ActionEnrol. Its password is
	// the appliance's, made for this machine: the agent never logs it.
	Enrol *EnrolUser `json:"enrol,omitempty"`
	// Message says why, for the console.
	Message string `json:"message,omitempty"`
}

// EnrolUser is the BMC user the agent creates: administrator privilege,
// enabled, with IPMI messaging and SOL on the LAN channel.
type EnrolUser struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// Enrolment is what the agent posts to /discovery/enrol: how creating
// the user went.
type Enrolment struct {
	MAC   string `json:"mac"`
	Token string `json:"token,omitempty"`
	OK    bool   `json:"ok"`
	// UserID is the BMC user slot that was set; Channel the LAN channel
	// whose access was given.
	UserID  int     `json:"user_id,omitempty"`
	Channel int     `json:"channel,omitempty"`
	Error   string  `json:"error,omitempty"` // why it failed, when !OK
	BMC     *BMCLAN `json:"bmc,omitempty"`   // the LAN settings read again
}
