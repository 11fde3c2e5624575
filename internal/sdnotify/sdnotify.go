// Package sdnotify tells systemd how a Type=notify service is doing
// (sd_notify(3)): READY=1 once it serves, RELOADING=1 and STOPPING=1.
// Outside systemd ($NOTIFY_SOCKET unset) it does nothing.
package sdnotify

import (
	"net"
	"os"
)

// Notify sends state (lines such as "READY=1" and "STATUS=...") to the
// service manager; it reports false when there is none.
func Notify(state string) (bool, error) {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return false, nil
	}
	if name[0] == '@' { // an abstract socket
		name = "\x00" + name[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, err
	}
	return true, nil
}
