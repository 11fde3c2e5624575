// Package mirror is the appliance's pull-through cache of package
// archives: installers and installed systems on a network with no route
// out fetch Debian (and Ubuntu, or a RHEL-family tree) from
// http://APPLIANCE/NAME/PATH, and the cache fetches from the upstream
// archive only what it does not hold.
//
// An archive is NAME=URL (ParseArchive, --mirror) or taken from the
// appliance's own apt sources (AptSources). Files come in two kinds:
//
//   - Immutable files never change once published: pool/..., any
//     .../by-hash/..., *.deb *.udeb *.rpm *.drpm, and repodata/ files
//     other than repomd.xml*. They are kept on disk at Dir/NAME/PATH,
//     written to a temporary file and renamed, and served with
//     http.ServeContent (Range, If-Range, HEAD). A hit never asks
//     upstream. A miss downloads the file once however many clients ask
//     (singleflight): the first client gets the bytes as they arrive, the
//     others (and a Range) are served from the finished file. A body
//     shorter than its Content-Length or a read error is never kept, and
//     a file bigger than MaxBytes/4 is passed through.
//   - Index files are everything else (Release, InRelease, Packages.xz,
//     repomd.xml, the installer's files). Their signatures are what apt
//     checks, so they pass through untouched: a reverse proxy over
//     httpcache, which keeps a copy at Dir/.index/NAME/<sha256 of the URL>
//     and revalidates it (If-None-Match, If-Modified-Since, 304). Every
//     upstream request says "Cache-Control: stale-if-error", so a failing
//     upstream leaves the copy in use. An upstream answer with no
//     validators and no Cache-Control or Expires is fresh for IndexTTL
//     (RFC 9111 4.2.2 heuristic freshness), since some proxies in front
//     of deb.debian.org send neither.
//
// The cache's freshness policy is its own: a client's Cache-Control (apt
// sends max-age=0 for every index), conditionals and Range on an index
// file are not sent upstream, so such a client gets a whole 200. The
// query string is dropped; Authorization and Cookie never go upstream.
// A miss that must wait (HEAD, Range) waits for the whole file. A
// download gives up after 2 minutes without a byte.
//
// Both kinds share one LRU bounded by bytes (MaxBytes); evicting removes
// the file, and New rebuilds the LRU from Dir ordered by mtime, which a
// hit refreshes. Every file is opened through an os.Root, so no path or
// symlink leads out of Dir.
//
// With upstream down, cached files are still served; the rest get 502
// "mirror NAME: upstream URL: reason", and OnUpstreamError is called once
// per failed fetch. Stats counts hits, misses, revalidations, upstream
// errors, evictions and bytes, per archive.
package mirror
