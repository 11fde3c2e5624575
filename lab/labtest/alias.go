package labtest

import (
	"regexp"

	"github.com/provision/provision/lab"
)

// Package lab's types, under the names tests use.
type (
	BMCSim      = lab.BMCSim
	BMCOptions  = lab.BMCOptions
	BMCLAN      = lab.BMCLAN
	Switch      = lab.Switch
	PoweredVM   = lab.PoweredVM
	Proc        = lab.Proc
	Reservation = lab.Reservation
	Transcript  = lab.Transcript
	VM          = lab.VM
	VMOptions   = lab.VMOptions
	Upstream    = lab.Upstream
	Fetch       = lab.Fetch
)

// Package lab's constants; see there.
const (
	ServerIface = lab.ServerIface
	BridgeIface = lab.BridgeIface

	BootedMarker         = lab.BootedMarker
	DHCPMarker           = lab.DHCPMarker
	PoweroffMarker       = lab.PoweroffMarker
	InstallerMarker      = lab.InstallerMarker
	FetchedMarker        = lab.FetchedMarker
	FetchFailedMarker    = lab.FetchFailedMarker
	DiskMarker           = lab.DiskMarker
	DoneMarker           = lab.DoneMarker
	FailedReportedMarker = lab.FailedReportedMarker
	HangingMarker        = lab.HangingMarker
	DoneRefusedMarker    = lab.DoneRefusedMarker
	RebootMarker         = lab.RebootMarker
	ShellMarker          = lab.ShellMarker
	ErrorMarker          = lab.ErrorMarker
	FailedOnPurpose      = lab.FailedOnPurpose
	LabShellArg          = lab.LabShellArg
	DiskBootedMarker     = lab.DiskBootedMarker
	DiskBootedExit       = lab.DiskBootedExit

	ModeOK   = lab.ModeOK
	ModeFail = lab.ModeFail
	ModeHang = lab.ModeHang

	DiskLabelOffset    = lab.DiskLabelOffset
	DiskTemplateOffset = lab.DiskTemplateOffset

	OVMFCode       = lab.OVMFCode
	OVMFSecureCode = lab.OVMFSecureCode
	OVMFMSVars     = lab.OVMFMSVars
)

// ErrNotInstalled is returned by ReadInstalled for a disk without the
// installer's label.
var ErrNotInstalled = lab.ErrNotInstalled

// BootSector is lab.BootSector: the MBR the lab installer writes.
func BootSector() []byte { return lab.BootSector() }

// BootedPattern is lab.BootedPattern: it matches the boot marker.
func BootedPattern() *regexp.Regexp { return lab.BootedPattern() }

// ReadInstalled is lab.ReadInstalled: what the lab installer wrote on a
// disk image.
func ReadInstalled(path string) (host string, template []byte, err error) {
	return lab.ReadInstalled(path)
}

// Summary is lab.Summary: how many fetches, by status, and their bytes.
func Summary(fs []Fetch) string { return lab.Summary(fs) }
