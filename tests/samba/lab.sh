#!/usr/bin/env bash
# tests/samba/lab.sh: a throwaway Samba Active Directory domain controller for the integration
# tests (design.md section 9; measured recipe in reference/samba-ad-lab.md).
#
# The domain: realm LAB.EXAMPLE, NetBIOS domain LAB, base DN DC=lab,DC=example, DC host name
# dc1.lab.example, administrator "Administrator" with the password in ADMIN_PASSWORD below. The
# seeded content is tests/samba/seed.ldif; its header lists exactly what is in it.
#
# Usage: tests/samba/lab.sh COMMAND [ARGS]
#   packages            print the Debian packages the harness needs, one per line
#   serve DIR           what the Rust harness (tests/support/samba.rs) runs: pick a free loopback
#                       address, restore the cached snapshot (or provision + seed + snapshot it),
#                       start the DC, print "key=value" lines and "ready" on stdout, then wait
#                       until stdin reaches end of file (or reads "stop"), kill the DC and delete
#                       DIR. The caller holds the other end of stdin: when the test process exits
#                       in any way, even by SIGKILL, the kernel closes it and the DC goes away.
#   provision DIR       provision a fresh domain into DIR (must not exist) and configure it for
#                       $LAB_ADDR (default 127.0.0.1)
#   configure DIR ADDR  (re)write DIR's smb.conf, krb5.conf and TLS files (a new CA and server
#                       certificate) for the loopback address ADDR
#   start DIR           start the DC in the background and wait until LDAP answers
#   wait DIR [SECS]     wait until the rootDSE answers over LDAP (default 60 s)
#   seed DIR            add tests/samba/seed.ldif over LDAPS (the DC must be running)
#   stop DIR            stop the DC gracefully (SIGTERM, then SIGKILL after 15 s)
#   kill DIR            kill the DC and all its processes at once (SIGKILL, about 0.2 s)
#   env DIR             print the connection details as key=value lines
#   logs DIR            print the tail of the DC's logs
#   reap                kill DCs whose `serve` supervisor is gone and delete their directories
#   cache-clear         delete the snapshot cache
#
# Manual use, e.g. to poke at the seeded domain with ldapsearch:
#   tests/samba/lab.sh provision /tmp/lab && tests/samba/lab.sh start /tmp/lab &&
#   tests/samba/lab.sh seed /tmp/lab && tests/samba/lab.sh env /tmp/lab
#   ... tests/samba/lab.sh kill /tmp/lab && rm -rf /tmp/lab
#
# Environment:
#   LAB_CACHE      snapshot cache directory (default $XDG_CACHE_HOME/hybridsync/samba-lab; the
#                  Rust harness passes target/tmp/samba-lab). LAB_CACHE=off disables the cache.
#   LAB_LOCK_DIR   where the address locks live (default /tmp/hybridsync-samba-lab)
#   LAB_ADDR       address for `provision` (default 127.0.0.1); `serve` picks its own
#   LAB_KEEP=1     `serve` keeps DIR (logs, databases) after stopping the DC
#   LAB_DISABLE    Samba services to switch off for `provision`/`configure`, e.g. "s3fs dns";
#                  `serve` sets it itself when another program holds port 53, 139 or 445
#
# Design decisions:
# - Addresses. Samba's AD ports (53, 88, 135, 389, 445, 464, 636, 3268, 3269, ...) are fixed, so
#   `serve` gives every DC its own address 127.0.0.100-127.0.0.199, claimed with flock(1) on
#   $LAB_LOCK_DIR/ADDR.lock for the DC's lifetime. Several DCs can run at once (two test
#   binaries under nextest, two checkouts, a shared and a private DC in one test binary).
#   Linux routes all of 127.0.0.0/8 to lo; Samba only accepts an address it finds on an
#   interface, so smb.conf names "ADDR/8" (the network of lo's 127.0.0.1/8): Samba then binds
#   exactly ADDR. Nothing listens on ::1 or any other address; IPv6 is not served.
# - Nothing outside DIR is written except the lock files and the cache: every path in smb.conf
#   (including the ncalrpc, winbindd and ntp_signd socket directories that otherwise default to
#   /run/samba and /var/lib/samba) points into DIR.
# - smb.conf is written by this script, not by `samba-tool domain provision`: provision drops
#   options that equal a compiled-in default (e.g. "ldap server require strong auth = no"),
#   copies the host's resolver into "dns forwarder" and adds [homes], [printers] and a mailing
#   panic action. Here: no forwarder, "dns update command = /bin/true" (samba_dnsupdate would ask
#   the host's resolvers), "ldb:nosync = yes" (bulk writes 5-7x faster; the data is a throwaway),
#   simple binds allowed over plain LDAP (the tests exercise LDAPS and StartTLS explicitly).
# - TLS: every configure makes a new CA (EC P-256) and a server certificate signed by it with
#   subjectAltName DNS:dc1.lab.example, DNS:lab.example, IP:ADDR, so clients verify the chain
#   against DIR/tls/ca.pem (never "accept any certificate"). A ready key also saves the 2-4 s in
#   which Samba would generate an RSA-4096 key on first start.
# - Processes: Samba runs under setsid(1) in the foreground (-F), so its pid is known exactly.
#   DIR/samba.pid holds "PID STARTTIME" (field 22 of /proc/PID/stat): both must match before any
#   signal is sent, so a reused pid is never hit (Samba rewrites its command line, which
#   therefore cannot identify it). Samba inherits no descriptor but 0-2 (an inherited lock would
#   stay held for its lifetime). `kill` freezes the master (SIGSTOP), collects its whole process
#   tree from /proc (smbd and winbindd start sessions of their own, so a process-group kill
#   would miss them) and SIGKILLs it: ~0.2 s against 1-2 s for a graceful SIGTERM stop.
# - Snapshot cache: after provision + seed the DC is stopped gracefully and private/, state/ and
#   bind-dns/ are copied (cp -a keeps the sysvol ACL xattrs) into $LAB_CACHE/KEY, fsynced, and
#   renamed into place, so a half-written snapshot is never used. KEY hashes this script,
#   seed.ldif and `samba -V`: any change to them builds a new snapshot (older ones are pruned).
#   Concurrent `serve`s build a missing snapshot once (flock on KEY.lock); the others wait. A
#   restored snapshot must start and hold the seeded entry count under OU=Corp, else it is
#   deleted and rebuilt, once.
# - Root only: Samba refuses to run otherwise (it also sets ACL xattrs on sysvol). The script
#   fails with a clear message when not root; it does not try sudo.
#
# Measured (Debian 12, Samba 4.17.12, 2 cores, idle machine): `serve` from the snapshot
# 1.2-1.4 s (restore 0.1-0.2 s, start until the rootDSE answers 1.0-1.3 s; 2-5 s when three
# DCs start at once); cold `serve` 10.7-11.6 s (provision 4.8-6.5 s, first start 1.1 s, seed
# 1.5-1.8 s, graceful stop + snapshot 0.3-0.4 s, start 1.0-2.0 s), 14-20 s while another build
# keeps both cores busy; teardown 0.2-1.7 s.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
readonly SELF
readonly SEED_LDIF="$HERE/seed.ldif"

# The domain. The Rust harness reads these through `serve`'s output, never by duplicating them.
readonly REALM=LAB.EXAMPLE
readonly NETBIOS=LAB
readonly DNS_DOMAIN=lab.example
readonly BASE_DN='DC=lab,DC=example'
readonly DC_NAME=dc1
# Meets AD's complexity rule (three character classes, 7+ characters).
readonly ADMIN_PASSWORD='Hybr1dSync!Lab'
readonly ADMIN_USER="Administrator@$REALM"
readonly ADMIN_DN="CN=Administrator,CN=Users,$BASE_DN"
# The password of every seeded user that has one (see seed.ldif).
readonly SEED_PASSWORD='Seed-Passw0rd!'

readonly PACKAGES=(samba-ad-dc samba-ad-provision ldap-utils openssl)
readonly LOCK_DIR=${LAB_LOCK_DIR:-/tmp/hybridsync-samba-lab}
readonly CACHE_DIR=${LAB_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hybridsync/samba-lab}
readonly FIRST_HOST=100 LAST_HOST=199
# TCP ports a Samba AD DC listens on (besides its dynamic RPC ports 49152+), and the Samba
# services the harness may switch off when another program holds their ports on every address
# (a host smbd on 0.0.0.0:445, a DNS server on 0.0.0.0:53): the tests need LDAP, Kerberos and
# RPC, not SMB file service or the DC's DNS server.
readonly DC_TCP_PORTS=(53 88 135 139 389 445 464 636 3268 3269)
declare -rA OPTIONAL_PORT_SERVICE=([53]=dns [139]=s3fs [445]=s3fs)
# Marks a directory as a lab instance; nothing without it is ever deleted.
readonly MARKER=.hybridsync-samba-lab

note() { printf 'lab.sh: %s\n' "$*" >&2; }
die() {
  note "error: $*"
  exit 1
}
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# ---------------------------------------------------------------------------------------------
# Processes

# The state letter of PID (R, S, Z, ...), empty when there is no such process.
proc_state() {
  local line
  read -r line 2>/dev/null <"/proc/$1/stat" || return 0
  line=${line##*) }
  printf '%s' "${line%% *}"
}

# True while PID exists and is not a zombie.
alive() {
  local s
  s=$(proc_state "$1")
  [[ -n $s && $s != Z ]]
}

# The start time of PID (field 22 of /proc/PID/stat, clock ticks since boot): with the pid it
# identifies a process even after its pid is reused. Samba rewrites its command line ("samba: root
# process"), so that cannot serve.
proc_start() {
  local line f
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  read -ra f <<<"${line##*) }"
  printf '%s' "${f[19]}"
}

# The pid of the Samba master serving DIR, if it runs. DIR/samba.pid holds "PID STARTTIME".
samba_pid() {
  local dir=$1 pid start
  [[ -r $dir/samba.pid ]] || return 1
  read -r pid start <"$dir/samba.pid" || return 1
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  [[ $(proc_start "$pid") == "$start" ]] || return 1
  printf '%s' "$pid"
}

# PID and all its descendants, one per line (from /proc, no procps needed).
process_tree() {
  local f line rest
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    rest=${line##*) }
    rest=${rest#* }
    printf '%s %s\n' "${line%% *}" "${rest%% *}"
  done | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      seen[root] = 1; list[1] = root; n = 1; grew = 1
      while (grew) {
        grew = 0
        for (p in parent) if (!(p in seen) && (parent[p] in seen)) { seen[p] = 1; list[++n] = p; grew = 1 }
      }
      for (i = 1; i <= n; i++) print list[i]
    }'
}

# Wait until none of the given pids is alive; false after $1 seconds.
wait_gone() {
  local secs=$1 deadline p any
  shift
  deadline=$(($(now_ms) + secs * 1000))
  while :; do
    any=0
    for p in "$@"; do alive "$p" && any=1 && break; done
    ((any)) || return 0
    (($(now_ms) < deadline)) || return 1
    sleep 0.02
  done
}

# Kill PID's whole process tree at once. Freezing the master first keeps it from reaping or
# restarting children while the tree is collected.
kill_tree() {
  local pid=$1 pids
  kill -STOP "$pid" 2>/dev/null || true
  mapfile -t pids < <(process_tree "$pid")
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait_gone 10 "${pids[@]}" || note "warning: processes of $pid survived SIGKILL: ${pids[*]}"
}

# Stop PID gracefully (Samba shuts its services down and closes its databases), SIGKILL after 15 s.
stop_tree() {
  local pid=$1 pids
  mapfile -t pids < <(process_tree "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone 15 "${pids[@]}" && return 0
  note "samba $pid ignored SIGTERM for 15 s; killing it"
  kill_tree "$pid"
}

# ---------------------------------------------------------------------------------------------
# Instance directories

addr_of() {
  [[ -r $1/addr ]] || die "$1 is not a configured lab directory (no addr file)"
  cat "$1/addr"
}

# The tail of FILE (default 40 lines) on stderr, for failure reports.
show_tail() {
  [[ -s $1 ]] || return 0
  printf -- '--- tail of %s\n' "$1" >&2
  tail -n "${2:-40}" "$1" >&2
}

# The tail of the DC's logs (once per process: `serve` would repeat what a step already showed).
LOGS_SHOWN=0
show_logs() {
  ((LOGS_SHOWN)) && return 0
  LOGS_SHOWN=1
  show_tail "$1/log/samba.out" 20
  show_tail "$1/log/samba.log" 40
}

# Ports of the DC that something already accepts connections on at ADDR (a wildcard listener of
# another service counts: it would make Samba's bind fail).
# Ports of services listed in $2 (disabled services) are skipped.
busy_ports() {
  local addr=$1 disabled=" ${2:-} " p busy=()
  for p in "${DC_TCP_PORTS[@]}"; do
    [[ $disabled != *" ${OPTIONAL_PORT_SERVICE[$p]:-none} "* ]] || continue
    if (exec 3<>"/dev/tcp/$addr/$p") 2>/dev/null; then busy+=("$p"); fi
  done
  printf '%s' "${busy[*]}"
}

# The Samba services switched off for DIR (see OPTIONAL_PORT_SERVICE), space-separated.
disabled_services() {
  [[ ! -r $1/etc/disabled-services ]] || cat "$1/etc/disabled-services"
}

ldap() { # ldap TOOL DIR ARGS...: an OpenLDAP client that trusts only DIR's CA, no user config
  local tool=$1 dir=$2
  shift 2
  LDAPCONF=/dev/null LDAPRC=/nonexistent LDAPTLS_CACERT="$dir/tls/ca.pem" LDAPTLS_REQCERT=demand \
    "$tool" -o nettimeout=5 "$@" </dev/null
}

make_tls() {
  local dir=$1 addr=$2 t=$1/tls
  rm -rf "$t"
  mkdir -m 700 "$t"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/O=hybridsync tests/CN=Samba lab CA $addr" \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$DC_NAME.$DNS_DOMAIN" -keyout "$t/key.pem" -out "$t/server.csr" 2>/dev/null
  printf '%s\n' \
    'basicConstraints=critical,CA:FALSE' \
    'keyUsage=critical,digitalSignature' \
    'extendedKeyUsage=serverAuth' \
    "subjectAltName=DNS:$DC_NAME.$DNS_DOMAIN,DNS:$DNS_DOMAIN,IP:$addr" \
    'subjectKeyIdentifier=hash' \
    'authorityKeyIdentifier=keyid' >"$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -extfile "$t/server.ext" \
    -out "$t/cert.pem" 2>/dev/null
  chmod 600 "$t/key.pem" "$t/ca.key"
}

cmd_configure() {
  local dir=$1 addr=$2
  [[ $addr =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "not a loopback IPv4 address: $addr"
  [[ -d $dir/private ]] || die "$dir holds no provisioned domain"
  mkdir -p "$dir/etc" "$dir/log" "$dir/run"
  printf '%s\n' "$addr" >"$dir/addr"
  printf '%s' "$ADMIN_PASSWORD" >"$dir/etc/admin-password"
  chmod 600 "$dir/etc/admin-password"
  printf '%s' "${LAB_DISABLE:-}" >"$dir/etc/disabled-services"
  local services='' svc
  for svc in ${LAB_DISABLE:-}; do services+=" -$svc"; done
  make_tls "$dir" "$addr"
  cat >"$dir/etc/smb.conf" <<EOF
# Written by tests/samba/lab.sh configure; rewritten on every start of a snapshot.
[global]
	netbios name = ${DC_NAME^^}
	workgroup = $NETBIOS
	realm = $REALM
	server role = active directory domain controller
	# ADDR/8: Samba binds exactly ADDR (see the "Addresses" note in lab.sh).
	interfaces = $addr/8
	bind interfaces only = yes
	disable netbios = yes
	private dir = $dir/private
	lock directory = $dir
	state directory = $dir/state
	cache directory = $dir/cache
	binddns dir = $dir/bind-dns
	pid directory = $dir/run
	ncalrpc dir = $dir/ncalrpc
	winbindd socket directory = $dir/winbindd
	ntp signd socket directory = $dir/ntp_signd
	usershare path = $dir/usershares
	smb passwd file = $dir/private/smbpasswd
	log file = $dir/log/samba.log
	logging = file
	log level = 1
	max log size = 0
	panic action =
	dns update command = /bin/true
	ldb:nosync = yes
	ldap server require strong auth = no
	tls enabled = yes
	tls keyfile = $dir/tls/key.pem
	tls certfile = $dir/tls/cert.pem
	tls cafile = $dir/tls/ca.pem
${services:+	server services =$services
}
[sysvol]
	path = $dir/state/sysvol
	read only = no

[netlogon]
	path = $dir/state/sysvol/$DNS_DOMAIN/scripts
	read only = no
EOF
  # For Kerberos clients: the generated private/krb5.conf relies on DNS SRV lookups.
  cat >"$dir/etc/krb5.conf" <<EOF
[libdefaults]
	default_realm = $REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
[realms]
	$REALM = {
		kdc = $addr
		admin_server = $addr
	}
[domain_realm]
	.$DNS_DOMAIN = $REALM
	$DNS_DOMAIN = $REALM
EOF
}

cmd_provision() {
  local dir=$1 addr=${LAB_ADDR:-127.0.0.1}
  if [[ -e $dir ]] && [[ -n $(ls -A -I "$MARKER" "$dir") ]]; then die "$dir is not empty"; fi
  mkdir -p "$dir/log"
  touch "$dir/$MARKER"
  # Only the database matters: the smb.conf provision writes is replaced by cmd_configure.
  if ! timeout 300 samba-tool domain provision --targetdir="$dir" \
    --realm="$REALM" --domain="$NETBIOS" --server-role=dc --dns-backend=SAMBA_INTERNAL \
    --adminpass="$ADMIN_PASSWORD" --host-name="$DC_NAME" --host-ip="$addr" \
    --option="dns update command = /bin/true" --option="ldb:nosync = yes" \
    >"$dir/log/provision.log" 2>&1; then
    show_tail "$dir/log/provision.log"
    die "samba-tool domain provision failed"
  fi
  rm -f "$dir/etc/smb.conf"
  cmd_configure "$dir" "$addr"
}

# Start the DC in the background. It must inherit no descriptor but stdin/stdout/stderr: an
# inherited lock (address claim, cache build lock) would stay held by the DC for its lifetime.
start_samba() {
  local dir=$1 addr busy
  addr=$(addr_of "$dir")
  if samba_pid "$dir" >/dev/null; then die "a DC already runs for $dir"; fi
  busy=$(busy_ports "$addr" "$(disabled_services "$dir")")
  [[ -z $busy ]] || die "TCP port(s) $busy on $addr are taken by another process"
  rm -f "$dir/run/samba.pid"
  (
    for f in /proc/"$BASHPID"/fd/*; do
      f=${f##*/}
      if ((f > 2 && f != 255)); then eval "exec $f>&-"; fi
    done
    exec setsid samba -F -s "$dir/etc/smb.conf" </dev/null >>"$dir/log/samba.out" 2>&1
  ) &
  printf '%s %s\n' "$!" "$(proc_start "$!")" >"$dir/samba.pid"
}

# Wait until the rootDSE of DIR's DC answers over LDAP with the domain's naming context; on
# failure print why (with the log tail) and return false.
wait_ready() {
  local dir=$1 secs=$2 addr pid deadline out
  addr=$(addr_of "$dir")
  if ! pid=$(samba_pid "$dir"); then
    show_logs "$dir"
    note "no DC runs for $dir"
    return 1
  fi
  deadline=$(($(now_ms) + secs * 1000))
  while :; do
    out=$(ldap ldapsearch "$dir" -x -H "ldap://$addr" -b '' -s base -LLL defaultNamingContext \
      2>/dev/null) || true
    [[ $out != *"defaultNamingContext: $BASE_DN"* ]] || return 0
    if ! alive "$pid"; then
      show_logs "$dir"
      note "samba (pid $pid) exited before LDAP answered"
      return 1
    fi
    if (($(now_ms) > deadline)); then
      show_logs "$dir"
      note "LDAP on $addr did not answer within ${secs}s"
      return 1
    fi
    sleep 0.05
  done
}

cmd_wait() {
  wait_ready "$1" "${2:-60}" || die "the DC in $1 is not ready"
}

cmd_start() {
  start_samba "$1"
  cmd_wait "$1" "${2:-60}"
}

cmd_seed() {
  local dir=$1 addr
  addr=$(addr_of "$dir")
  if ! ldap ldapmodify "$dir" -a -x -H "ldaps://$addr" -D "$ADMIN_USER" -y "$dir/etc/admin-password" \
    -f "$SEED_LDIF" >"$dir/log/seed.log" 2>&1; then
    show_tail "$dir/log/seed.log" 10
    show_logs "$dir"
    die "seeding failed (ldapmodify of $SEED_LDIF)"
  fi
}

# The number of entries the seed puts under OU=Corp: every record of seed.ldif except the ones
# that modify (changetype: modify) and OU=Tests, which sits beside OU=Corp.
expected_corp_entries() {
  echo $(($(grep -c '^dn::\? ' "$SEED_LDIF") - $(grep -c '^changetype: modify' "$SEED_LDIF") - 1))
}

# True when the running DC holds the seeded directory.
seeded() {
  local dir=$1 addr n
  addr=$(addr_of "$dir")
  n=$(ldap ldapsearch "$dir" -x -H "ldaps://$addr" -D "$ADMIN_USER" -y "$dir/etc/admin-password" \
    -b "OU=Corp,$BASE_DN" -s sub -LLL '(objectClass=*)' 1.1 2>/dev/null | grep -c '^dn') || true
  [[ $n == "$(expected_corp_entries)" ]]
}

cmd_stop() {
  local pid
  pid=$(samba_pid "$1") || return 0
  stop_tree "$pid"
}

cmd_kill() {
  local pid
  pid=$(samba_pid "$1") || return 0
  kill_tree "$pid"
}

cmd_env() {
  local dir=$1 addr pid=
  addr=$(addr_of "$dir")
  pid=$(samba_pid "$dir") || true
  cat <<EOF
dir=$dir
host=$addr
pid=$pid
ldap_port=389
ldaps_port=636
gc_port=3268
kerberos_port=88
realm=$REALM
netbios=$NETBIOS
dns_domain=$DNS_DOMAIN
dc_host_name=$DC_NAME.$DNS_DOMAIN
base_dn=$BASE_DN
admin_user=$ADMIN_USER
admin_dn=$ADMIN_DN
admin_password=$ADMIN_PASSWORD
seed_password=$SEED_PASSWORD
ca_file=$dir/tls/ca.pem
krb5_conf=$dir/etc/krb5.conf
smb_conf=$dir/etc/smb.conf
disabled_services=$(disabled_services "$dir")
EOF
}

# ---------------------------------------------------------------------------------------------
# Snapshot cache

cache_key() {
  { samba -V; cat "$SELF" "$SEED_LDIF"; } | sha256sum | cut -c1-16
}

# Copy snapshot KEY into DIR and print its build id; false when there is none. A shared lock
# keeps other processes from replacing or pruning it mid-copy.
cache_restore() {
  local dir=$1 key=$2 fd id=
  exec {fd}>"$CACHE_DIR/$key.lock"
  flock -s "$fd"
  if [[ -f $CACHE_DIR/$key/COMPLETE ]]; then
    id=$(<"$CACHE_DIR/$key/COMPLETE")
    cp -a "$CACHE_DIR/$key/private" "$CACHE_DIR/$key/state" "$CACHE_DIR/$key/bind-dns" "$dir/"
  fi
  exec {fd}>&-
  [[ -n $id ]] && printf '%s' "$id"
}

# Save DIR's (stopped) domain as snapshot KEY: copy, fsync, then rename into place. The caller
# holds the exclusive lock of KEY.
cache_save() {
  local dir=$1 key=$2 tmp
  tmp=$(mktemp -d "$CACHE_DIR/.new-$key.XXXXXX")
  cp -a "$dir/private" "$dir/state" "$dir/bind-dns" "$tmp/"
  find "$tmp" -type s -delete # sockets of the stopped DC
  find "$tmp" -type f -exec sync -- {} +
  # The build id tells a snapshot from its replacement (see cache_invalidate).
  printf '%s %s %s\n' "$key" "$(now_ms)" "$$" >"$tmp/COMPLETE"
  sync -- "$tmp/COMPLETE"
  rm -rf "${CACHE_DIR:?}/$key"
  mv -T "$tmp" "$CACHE_DIR/$key"
}

# Delete snapshot KEY if it is still the build ID (another process may have replaced it).
cache_invalidate() {
  local key=$1 id=$2 fd
  exec {fd}>"$CACHE_DIR/$key.lock"
  flock -x "$fd"
  if [[ -f $CACHE_DIR/$key/COMPLETE && $(<"$CACHE_DIR/$key/COMPLETE") == "$id" ]]; then
    rm -rf "${CACHE_DIR:?}/$key"
  fi
  exec {fd}>&-
}

# Delete snapshots of other keys that no process is reading.
cache_prune() {
  local key=$1 d k fd
  for d in "$CACHE_DIR"/*/; do
    [[ -d $d ]] || continue
    k=$(basename "$d")
    [[ $k == "$key" ]] && continue
    exec {fd}>"$CACHE_DIR/$k.lock"
    # The lock file stays: deleting it could hand two processes "the" lock on different inodes.
    if flock -n -x "$fd"; then rm -rf "${CACHE_DIR:?}/$k"; fi
    exec {fd}>&-
  done
  # Half-built snapshots of processes that died while copying (a live builder is never that slow).
  find "$CACHE_DIR" -maxdepth 1 -name '.new-*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
}

cmd_cache_clear() {
  [[ $CACHE_DIR != off ]] || return 0
  rm -rf "$CACHE_DIR"
}

# ---------------------------------------------------------------------------------------------
# Address claims and stale instances

# Kill DCs whose supervisor died (its address lock is free but the owner file remains).
cmd_reap() {
  local f fd dir pid
  mkdir -p "$LOCK_DIR"
  for f in "$LOCK_DIR"/*.owner; do
    [[ -e $f ]] || continue
    exec {fd}>"${f%.owner}.lock"
    if flock -n "$fd"; then
      dir=$(<"$f")
      if [[ $dir == /* && -e $dir/$MARKER ]]; then
        if pid=$(samba_pid "$dir"); then
          note "reaping the DC of a dead harness: pid $pid, $dir"
          kill_tree "$pid"
        fi
        rm -rf "$dir"
      fi
      rm -f "$f"
    fi
    exec {fd}>&-
  done
}

# Claim a free address: sets ADDR, and LAB_DISABLE to the services whose ports another program
# holds on it (only those of OPTIONAL_PORT_SERVICE may be). The lock on the address is held
# until this process exits.
claim_address() {
  local i a fd p busy essential optional last_busy='' same=0
  mkdir -p "$LOCK_DIR"
  for ((i = FIRST_HOST; i <= LAST_HOST; i++)); do
    a=127.0.0.$i
    exec {fd}>"$LOCK_DIR/$a.lock"
    if flock -n "$fd"; then
      busy=$(busy_ports "$a")
      essential=''
      optional=''
      for p in $busy; do
        if [[ -n ${OPTIONAL_PORT_SERVICE[$p]:-} ]]; then
          [[ " $optional " == *" ${OPTIONAL_PORT_SERVICE[$p]} "* ]] ||
            optional+=" ${OPTIONAL_PORT_SERVICE[$p]}"
        else
          essential+=" $p"
        fi
      done
      if [[ -z $essential ]]; then
        ADDR=$a
        LAB_DISABLE=${optional# }
        [[ -z $LAB_DISABLE ]] || note "ports $busy on $a are held by another program (listening" \
          "on 0.0.0.0?): the DC runs without the Samba service(s) $LAB_DISABLE"
        return 0
      fi
      # The same ports taken on several addresses: a wildcard listener. No address will do.
      if [[ $essential == "$last_busy" ]]; then same=$((same + 1)); else same=1; fi
      last_busy=$essential
      ((same < 3)) || die "TCP port(s)$essential are taken on several loopback addresses (a" \
        "service listening on 0.0.0.0 or [::]?); stop it or the lab DC cannot start"
    fi
    exec {fd}>&-
  done
  die "no free address in 127.0.0.$FIRST_HOST-$LAST_HOST (all claimed in $LOCK_DIR)"
}

# ---------------------------------------------------------------------------------------------
# serve: the supervisor the Rust harness runs

SERVE_DIR=
SERVE_READY=0
OWNER_FILE=

serve_cleanup() {
  local rc=$? pid
  set +e
  trap - EXIT HUP INT TERM
  if [[ -n $SERVE_DIR && -e $SERVE_DIR/$MARKER ]]; then
    ((SERVE_READY)) || show_logs "$SERVE_DIR"
    if pid=$(samba_pid "$SERVE_DIR"); then
      kill_tree "$pid"
      wait "$pid" 2>/dev/null # reap the master (our child)
    fi
    if [[ -n ${LAB_KEEP:-} ]]; then
      note "kept $SERVE_DIR (LAB_KEEP)"
    else
      rm -rf "$SERVE_DIR"
    fi
  fi
  [[ -z $OWNER_FILE ]] || rm -f "$OWNER_FILE"
  exit "$rc"
}

# Provision and seed a new domain in DIR and, when the cache is on, snapshot it (the caller holds
# the exclusive lock of KEY). Leaves the DC running. Prints timings as key=value lines.
build_domain() {
  local dir=$1 key=$2 t pid
  t=$(now_ms)
  LAB_ADDR=$ADDR cmd_provision "$dir"
  echo "provision_ms=$(($(now_ms) - t))"
  t=$(now_ms)
  cmd_start "$dir"
  echo "first_start_ms=$(($(now_ms) - t))"
  t=$(now_ms)
  cmd_seed "$dir"
  seeded "$dir" || die "the seeded domain does not hold $(expected_corp_entries) entries under OU=Corp"
  echo "seed_ms=$(($(now_ms) - t))"
  [[ $CACHE_DIR != off ]] || return 0
  # A snapshot is taken of a cleanly stopped DC only.
  t=$(now_ms)
  pid=$(samba_pid "$dir")
  stop_tree "$pid"
  wait "$pid" 2>/dev/null || true
  cache_save "$dir" "$key"
  cache_prune "$key"
  echo "snapshot_ms=$(($(now_ms) - t))"
  t=$(now_ms)
  cmd_start "$dir"
  echo "start_ms=$(($(now_ms) - t))"
}

# Remove everything from the instance directory but its marker (after a failed attempt).
wipe_instance() {
  local dir=$1 pid
  if pid=$(samba_pid "$dir"); then
    kill_tree "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  find "$dir" -mindepth 1 -maxdepth 1 ! -name "$MARKER" -exec rm -rf {} +
  LOGS_SHOWN=0
}

# Bring up the seeded domain in DIR from the snapshot cache, building the snapshot when it is
# missing. A snapshot that does not come up as the seeded domain (a damaged copy, say) is
# deleted and rebuilt, once. Prints key=value lines (timings, cache=hit|miss|off).
serve_domain() {
  local dir=$1 key=$2 fd t id attempt
  if [[ $CACHE_DIR == off ]]; then
    build_domain "$dir" "$key"
    echo "cache=off"
    return 0
  fi
  mkdir -p "$CACHE_DIR"
  for attempt in 1 2; do
    # One process builds a missing snapshot; the others wait for it here.
    exec {fd}>"$CACHE_DIR/$key.lock"
    flock -x "$fd"
    if [[ ! -f $CACHE_DIR/$key/COMPLETE ]]; then
      build_domain "$dir" "$key"
      exec {fd}>&-
      echo "cache=miss"
      return 0
    fi
    exec {fd}>&-
    t=$(now_ms)
    if ! id=$(cache_restore "$dir" "$key"); then
      continue # pruned or invalidated meanwhile: build it
    fi
    cmd_configure "$dir" "$ADDR"
    echo "restore_ms=$(($(now_ms) - t))"
    t=$(now_ms)
    start_samba "$dir"
    if wait_ready "$dir" 60 && seeded "$dir"; then
      echo "start_ms=$(($(now_ms) - t))"
      echo "cache=hit"
      return 0
    fi
    note "snapshot $CACHE_DIR/$key ($id) did not come up as the seeded domain" \
      "(attempt $attempt); rebuilding it"
    wipe_instance "$dir"
    cache_invalidate "$key" "$id"
  done
  die "could not bring up the seeded domain from $CACHE_DIR/$key"
}

cmd_serve() {
  local dir=$1 t0 line
  [[ $dir == /* ]] || die "serve needs an absolute directory"
  [[ ! -e $dir ]] || die "$dir already exists"
  t0=$(now_ms)
  mkdir -m 700 "$dir"
  touch "$dir/$MARKER"
  SERVE_DIR=$dir
  trap serve_cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  cmd_reap
  claim_address
  OWNER_FILE=$LOCK_DIR/$ADDR.owner
  printf '%s\n' "$dir" >"$OWNER_FILE"
  serve_domain "$dir" "$(cache_key)"
  echo "total_ms=$(($(now_ms) - t0))"
  cmd_env "$dir"
  SERVE_READY=1
  echo ready
  # From here on nothing may write to the caller's pipes: it may have stopped reading them.
  exec >>"$dir/log/serve.log" 2>&1
  while IFS= read -r line; do
    [[ $line != stop ]] || break
  done
  # serve_cleanup (EXIT trap) kills the DC and removes DIR.
}

# ---------------------------------------------------------------------------------------------

need_root() {
  [[ $(id -u) == 0 ]] ||
    die "the Samba AD DC runs only as root (uid $(id -u) here): run the AD tests as root"
}

usage() {
  sed -n '6,28p' "$SELF" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd=${1:-}
  case $cmd in
  packages) printf '%s\n' "${PACKAGES[@]}" ;;
  provision | configure | start | wait | seed | stop | kill | env | logs | serve | reap | cache-clear)
    need_root
    shift
    case $cmd in
    provision) cmd_provision "${1:?DIR}" ;;
    configure) cmd_configure "${1:?DIR}" "${2:?ADDR}" ;;
    start) cmd_start "${1:?DIR}" "${2:-60}" ;;
    wait) cmd_wait "${1:?DIR}" "${2:-60}" ;;
    seed) cmd_seed "${1:?DIR}" ;;
    stop) cmd_stop "${1:?DIR}" ;;
    kill) cmd_kill "${1:?DIR}" ;;
    env) cmd_env "${1:?DIR}" ;;
    logs) show_logs "${1:?DIR}" 2>&1 ;;
    serve) cmd_serve "${1:?DIR}" ;;
    reap) cmd_reap ;;
    cache-clear) cmd_cache_clear ;;
    esac
    ;;
  *) usage ;;
  esac
}

main "$@"
