# Shared by scripts/test and scripts/demo: install Debian packages (as
# root) and find Go. Source it; set PACKAGES first.

# install_packages installs the packages of PACKAGES that are missing, and
# fetches apt's package lists when there are none: the lab downloads the
# current Debian kernel package (apt-get download) even when every package
# is installed.
install_packages() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "$0: not root on Debian; installing nothing" >&2
    return
  fi
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ] || ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "$0: installing ${missing[*]}" >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

find_go() {
  export PATH="$PATH:/usr/local/go/bin"
  if ! command -v go >/dev/null; then
    echo "$0: Go is needed (go.mod's version or newer): install it to /usr/local/go" >&2
    exit 1
  fi
}
