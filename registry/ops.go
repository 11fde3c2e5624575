package registry

// Object kinds, as stored and shown in history.
const (
	ObjSubnet  = "subnet"
	ObjImage   = "image"
	ObjProfile = "profile"
	ObjSystem  = "system"
	ObjSetting = "setting"
)

// Op is one change for a Store to commit: put Obj under Name (replacing
// the object stored under Prev, if any), or delete Prev when Obj is nil.
// Every Op of one commit is applied in one transaction, with its audit
// record.
type Op struct {
	Kind  string // ObjSubnet, ...
	Prev  string // key before the change; "" when the object is new
	Name  string // key after the change; "" when the object is removed
	Obj   any    // *Subnet, *Image, *Profile, *System, *Setting, *Record or *kickstart.Template; nil to remove
	Audit Change
	Log   *InstallLog  // an installer log to keep with the change, or nil
	Link  *MachineLink // a discovered machine that the change registers, or nil
}

// MachineLink is a discovered machine registered as a system by a
// commit (AcceptMachine): its machines row is marked in the same
// transaction.
type MachineLink struct {
	MAC, SystemID, Rule string
}
