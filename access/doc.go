// Package access decides who may do what on the appliance: three fixed
// roles (viewer, operator, admin), the rights each holds, and scopes that
// narrow a person's rights on systems to those of a site or a profile.
//
// A Principal is who a request comes from: a user with a token, a user
// signed in through the directory, or one of the two break-glass token
// files (admin, read-only). The API asks Principal.Can for the right a
// route needs, and Principal.CheckSystem for a system the route is about;
// the registry asks the same of every system a change adds, edits or
// removes. The rights of the roles are in one table (roleRights), shown
// to operators by RightsTable.
//
// Directory groups map to roles with GroupRoles: a person in several
// mapped groups gets the highest role among them, with the scopes of the
// groups that give it (none of them scoped: no scope).
package access
