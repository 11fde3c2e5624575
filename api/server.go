// Package api is the appliance's REST API under /api/v1/ (JSON), its
// Prometheus metrics, and the Go client the CLI uses.
//
//	GET    /api/v1/openapi.json                              this API's OpenAPI 3.1 description (openapi.yaml); no token needed
//	GET    /api/v1/whoami                                    the token's name and whether it may write
//	POST   /api/v1/backup[?secrets=1]                         the whole state as a tar archive (package backup); admin token
//	GET    /api/v1/fleet[?state=&profile=&subnet=&q=&offset=&limit=]  counts by state, and a page of systems with power and last boot
//	GET    /api/v1/{subnets,images,profiles,systems}         list (systems: ?profile=P&subnet=S&state=STATE)
//	POST   /api/v1/{subnets,images,profiles,systems}         add
//	GET    /api/v1/{subnets,images,profiles,systems}/NAME    show
//	PUT    /api/v1/{subnets,profiles,systems}/NAME           edit (subnets, systems: rename by a new name in the body)
//	PATCH  /api/v1/{subnets,profiles,systems}/NAME           edit only the fields given (JSON merge patch, RFC 7386; null removes)
//	       GET of one object answers its ETag; PUT and PATCH with If-Match: ETAG get 412 if it changed since
//	PUT    /api/v1/images/NAME                               new files (a diskless image's boot environment is rebuilt)
//	POST   /api/v1/bootenv {"images": [...]}                 rebuild diskless boot environments (all when none is named)
//	DELETE /api/v1/{subnets,images,profiles,systems}/NAME    remove
//	GET    /api/v1/systems/NAME/events[?last_boot=1]           boot events, oldest first (last_boot: the last boot, or the last build and what followed)
//	GET    /api/v1/systems/NAME/report                         the merged view: effective settings and their sources, kernel arguments, boot URL, last boot
//	GET    /api/v1/inventory[?group_by=KEY...|?host=NAME]       the Ansible inventory (ansible.go): groups and every host's vars, or one host's vars
//	GET    /api/v1/discovered[?limit=N&after=CURSOR]            unknown machines that took a pool lease, a page at a time (Link: rel="next")
//	GET    /api/v1/machines[?state=discovered|registered&limit=N&after=CURSOR]  machines that reported an inventory, paged (Link: rel="next")
//	GET|DELETE /api/v1/machines/KEY                             one (KEY: its boot MAC or DMI serial), with its inventory; forget it
//	POST   /api/v1/machines/KEY/accept {"name","profile","ip","subnet","reinstall"}  make it a system (201; ip "auto" or "": the lowest free address)
//	POST   /api/v1/machines/KEY/watch {"watch": true|false}     its agent stays up (true) or powers off when done
//	GET    /api/v1/machines/KEY/console[?since=D&lines=N]       a discovered machine's console, from its BMC's enrolment (console_machines.go)
//	GET    /api/v1/machines/KEY/console/stream[?since=D]        its lines as they come (Server-Sent Events)
//	GET    /api/v1/rules, POST /api/v1/rules                     discovery rules, in priority order; add
//	GET|PUT|PATCH|DELETE /api/v1/rules/NAME                      show, edit, remove a rule
//	POST   /api/v1/rules/NAME/test {"key": KEY}                  what the rule would do with that machine now, writing nothing
//	GET    /api/v1/systems/NAME/inventory                        its machine and inventory (404 when it never reported one)
//	GET    /api/v1/hooks, POST /api/v1/hooks {"name","url","events","system_filter","secret"}  webhooks (hooks.go); the secret is never answered
//	GET|DELETE /api/v1/hooks/NAME                               show (secret_set), remove a hook with its deliveries
//	POST   /api/v1/hooks/NAME/test                               POST a signed "test" event now (502: the receiver failed)
//	GET    /api/v1/hooks/NAME/deliveries[?limit=N]               its last deliveries, newest first: state, attempts, next try, last error
//	POST   /api/v1/systems/NAME/inspect                          its next network boot runs the inventory agent; powered there by its BMC (202)
//	PUT    /api/v1/blobs?sha256=HEX                          upload an image file (body = content)
//	GET    /api/v1/settings[/KEY], PUT /api/v1/settings/KEY {"value": ...}, DELETE /api/v1/settings/KEY
//	       PUT {"value": ..., "secret": true}: a secret setting (secretsettings.go), its value read only by GET ?secrets=1 (admin)
//	GET    /api/v1/export[?secrets=1], POST /api/v1/import[?dry_run=1] (YAML)
//	GET    /api/v1/history[?name=NAME&limit=N&before=ID]        the last N records (1,000; at most 10,000), Link: rel="next" to earlier ones
//	GET    /api/v1/records, POST /api/v1/records {"records": [...], "replace": false}, DELETE /api/v1/records?rr=RR
//	GET    /api/v1/templates, POST /api/v1/templates {"name","kind","text"}  list (built-ins too), add
//	GET|PUT|DELETE /api/v1/templates/NAME                      show, edit, remove (a user template)
//	GET    /api/v1/templates/NAME/render?system=SYS[&secrets=1] what SYS would get (token: BUILD-TOKEN; secret settings masked but for an admin's secrets=1)
//	POST   /api/v1/systems/NAME/reinstall                       a new build: pending, fresh token and deadline
//	POST   /api/v1/systems/NAME/abort                           end the build under way as failed
//	POST   /api/v1/systems/NAME/netboot {"netboot": true|false}  its network boot on or off, nothing else changed
//	GET    /api/v1/systems/NAME/power[?fresh=1], POST {"action": "on|off|soft|cycle|reset"}   BMC power (502: the BMC failed)
//	GET    /api/v1/power[?fresh=1]                              every BMC's power state: the last poll (fresh, admin token: asked now, in parallel)
//	GET    /api/v1/systems/NAME/install-log                     the log of its last failed install (text); admin token
//	GET    /api/v1/systems/NAME/console[?since=D&lines=N]        its console's status and last lines (console_routes.go)
//	GET    /api/v1/systems/NAME/console/stream[?since=D]         its console's lines as they come (Server-Sent Events)
//	POST   /api/v1/systems/NAME/console/attach                   interactive, full duplex: the body is typed, the answer is the console (console right)
//	POST   /api/v1/systems/NAME/console/capture {"on": true|false}  an operator's capture of its console (console right)
//	GET    /api/v1/events[?system=NAME&limit=N]                  recent events of every system (or one)
//	GET    /api/v1/events/stream[?system=NAME]                   events as they happen (Server-Sent Events)
//	GET    /api/v1/users, POST /api/v1/users {"name","role","scopes","full_name"}  people (users.go)
//	GET|PUT|DELETE /api/v1/users/NAME                            show, edit (role, scopes, full name), remove with their tokens
//	GET    /api/v1/tokens[?user=NAME]                            users' API tokens (tokens.go), never the tokens themselves
//	POST   /api/v1/tokens {"user","label","expires"}             a new token (201): the only answer holding it
//	DELETE /api/v1/tokens/ID, DELETE /api/v1/tokens?user=NAME   revoke one, or every one of a user (answers how many)
//	POST   /api/v1/login {"user","password"}                     directory login (login.go): a short-lived token; no token needed
//
// Every request but /healthz, /api/v1/openapi.json and /api/v1/login needs
// "Authorization: Bearer TOKEN": a user's token (package registry keeps
// their hashes), or one of the token files (admin, read-only: the
// break-glass admin and viewer). Each route needs one right (rights.go,
// the one table; package access says which role holds it), ?secrets=1
// the secrets right too; a caller limited by scopes acts only on the
// systems of its sites and profiles. The boot routes (scripts, images,
// data.cdb, templates by build token) are not here: machines fetch those
// without a token. With Config.Hosts, a request whose Host is not the
// appliance's is refused (421). Every change records who made it (the
// user, and the token's label) and the client's address in history. BMC
// passwords are accepted (bmc_password) and never returned.
package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/provision/provision/access"
	"github.com/provision/provision/images"
	"github.com/provision/provision/internal/ratelimit"
	"github.com/provision/provision/registry"
)

// Config is what the API serves from.
type Config struct {
	Registry *registry.Registry
	Blobs    *images.Store
	Events   *registry.EventLog   // boot events; nil: none
	Dynamic  *registry.DynamicLog // leases and discovered machines; nil: none
	// Auth says who a token belongs to; an error (unknown, expired) is
	// answered 401 with its message: then only the public routes answer.
	Auth    func(token string) (access.Principal, error)
	Log     *slog.Logger
	Metrics *prometheus.Registry
	// BootURL is the appliance's URL as machines reach it, and DNS the
	// name server they get when their subnet names none: both for
	// rendering templates (template render).
	BootURL, DNS string
	// Mirrors names the package archives the appliance caches, for the
	// templates' .URLs.Mirrors.
	Mirrors []string
	Power   Power // BMC power; nil: none
	// Backup, if set, writes the appliance's whole state to w as a backup
	// archive, the secrets (key, tokens) too when asked.
	Backup func(ctx context.Context, w io.Writer, secrets bool) error
	// PowerStates, if set, gives the last poll of a system's BMC (on, off,
	// or "" when none answered yet), for the fleet view.
	PowerStates func(system string) string
	// Builds, if set, powers the machines of builds: it boots one whose
	// build the API starts (reinstall) and powers off one whose build the
	// API ended as failed (abort), as the appliance does for the others.
	Builds Builds
	// PrepareImage, if set, completes an image before it is stored (add,
	// edit, bootenv build): for a diskless image, it measures the rootfs
	// and builds kernel and initrd from its kernel-package file.
	PrepareImage func(ctx context.Context, img *registry.Image) error
	// AfterBulk, if set, runs once a bulk import (a document of 1 MiB or
	// more) is answered: the appliance gives the memory its document,
	// decode and report held back to the system.
	AfterBulk func()
	// Health, if set, lists what keeps the appliance from serving every
	// machine (a missing boot loader): /healthz then answers 503 with it.
	Health func() []string
	// Hosts, if set, accepts the names and addresses the appliance answers
	// to in the Host header (HostName's form); any other is refused with
	// 421 (CheckHost). nil accepts every host.
	Hosts func(host string) bool
	// Inspect, if set, powers a system whose inspection the API started
	// into its next network boot, through its BMC.
	Inspect Inspect
	// Login, if set, signs a person in with a password (directory login):
	// the user it answers gets a token lasting LoginTTL (default
	// DefaultLoginTTL). Its errors: ldapauth's (wrong password,
	// directory unreachable), *access.Denied (no group gives a role),
	// the registry's.
	Login    func(ctx context.Context, user, password string) (*registry.User, error)
	LoginTTL time.Duration
	// Console, if set, is the machines' serial consoles (SOL): the
	// console routes and the console lines of system status.
	Console Console
}

type server struct {
	Config
	requests *prometheus.CounterVec
	logins   *ratelimit.Limiter // sign-in attempts per client address
}

// methodLabel is the metrics label of a request method: a client picks
// the method, so any other than HTTP's own is "other", or each junk method
// would make a time series of its own.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// healthz answers "ok", or 503 with the problems Health lists, one a line.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	var problems []string
	if s.Health != nil {
		problems = s.Health()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(problems) == 0 {
		w.Write([]byte("ok\n"))
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte("degraded\n" + strings.Join(problems, "\n") + "\n"))
}

// Handler returns the API, /healthz and /metrics on one mux.
func Handler(cfg Config) http.Handler {
	s := &server{Config: cfg, logins: newLoginLimiter()}
	s.registerMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	s.route(mux, "GET /metrics", promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{}).ServeHTTP)
	s.routes(mux)
	return s.logged(CheckHost(cfg.Hosts, s.authorized(mux)))
}

func (s *server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/openapi.json", s.openAPI) // OpenAPIPath
	s.route(mux, "GET /api/v1/whoami", s.whoami)
	s.route(mux, "GET /api/v1/fleet", s.fleet)
	s.route(mux, "POST /api/v1/backup", s.backup)
	s.route(mux, "GET /api/v1/subnets", s.listSubnets)
	s.route(mux, "POST /api/v1/subnets", s.addSubnet)
	s.route(mux, "GET /api/v1/subnets/{name}", s.showSubnet)
	s.route(mux, "PUT /api/v1/subnets/{name}", s.editSubnet)
	s.route(mux, "PATCH /api/v1/subnets/{name}", s.patchSubnet)
	s.route(mux, "DELETE /api/v1/subnets/{name}", s.removeSubnet)
	s.route(mux, "PUT /api/v1/blobs", s.putBlob)
	s.route(mux, "GET /api/v1/images", s.listImages)
	s.route(mux, "POST /api/v1/images", s.addImage)
	s.route(mux, "GET /api/v1/images/{name}", s.showImage)
	s.route(mux, "PUT /api/v1/images/{name}", s.editImage)
	s.route(mux, "DELETE /api/v1/images/{name}", s.removeImage)
	s.route(mux, "POST /api/v1/bootenv", s.buildBootenv)
	s.route(mux, "GET /api/v1/profiles", s.listProfiles)
	s.route(mux, "POST /api/v1/profiles", s.addProfile)
	s.route(mux, "GET /api/v1/profiles/{name}", s.showProfile)
	s.route(mux, "PUT /api/v1/profiles/{name}", s.editProfile)
	s.route(mux, "PATCH /api/v1/profiles/{name}", s.patchProfile)
	s.route(mux, "DELETE /api/v1/profiles/{name}", s.removeProfile)
	s.route(mux, "GET /api/v1/systems", s.listSystems)
	s.route(mux, "POST /api/v1/systems", s.addSystem)
	s.route(mux, "GET /api/v1/systems/{name}", s.showSystem)
	s.route(mux, "PUT /api/v1/systems/{name}", s.editSystem)
	s.route(mux, "PATCH /api/v1/systems/{name}", s.patchSystem)
	s.route(mux, "DELETE /api/v1/systems/{name}", s.removeSystem)
	s.route(mux, "GET /api/v1/systems/{name}/events", s.systemEvents)
	s.route(mux, "GET /api/v1/systems/{name}/report", s.systemReport)
	s.route(mux, "GET /api/v1/inventory", s.inventory)
	s.route(mux, "GET /api/v1/discovered", s.discovered)
	s.route(mux, "GET /api/v1/settings", s.listSettings)
	s.route(mux, "GET /api/v1/settings/{key}", s.getSetting)
	s.route(mux, "PUT /api/v1/settings/{key}", s.setSetting)
	s.route(mux, "DELETE /api/v1/settings/{key}", s.unsetSetting)
	s.route(mux, "GET /api/v1/export", s.export)
	s.route(mux, "POST /api/v1/import", s.importDoc)
	s.route(mux, "GET /api/v1/history", s.history)
	s.route(mux, "GET /api/v1/records", s.listRecords)
	s.route(mux, "POST /api/v1/records", s.addRecords)
	s.route(mux, "DELETE /api/v1/records", s.removeRecord)
	s.route(mux, "GET /api/v1/templates", s.listTemplates)
	s.route(mux, "POST /api/v1/templates", s.addTemplate)
	s.route(mux, "GET /api/v1/templates/{name}", s.showTemplate)
	s.route(mux, "PUT /api/v1/templates/{name}", s.editTemplate)
	s.route(mux, "DELETE /api/v1/templates/{name}", s.removeTemplate)
	s.route(mux, "GET /api/v1/templates/{name}/render", s.renderTemplate)
	s.route(mux, "POST /api/v1/systems/{name}/reinstall", s.reinstall)
	s.route(mux, "POST /api/v1/systems/{name}/abort", s.abort)
	s.route(mux, "POST /api/v1/systems/{name}/netboot", s.netboot)
	s.route(mux, "GET /api/v1/systems/{name}/power", s.powerState)
	s.route(mux, "POST /api/v1/systems/{name}/power", s.setPower)
	s.route(mux, "GET /api/v1/power", s.powerAll)
	s.route(mux, "GET /api/v1/systems/{name}/install-log", s.installLog)
	s.consoleRoutes(mux)
	s.route(mux, "GET /api/v1/events", s.listEvents)
	s.route(mux, "GET /api/v1/events/stream", s.streamEvents)
	s.route(mux, "GET /api/v1/machines", s.listMachines)
	s.route(mux, "GET /api/v1/machines/{key}", s.showMachine)
	s.route(mux, "DELETE /api/v1/machines/{key}", s.removeMachine)
	s.route(mux, "POST /api/v1/machines/{key}/accept", s.acceptMachine)
	s.route(mux, "POST /api/v1/machines/{key}/watch", s.watchMachine)
	s.route(mux, "GET /api/v1/rules", s.listRules)
	s.route(mux, "POST /api/v1/rules", s.addRule)
	s.route(mux, "GET /api/v1/rules/{name}", s.showRule)
	s.route(mux, "PUT /api/v1/rules/{name}", s.editRule)
	s.route(mux, "PATCH /api/v1/rules/{name}", s.patchRule)
	s.route(mux, "DELETE /api/v1/rules/{name}", s.removeRule)
	s.route(mux, "POST /api/v1/rules/{name}/test", s.testRule)
	s.route(mux, "GET /api/v1/systems/{name}/inventory", s.systemInventory)
	s.route(mux, "POST /api/v1/systems/{name}/inspect", s.inspect)
	s.route(mux, "GET /api/v1/hooks", s.listHooks)
	s.route(mux, "POST /api/v1/hooks", s.addHook)
	s.route(mux, "GET /api/v1/hooks/{name}", s.showHook)
	s.route(mux, "DELETE /api/v1/hooks/{name}", s.removeHook)
	s.route(mux, "POST /api/v1/hooks/{name}/test", s.testHook)
	s.route(mux, "GET /api/v1/hooks/{name}/deliveries", s.hookDeliveries)
	s.route(mux, "GET /api/v1/users", s.listUsers)
	s.route(mux, "POST /api/v1/users", s.addUser)
	s.route(mux, "GET /api/v1/users/{name}", s.showUser)
	s.route(mux, "PUT /api/v1/users/{name}", s.editUser)
	s.route(mux, "DELETE /api/v1/users/{name}", s.removeUser)
	s.route(mux, "GET /api/v1/tokens", s.listTokens)
	s.route(mux, "POST /api/v1/tokens", s.createToken)
	s.route(mux, "DELETE /api/v1/tokens", s.revokeTokens)
	s.route(mux, "DELETE /api/v1/tokens/{id}", s.revokeToken)
	mux.HandleFunc("POST /api/v1/login", s.login) // public: rate-limited per client address
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (Flush, for
// the events stream).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logged logs one line per request (never bodies, so never secrets) and
// counts it.
func (s *server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.requests.WithLabelValues(methodLabel(r.Method), http.StatusText(sw.status)).Inc()
		s.Log.Info("http", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"remote", r.RemoteAddr, "dur", time.Since(start).Round(time.Microsecond))
	})
}
