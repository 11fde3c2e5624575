// Package ui is the appliance's web dashboard, served on the API listener
// under /ui/: the fleet (every system with its state, power, profile,
// addresses and last boot; counts by state; filters and search, paged by
// the server), one host (its boot timeline as a waterfall, effective
// settings and where each comes from, the rendered template, history and,
// for the admin token, the installer log of a failed build, and its
// hardware inventory, and its serial console: the capture's state and
// the last lines, then each line as it comes, through the API's console
// stream relayed as the session, with Start and Stop capture for the
// console right), the discovered machines (their inventories, a form
// that accepts one as a system, and the same Console panel, read-only:
// the appliance captures a machine's console from its BMC's enrolment
// while its agent runs), the install templates (edited in
// the page), and actions (reinstall, abort, inspect, power, netboot)
// behind a confirmation that names the host.
//
// The dashboard follows the role: the header names who is signed in
// ("alice · operator", with its scopes; "admin token"), and a page shows
// an action only when the session holds the right the API asks for it
// (session.Can, from whoami's rights) and, for a scoped person, only on
// systems of its sites and profiles. The API refuses the rest anyway: a
// stale or forged form gets the API's 403 and its reason on the page.
//
// The dashboard is a client of the API, not a second way into the
// registry: every page and action is an API request made in-process with
// the session's token, so it is authorized, validated and recorded in
// history exactly as the CLI's. The token is given once, in the login
// form, or made by the API's POST /api/v1/login from a directory user's
// name and password (Config.DirectoryLogin shows that form; the request
// carries the browser's address, which the API's rate limit counts, and
// the password goes nowhere else), and kept server-side; the browser holds only a random session id
// in an HttpOnly, SameSite=Strict cookie (Secure over TLS, Config.TLS),
// at most 16 sessions per token. Every form carries a CSRF token (the
// session's; the login form's in a cookie of its own, double submit), a
// POST whose Origin or Referer is another site's is refused, and so is a
// Host that is not the appliance's (Config.Hosts, DNS rebinding). Pages are
// server-rendered (html/template escapes every value) with a little
// JavaScript that follows the events stream and refreshes what changed;
// the Content-Security-Policy allows nothing from outside the appliance.
package ui
