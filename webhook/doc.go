// Package webhook delivers the registry's events to the hooks that take
// them: at least once, in order per system, retried with exponential
// backoff and full jitter (1 s up to 1 h between tries) for a day, then
// given up (dead) and listed. Events are kept by the registry (its
// outbox, written in the transaction of the change each reports); the
// delivery loop (Loop) fans them out, claims the due deliveries and
// POSTs them. Nothing that serves DHCP, DNS or writes the registry waits
// for a delivery.
//
// Each delivery is a POST of one JSON object:
//
//	{"event": "build.installed", "delivery": 42, "time": "2026-12-07T03:04:05.123Z",
//	 "system": {"name": "web001", "id": "6f1c..."},
//	 "change": {"op": "edit", "note": "installing -> installed (done)", "old": {...}, "new": {...}}}
//
// with the headers
//
//	Content-Type: application/json
//	X-Provision-Event: build.installed
//	X-Provision-Delivery: 42
//	X-Provision-Signature: sha256=HEX
//
// The signature is the HMAC-SHA256 of the body with the hook's secret,
// in hex, as GitHub signs its webhooks (sent when the hook has a
// secret). A receiver answers 2xx to take the event; anything else, or
// no answer within 10 s, is a failed try. A delivery is sent again after
// a failure, and may be sent again after an appliance stopped mid-try:
// receivers should use X-Provision-Delivery to drop repeats.
package webhook
