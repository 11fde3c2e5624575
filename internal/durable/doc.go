// Package durable makes a file the appliance writes survive a crash: the
// file's own data is synced before it is closed (by its writer), and the
// directory it was created or renamed in is synced after (SyncDir), or
// after a power loss the name may point at nothing. The secret key, the
// API tokens, the TLS key, image files and backups are written this way.
package durable
