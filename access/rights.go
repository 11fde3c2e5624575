package access

// Right is what a request may need: each API route needs one.
type Right string

// The rights.
const (
	// Read: the registry, events, reports, history, discovered machines
	// and their inventory; never secrets, tokens or install logs.
	Read Right = "read"
	// Power: a system's BMC power (on, off, cycle...), and asking BMCs
	// their state now.
	Power Right = "power"
	// Build: reinstall, abort a build, inspect, boot once from the network.
	Build Right = "build"
	// Accept: make a discovered machine a system; keep its agent up.
	Accept Right = "accept"
	// Console: a system's serial console.
	Console Right = "console"
	// Edit: add, change and remove subnets, images, profiles, systems,
	// settings, records and discovery rules; import.
	Edit Right = "edit"
	// Templates: add, change and remove install templates.
	Templates Right = "templates"
	// Secrets: secret settings' values, renders and exports with secrets,
	// install logs (an installer's log may hold what its template set up).
	Secrets Right = "secrets"
	// Users: users and every user's tokens.
	Users Right = "users"
	// Hooks: webhooks and their deliveries.
	Hooks Right = "hooks"
	// Backup: the whole state as an archive.
	Backup Right = "backup"
)

// AllRights lists the rights, in the order the docs show them.
var AllRights = []Right{Read, Power, Build, Accept, Console, Edit, Templates, Secrets, Users, Hooks, Backup}

// roleRights is the one table of what each role may do.
var roleRights = map[Role][]Right{
	Viewer:   {Read},
	Operator: {Read, Power, Build, Accept, Console},
	Admin:    AllRights,
}

// systemRights are the rights a scope narrows to the systems in it; a
// scoped person has none of the others (they are not about one system).
var systemRights = map[Right]bool{Read: true, Power: true, Build: true, Accept: true, Console: true, Edit: true}

// about says what a right lets one do, for the docs and whoami.
var about = map[Right]string{
	Read:      "read the registry, events, reports, history, discovered machines (no secrets, tokens or install logs)",
	Power:     "power systems through their BMC; ask BMCs their state now",
	Build:     "reinstall, abort a build, inspect, netboot",
	Accept:    "accept discovered machines as systems",
	Console:   "a system's serial console",
	Edit:      "add, change, remove subnets, images, profiles, systems, settings, records, rules; import",
	Templates: "add, change, remove install templates",
	Secrets:   "secret settings, renders and exports with secrets, install logs",
	Users:     "users and everyone's tokens",
	Hooks:     "webhooks and their deliveries",
	Backup:    "the whole state as a backup archive",
}

// doings say what a right lets one do, for a refusal: "may not %s".
var doings = map[Right]string{
	Read: "read the registry", Power: "power systems", Build: "build systems", Accept: "accept machines",
	Console: "use consoles", Edit: "edit the registry", Templates: "edit templates", Secrets: "read secrets",
	Users: "manage users and tokens", Hooks: "manage webhooks", Backup: "back up the appliance",
}

func (r Right) doing() string { return doings[r] }

// onSystems is the verb of a scoped refusal: "may %s systems of site
// tokyo only". A right's name is its verb but for the console's.
func (r Right) onSystems() string {
	if r == Console {
		return "use the consoles of"
	}
	return string(r)
}

// About says what right lets one do.
func (r Right) About() string { return about[r] }

// Scoped reports whether a scope narrows right to the systems in it
// (false: a scoped person does not have it at all).
func (r Right) Scoped() bool { return systemRights[r] }
