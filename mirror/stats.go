package mirror

import "sync/atomic"

// Stats are one archive's counters since New (CachedBytes and CachedFiles:
// what the disk holds now, rebuilt ones included).
type Stats struct {
	Hits           int64 // requests served from the cache without a new download
	Misses         int64 // requests that needed a download (waiting for another client's counts too)
	Revalidations  int64 // index requests answered from the cache after upstream said 304
	UpstreamErrors int64 // failed upstream fetches (transport errors, 5xx, truncated bodies)
	Evictions      int64 // files removed to stay within MaxBytes
	UpstreamBytes  int64 // body bytes read from upstream
	ServedBytes    int64 // body bytes written to clients
	CachedBytes    int64
	CachedFiles    int64
}

// counters are an archive's Stats, updated atomically.
type counters struct {
	hits, misses, revalidations, upstreamErrors, evictions atomic.Int64
	upstreamBytes, servedBytes, cachedBytes, cachedFiles   atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Revalidations: c.revalidations.Load(),
		UpstreamErrors: c.upstreamErrors.Load(), Evictions: c.evictions.Load(),
		UpstreamBytes: c.upstreamBytes.Load(), ServedBytes: c.servedBytes.Load(),
		CachedBytes: c.cachedBytes.Load(), CachedFiles: c.cachedFiles.Load(),
	}
}

// stored notes a file entering (files 1) or leaving (files -1) the disk.
func (c *counters) stored(size, files int64) {
	c.cachedBytes.Add(size)
	c.cachedFiles.Add(files)
}
