package appliance

import "runtime/debug"

// giveBackMin is the least memory let go of at once that giveBack returns
// to the system at once.
const giveBackMin = 16 << 20

// giveBack returns to the system the memory the appliance just let go of,
// when that is much: data.cdb's records once they are kept on disk (about
// 45 MiB at 100,000 systems, after every start and every bulk import).
// Left to the garbage collector, it stays in the process until the next
// cycles and the scavenger reach it, which an idle appliance may not do
// for minutes; a forced cycle costs about what one cycle costs.
func giveBack(bytes int64) {
	if bytes >= giveBackMin {
		debug.FreeOSMemory()
	}
}

// giveBackBulk returns to the system what a bulk import let go of once it
// is answered: its document, decode and report (hundreds of MiB at
// 100,000 systems), which the cycle that data.cdb's giveBack forces may
// have found still in use.
func giveBackBulk() { debug.FreeOSMemory() }
