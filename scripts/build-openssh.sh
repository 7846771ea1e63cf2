#!/usr/bin/env bash
# Builds OpenSSH VERSION from Debian's own source package (with Debian's patches, so libwrap and
# PAM work as on Debian) into /opt/sshfix-openssh/VERSION, for lab hosts that run a newer sshd
# than the machine's. Idempotent: a build that is present and answers with its version is reused.
#
#   scripts/build-openssh.sh 10.0p1          # Debian 13 (trixie)'s openssh
#
# The source comes through a private apt configuration holding only a deb-src entry for the
# suite; the machine's own apt sources and package lists are never changed. Build tools come from
# the machine's own suite (Debian 12): build-essential, autoconf, dpkg-dev and the -dev packages.
# Environment: SSHFIX_OPENSSH_PREFIX (default /opt/sshfix-openssh), SSHFIX_OPENSSH_SUITE (default
# from VERSION), SSHFIX_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

say() { printf 'build-openssh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

version=${1:-}
[ -n "$version" ] || die "usage: $0 VERSION (for example 10.0p1)"
case "$version" in
  *[!0-9a-z.]*) die "VERSION must look like 10.0p1, not '$version'" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root: it installs build packages and writes under /opt"

prefix_root=${SSHFIX_OPENSSH_PREFIX:-/opt/sshfix-openssh}
prefix="$prefix_root/$version"
mirror=${SSHFIX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
case "$version" in
  10.0p*) suite=${SSHFIX_OPENSSH_SUITE:-trixie} ;;
  *) suite=${SSHFIX_OPENSSH_SUITE:-} ;;
esac
[ -n "$suite" ] || die "no Debian suite known for OpenSSH $version: set SSHFIX_OPENSSH_SUITE (e.g. trixie, sid)"

# Debian's security updates may raise the portable suffix the binary reports (10.0p1's package
# says OpenSSH_10.0p2): the release (10.0) is what must match.
release=${version%%p*}
reports_release() { "$1" -V 2>&1 | grep -q "OpenSSH_${release}p"; }
if [ -x "$prefix/sbin/sshd" ] && reports_release "$prefix/sbin/sshd"; then
  say "OpenSSH $version is already built in $prefix"
  exit 0
fi

need=()
for pkg in build-essential autoconf dpkg-dev libssl-dev zlib1g-dev libpam0g-dev libwrap0-dev libselinux1-dev libedit-dev pkg-config; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing build packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || die "could not install ${need[*]}"
fi

work=$(mktemp -d /var/tmp/sshfix-openssh-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"
printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' "$mirror" "$suite" > "$work/apt/sources.list"
# Only this file's entry, and lists and caches of its own: the machine's apt state stays as it is.
apt_opts=(
  -o "Dir::Etc::SourceList=$work/apt/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$work/apt/lists"
  -o "Dir::Cache=$work/apt/cache"
  -o "APT::Get::List-Cleanup=false"
  -o "APT::Sandbox::User=root"
)
say "fetching the $suite source index from $mirror"
apt-get "${apt_opts[@]}" update -qq || die "could not read the $suite deb-src index from $mirror"
say "fetching and unpacking Debian's openssh source package (with its patches)"
( cd "$work/src" && apt-get "${apt_opts[@]}" source -qq openssh >/dev/null ) || die "apt-get source openssh failed for $suite"
srcdir=$(find "$work/src" -maxdepth 1 -type d -name "openssh-${version%%p*}*" | head -n 1)
[ -n "$srcdir" ] || die "the $suite source package is not OpenSSH $version: found $(ls "$work/src" | tr '\n' ' ')"

cd "$srcdir"
# Debian's patches change configure.ac (tcp-wrappers, selinux): regenerate configure.
say "configuring (PAM, libwrap, OpenSSL) for $prefix"
autoconf >/dev/null 2>&1 && autoheader >/dev/null 2>&1 || die "autoconf failed"
./configure -q \
  --prefix="$prefix" \
  --sysconfdir=/etc/ssh \
  --with-privsep-path=/run/sshd \
  --with-privsep-user=sshd \
  --with-pam \
  --with-tcp-wrappers \
  --with-ssl-engine \
  --with-default-path=/usr/local/bin:/usr/bin:/bin:/usr/games \
  --with-superuser-path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  >/dev/null || die "configure failed: see $srcdir/config.log"
grep -q '^#define LIBWRAP 1' config.h || die "configure did not enable libwrap (is libwrap0-dev installed?)"
grep -q '^#define USE_PAM 1' config.h || die "configure did not enable PAM (is libpam0g-dev installed?)"
say "compiling (a few minutes on 2 CPUs)"
make -s -j"$(nproc)" >/dev/null 2>"$work/make.log" || { tail -20 "$work/make.log" >&2; die "make failed"; }

# Install into a staging root, then move only the prefix into place: `make install` would also
# write /etc/ssh's config files and host keys, which are the machine's.
stage="$work/stage"
make -s DESTDIR="$stage" install-nokeys >/dev/null 2>"$work/install.log" || { tail -20 "$work/install.log" >&2; die "make install failed"; }
mkdir -p "$prefix_root"
rm -rf "$prefix.new"
cp -a "$stage$prefix" "$prefix.new"
rm -rf "$prefix"
mv "$prefix.new" "$prefix"

reports_release "$prefix/sbin/sshd" || die "the built sshd does not report OpenSSH_${release}: $("$prefix/sbin/sshd" -V 2>&1)"
ldd "$prefix/sbin/sshd" | grep -q libwrap || ldd "$prefix/libexec/sshd-session" | grep -q libwrap || die "the built sshd does not link libwrap"
say "built OpenSSH $version in $prefix:"
for b in sbin/sshd libexec/sshd-session libexec/sshd-auth bin/ssh bin/ssh-keygen; do
  [ -x "$prefix/$b" ] && say "  $prefix/$b"
done
exit 0
