package api

import "github.com/provision/provision/access"

// need is what a route asks of its caller: a right, and what a caller
// limited to some systems (scopes) may do with the route.
type need struct {
	right access.Right
	scope scoping
}

// scoping is how a route meets a caller's scopes.
type scoping int

const (
	anyScope  scoping = iota // reads: scopes do not narrow them
	pathScope                // about the system named in the path: it must be in scope
	bodyScope                // writes systems named in its body: the registry checks each against the scopes
	noScope                  // about no one system: refused to a scoped caller
)

// public routes need no token.
var public = map[string]bool{
	"GET /healthz":       true,
	"GET " + OpenAPIPath: true,
	"POST /api/v1/login": true,
}

// routeRights is the one table of the right each route needs (package
// access says which roles hold it). A route missing here is refused
// when registered (route) and by TestRouteRights. Beyond the route's
// right, ?secrets=1 takes access.Secrets and ?fresh=1 access.Power
// (extraRight).
var routeRights = map[string]need{
	"GET /metrics":        {access.Read, anyScope},
	"GET /api/v1/whoami":  {access.Read, anyScope},
	"GET /api/v1/fleet":   {access.Read, anyScope},
	"POST /api/v1/backup": {access.Backup, noScope},

	"GET /api/v1/subnets":           {access.Read, anyScope},
	"POST /api/v1/subnets":          {access.Edit, noScope},
	"GET /api/v1/subnets/{name}":    {access.Read, anyScope},
	"PUT /api/v1/subnets/{name}":    {access.Edit, noScope},
	"PATCH /api/v1/subnets/{name}":  {access.Edit, noScope},
	"DELETE /api/v1/subnets/{name}": {access.Edit, noScope},

	"PUT /api/v1/blobs":            {access.Edit, noScope},
	"GET /api/v1/images":           {access.Read, anyScope},
	"POST /api/v1/images":          {access.Edit, noScope},
	"GET /api/v1/images/{name}":    {access.Read, anyScope},
	"PUT /api/v1/images/{name}":    {access.Edit, noScope},
	"DELETE /api/v1/images/{name}": {access.Edit, noScope},
	"POST /api/v1/bootenv":         {access.Edit, noScope},

	"GET /api/v1/profiles":           {access.Read, anyScope},
	"POST /api/v1/profiles":          {access.Edit, noScope},
	"GET /api/v1/profiles/{name}":    {access.Read, anyScope},
	"PUT /api/v1/profiles/{name}":    {access.Edit, noScope},
	"PATCH /api/v1/profiles/{name}":  {access.Edit, noScope},
	"DELETE /api/v1/profiles/{name}": {access.Edit, noScope},

	// A system's add, edit and removal are checked against the caller's
	// scopes by the registry, on the system before and after the change.
	"GET /api/v1/systems":                    {access.Read, anyScope},
	"POST /api/v1/systems":                   {access.Edit, bodyScope},
	"GET /api/v1/systems/{name}":             {access.Read, anyScope},
	"PUT /api/v1/systems/{name}":             {access.Edit, pathScope},
	"PATCH /api/v1/systems/{name}":           {access.Edit, pathScope},
	"DELETE /api/v1/systems/{name}":          {access.Edit, pathScope},
	"GET /api/v1/systems/{name}/events":      {access.Read, anyScope},
	"GET /api/v1/systems/{name}/report":      {access.Read, anyScope},
	"GET /api/v1/systems/{name}/inventory":   {access.Read, anyScope},
	"POST /api/v1/systems/{name}/reinstall":  {access.Build, pathScope},
	"POST /api/v1/systems/{name}/netboot":    {access.Build, pathScope},
	"POST /api/v1/systems/{name}/abort":      {access.Build, pathScope},
	"POST /api/v1/systems/{name}/inspect":    {access.Build, pathScope},
	"GET /api/v1/systems/{name}/power":       {access.Read, anyScope},
	"POST /api/v1/systems/{name}/power":      {access.Power, pathScope},
	"GET /api/v1/systems/{name}/install-log": {access.Secrets, anyScope},
	"GET /api/v1/power":                      {access.Read, anyScope},
	// A console shows what a machine prints (an installer's secrets too):
	// a scoped caller reads only the consoles of its systems.
	"GET /api/v1/systems/{name}/console":          {access.Read, pathScope},
	"GET /api/v1/systems/{name}/console/stream":   {access.Read, pathScope},
	"POST /api/v1/systems/{name}/console/attach":  {access.Console, pathScope},
	"POST /api/v1/systems/{name}/console/capture": {access.Console, pathScope},

	"GET /api/v1/inventory":         {access.Read, anyScope},
	"GET /api/v1/discovered":        {access.Read, anyScope},
	"GET /api/v1/machines":          {access.Read, anyScope},
	"GET /api/v1/machines/{key}":    {access.Read, anyScope},
	"DELETE /api/v1/machines/{key}": {access.Edit, noScope},
	// A discovered machine is of no site yet: its console is read as
	// the machine is (no attach or capture of a machine's console).
	"GET /api/v1/machines/{key}/console":        {access.Read, anyScope},
	"GET /api/v1/machines/{key}/console/stream": {access.Read, anyScope},
	// The system an accepted machine becomes is checked against the
	// caller's scopes by the registry.
	"POST /api/v1/machines/{key}/accept": {access.Accept, bodyScope},
	"POST /api/v1/machines/{key}/watch":  {access.Accept, noScope},

	"GET /api/v1/rules":              {access.Read, anyScope},
	"POST /api/v1/rules":             {access.Edit, noScope},
	"GET /api/v1/rules/{name}":       {access.Read, anyScope},
	"PUT /api/v1/rules/{name}":       {access.Edit, noScope},
	"PATCH /api/v1/rules/{name}":     {access.Edit, noScope},
	"DELETE /api/v1/rules/{name}":    {access.Edit, noScope},
	"POST /api/v1/rules/{name}/test": {access.Read, anyScope},

	"GET /api/v1/settings":          {access.Read, anyScope},
	"GET /api/v1/settings/{key}":    {access.Read, anyScope},
	"PUT /api/v1/settings/{key}":    {access.Edit, noScope},
	"DELETE /api/v1/settings/{key}": {access.Edit, noScope},
	"GET /api/v1/export":            {access.Read, anyScope},
	"POST /api/v1/import":           {access.Edit, noScope},
	"GET /api/v1/history":           {access.Read, anyScope},
	"GET /api/v1/records":           {access.Read, anyScope},
	"POST /api/v1/records":          {access.Edit, noScope},
	"DELETE /api/v1/records":        {access.Edit, noScope},

	"GET /api/v1/templates":               {access.Read, anyScope},
	"POST /api/v1/templates":              {access.Templates, noScope},
	"GET /api/v1/templates/{name}":        {access.Read, anyScope},
	"PUT /api/v1/templates/{name}":        {access.Templates, noScope},
	"DELETE /api/v1/templates/{name}":     {access.Templates, noScope},
	"GET /api/v1/templates/{name}/render": {access.Read, anyScope},

	"GET /api/v1/events":        {access.Read, anyScope},
	"GET /api/v1/events/stream": {access.Read, anyScope},

	"GET /api/v1/hooks":                   {access.Hooks, anyScope},
	"POST /api/v1/hooks":                  {access.Hooks, noScope},
	"GET /api/v1/hooks/{name}":            {access.Hooks, anyScope},
	"DELETE /api/v1/hooks/{name}":         {access.Hooks, noScope},
	"POST /api/v1/hooks/{name}/test":      {access.Hooks, noScope},
	"GET /api/v1/hooks/{name}/deliveries": {access.Hooks, anyScope},

	"GET /api/v1/users":           {access.Users, anyScope},
	"POST /api/v1/users":          {access.Users, noScope},
	"GET /api/v1/users/{name}":    {access.Users, anyScope},
	"PUT /api/v1/users/{name}":    {access.Users, noScope},
	"DELETE /api/v1/users/{name}": {access.Users, noScope},
	"GET /api/v1/tokens":          {access.Users, anyScope},
	"POST /api/v1/tokens":         {access.Users, noScope},
	"DELETE /api/v1/tokens":       {access.Users, noScope},
	"DELETE /api/v1/tokens/{id}":  {access.Users, noScope},
}
