package kickstart

// Kinds of template, which decide the installer's kernel arguments (BootArgs).
const (
	KindKickstart   = "kickstart"   // anaconda (RHEL/Rocky/Alma): inst.ks=URL
	KindPreseed     = "preseed"     // debian-installer: auto=true priority=critical url=URL
	KindAutoinstall = "autoinstall" // Ubuntu subiquity (cloud-init NoCloud): autoinstall ds=nocloud-net;s=URL/
	KindScript      = "script"      // any other installer: provision.ks=URL only
	KindDeploy      = "deploy"      // a disk image's deployer: provision.deploy=URL (a plan the boot environment runs)
	KindSnippet     = "snippet"     // only included by other templates, never served on its own
)

// Kinds lists every kind of template.
var Kinds = []string{KindKickstart, KindPreseed, KindAutoinstall, KindScript, KindDeploy, KindSnippet}

// knownKind reports whether kind is one of the kinds above. It does not
// read Kinds, which a caller could change.
func knownKind(kind string) bool {
	switch kind {
	case KindKickstart, KindPreseed, KindAutoinstall, KindScript, KindDeploy, KindSnippet:
		return true
	}
	return false
}

// BootArgs returns the installer kernel arguments that point an installer
// of the given kind at url, the build's template URL (Server/ks/TOKEN):
//
//	kickstart    inst.ks=URL
//	preseed      auto=true priority=critical url=URL
//	autoinstall  autoinstall ds=nocloud-net;s=URL/  (cloud-init fetches URL/user-data and URL/meta-data)
//	script       (none)
//	deploy       provision.deploy=URL only: the disk image's boot environment
//	             fetches the plan there and deploys (package bootenv)
//
// Every installer kind also gets provision.ks=URL, last, so that scripts in any
// installer can find their template. A snippet, which is never served, or
// an unknown kind gets nil.
func BootArgs(kind, url string) []string {
	var args []string
	switch kind {
	case KindKickstart:
		args = []string{"inst.ks=" + url}
	case KindPreseed:
		args = []string{"auto=true", "priority=critical", "url=" + url}
	case KindAutoinstall:
		args = []string{"autoinstall", "ds=nocloud-net;s=" + url + "/"}
	case KindScript:
	case KindDeploy:
		return []string{"provision.deploy=" + url}
	default:
		return nil
	}
	return append(args, "provision.ks="+url)
}
