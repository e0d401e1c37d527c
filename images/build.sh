#!/usr/bin/env bash
# Builds Remap's container images without a Docker engine, as OCI archives that containerd
# (`ctr images import`) and kind (`kind load image-archive`) load without a registry:
#
#   build/images/remap-<version>.oci.tar              localhost/remap:<version>
#       Debian bookworm + JRE 17 + node tools (nbd-client, nbdkit, nbdfuse, mkfs, ...) + the CLI
#       and CSI driver (cli/target/remap.jar + lib/); runs as root (the node plugin needs it)
#   build/images/remap-operator-<version>.oci.tar     localhost/remap-operator:<version>
#       Debian bookworm + JRE 17 + operator/target/quarkus-app; user 65532
#   build/images/remap-csi-sidecars-<version>.oci.tar localhost/remap-csi-sidecars:<version>
#       csi-provisioner, csi-snapshotter, snapshot-controller, csi-resizer (static Go binaries
#       from e2e/tools/sidecars.sh) and nothing else; user 65532
#   build/images/remap-vm-standin-<version>.oci.tar   localhost/remap-vm-standin:<version>
#       test-only: Debian bookworm + qemu-system-x86 + the test guest of e2e/tools/guest (kernel,
#       initramfs, run.sh); entrypoint vm-standin DISK boots it under TCG with DISK (a PVC's block
#       device or disk.img) as its virtio disk, as KubeVirt's virt-launcher would; runs as root
#
# Why debootstrap + umoci and not a Dockerfile or Jib:
#   - no daemon: this machine (and CI runners like it) has no Docker engine, and umoci works on
#     an OCI image layout in a plain folder, as an ordinary process;
#   - no registry: Jib and most daemonless builders pull their base image from a registry;
#     debootstrap makes the Debian base from the same apt mirror the machine already uses, and
#     apt in a chroot adds the node tools (nbd-client, nbdkit, libnbd-bin, fuse3, xfsprogs) that
#     Jib cannot add: Jib only adds files on top of a base, it runs no package manager;
#   - shared layers: one layout holds every image, so the Debian+JRE layer is one blob in every
#     Debian image (remap = base + node tools + app, operator = base + app, vm-standin = base +
#     QEMU + guest) and containerd stores it once;
#   - cached by content: the Debian layers are rebuilt only when their key (recipe number,
#     suite, architecture, package lists) changes, so a warm run only makes the app layers,
#     which are reproducible tars (sorted, root-owned, mtime of the last commit).
#
# Cache (REMAP_CACHE defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/remap, as in e2e/tools):
#   $REMAP_CACHE/images/layout/   an OCI layout with the base images, tagged jre-<key> and
#                                 node-<key>; the tag is the stamp (written last, by umoci)
#   $REMAP_CACHE/images/debs/     the .deb files debootstrap downloaded
#   $REMAP_CACHE/images/work/     scratch for the current run (emptied at start and end)
#
# Usage: images/build.sh                 build what is missing, verify, print a size table
#        images/build.sh --rebuild-base  also remake the Debian layers (to pick up updates)
#        images/build.sh --no-verify     skip unpacking the archives to run java in them
# Needs: root (debootstrap, chroot, mount), debootstrap, umoci, skopeo, jq, GNU tar; the jars
# of `make build`; the sidecars of `make tools` (e2e/tools/sidecars.sh); the test guest
# (e2e/tools/guest/build.sh, run from here: it does nothing when it is up to date). Cold:
# several minutes (debootstrap + apt); warm: well under a minute.
set -euo pipefail

# The whole script is one function, read in full before it runs, so editing this file while
# a build runs cannot derail that run.
main() {
  HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  ROOT=$(cd "$HERE/.." && pwd)
  REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
  CACHE=$REMAP_CACHE/images
  LAYOUT=$CACHE/layout
  WORK=$CACHE/work
  OUT=$ROOT/build/images
  SIDECAR_BIN=$REMAP_CACHE/bin
  GUEST_TOOLS=$ROOT/e2e/tools/guest
  GUEST_DIR=$REMAP_CACHE/guest

  # Bumped by hand when the way the Debian layers are made changes in a way the package lists
  # do not show (the strip list, the apt settings, ...), to force a rebuild of those layers.
  RECIPE=1
  SUITE=bookworm
  JRE_PACKAGES=(openjdk-17-jre-headless ca-certificates)
  NODE_PACKAGES=(nbd-client nbdkit libnbd-bin fuse3 e2fsprogs xfsprogs util-linux mount kmod)
  # The VM stand-in: qemu-system-x86 without its recommends (GUI, qemu-utils, OVMF, block-extra),
  # with SeaBIOS, which boots the guest's kernel directly. Bookworm has no smaller x86 package
  # (qemu-system-xen is for Xen hosts); the package's qemu-system-x86_64-microvm binary runs only
  # the PCI-less microvm machine, and run.sh gives the guest its script on a PCI virtio disk.
  # fio: the consumer that writes and verifies a disk while the node plugin restarts (the e2e
  # cluster test runs it in this image; its Ceph and Gluster libraries come along, test-only).
  VM_PACKAGES=(qemu-system-x86 fio)
  SIDECARS=(csi-provisioner csi-snapshotter snapshot-controller csi-resizer)
  NONROOT=65532
  DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

  die() { echo "images/build.sh: ERROR: $*" >&2; exit 1; }
  log() { echo "images/build.sh: $*" >&2; }

  local rebuild_base=0 verify=1 arg
  for arg in "$@"; do
    case "$arg" in
      --rebuild-base) rebuild_base=1 ;;
      --no-verify) verify=0 ;;
      -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; return 0 ;;
      *) die "unknown argument '$arg' (see images/build.sh --help)" ;;
    esac
  done

  [[ $(id -u) == 0 ]] || die "must run as root: debootstrap, chroot and mount need it (umoci keeps file owners only as root)"
  local c
  for c in debootstrap umoci skopeo jq chroot mount umount flock; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' is not on PATH; e2e/tools/install.sh installs it (make tools)"
  done

  VERSION=$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' "$ROOT/pom.xml" | head -n 1)
  [[ -n "$VERSION" ]] || die "cannot read the project version (the first <version>) from $ROOT/pom.xml"
  ARCH=$(dpkg --print-architecture)
  # App layers and image configs carry the time of the last commit, not the time of the
  # build, so that the same jars give the same layer and config digests.
  EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}
  CREATED=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)

  # Inputs first, so a missing jar fails in a second, not after debootstrap.
  local cli_jar=$ROOT/cli/target/remap.jar cli_lib=$ROOT/cli/target/lib
  local op_app=$ROOT/operator/target/quarkus-app
  [[ -f "$cli_jar" && -d "$cli_lib" ]] ||
    die "$cli_jar or $cli_lib is missing: run 'make build' first (make images does)"
  [[ -f "$op_app/quarkus-run.jar" ]] ||
    die "$op_app/quarkus-run.jar is missing: run 'make build' first (make images does)"
  local s
  for s in "${SIDECARS[@]}"; do
    [[ -x "$SIDECAR_BIN/$s" ]] ||
      die "$SIDECAR_BIN/$s is missing: run 'make tools' (or e2e/tools/sidecars.sh) to build the CSI sidecars"
  done
  # The stand-in's guest: build.sh is idempotent (about a second when up to date) and keeps the
  # copy in the image in step with e2e/tools/guest/init.
  "$GUEST_TOOLS/build.sh" --quiet "$GUEST_DIR" ||
    die "the test guest in $GUEST_DIR is missing or stale and e2e/tools/guest/build.sh failed: run it by hand to see why"

  mkdir -p "$CACHE" "$CACHE/debs" "$OUT"
  exec 8>"$CACHE/.lock"
  flock -n 8 || { log "waiting for another images/build.sh run on $CACHE"; flock 8; }

  # Leftovers of a killed run: unmount what it left mounted before deleting anything.
  unmount_under "$WORK"
  rm -rf "$WORK"
  mkdir -p "$WORK"
  trap 'cleanup' EXIT

  [[ -f "$LAYOUT/index.json" ]] || umoci init --layout "$LAYOUT" || die "umoci init --layout $LAYOUT failed"
  # Tags of runs that died between making and exporting an image.
  local t
  for t in $(tags); do [[ "$t" != out-* ]] || umoci rm --image "$LAYOUT:$t"; done

  local start=$SECONDS
  # --- the Debian layers (cached by key) ------------------------------------------------
  local jre_key node_key vm_key
  jre_key=$(printf '%s\n' "recipe=$RECIPE" "suite=$SUITE" "arch=$ARCH" "${JRE_PACKAGES[@]}" | sha256sum | cut -c1-16)
  node_key=$(printf '%s\n' "jre=$jre_key" "${NODE_PACKAGES[@]}" | sha256sum | cut -c1-16)
  vm_key=$(printf '%s\n' "jre=$jre_key" "${VM_PACKAGES[@]}" | sha256sum | cut -c1-16)
  JRE_TAG=jre-$jre_key
  NODE_TAG=node-$node_key
  VM_TAG=vm-$vm_key
  if ((rebuild_base)); then
    has_tag "$JRE_TAG" && umoci rm --image "$LAYOUT:$JRE_TAG"
    has_tag "$NODE_TAG" && umoci rm --image "$LAYOUT:$NODE_TAG"
    has_tag "$VM_TAG" && umoci rm --image "$LAYOUT:$VM_TAG"
  fi
  if has_tag "$JRE_TAG"; then log "Debian $SUITE + JRE layer: cached ($JRE_TAG)"; else build_jre_layer; fi
  if has_tag "$NODE_TAG"; then log "node tools layer: cached ($NODE_TAG)"; else build_node_layer; fi
  if has_tag "$VM_TAG"; then log "QEMU layer: cached ($VM_TAG)"; else build_vm_layer; fi
  # Only the current base tags are kept; gc drops the blobs of older keys and of killed runs.
  for t in $(tags); do [[ "$t" == "$JRE_TAG" || "$t" == "$NODE_TAG" || "$t" == "$VM_TAG" ]] || umoci rm --image "$LAYOUT:$t"; done
  umoci gc --layout "$LAYOUT"

  # --- the app layers and the images --------------------------------------------------
  build_remap "$cli_jar" "$cli_lib"
  build_operator "$op_app"
  build_sidecars
  build_vm_standin

  local names=(remap remap-operator remap-csi-sidecars remap-vm-standin) n
  for n in "${names[@]}"; do export_image "$n"; done
  for t in $(tags); do [[ "$t" != out-* ]] || umoci rm --image "$LAYOUT:$t"; done
  umoci gc --layout "$LAYOUT"

  # --- verification and the size table -------------------------------------------------
  declare -gA UNPACKED=() LAYERS=()
  for n in "${names[@]}"; do verify_image "$n" "$verify"; done
  echo
  printf '%-52s %11s %11s %7s  %s\n' IMAGE ARCHIVE UNPACKED LAYERS FILE
  for n in "${names[@]}"; do
    local f=$OUT/$n-$VERSION.oci.tar
    printf '%-52s %7s MiB %7s MiB %7s  %s\n' "localhost/$n:$VERSION" "$(mib "$(stat -c %s "$f")")" \
      "${UNPACKED[$n]:-?}" "${LAYERS[$n]:-?}" "${f#"$ROOT"/}"
  done
  log "done in $((SECONDS - start))s"
}

# --- helpers ------------------------------------------------------------------------------

tags() { umoci ls --layout "$LAYOUT"; }
has_tag() { [[ $'\n'"$(tags)"$'\n' == *$'\n'"$1"$'\n'* ]]; } # no grep -q: with pipefail its early exit fails the pipe
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# Mount points at or below a folder, deepest first (from the kernel's table, not from mount(8)).
mounts_under() {
  local dir
  dir=$(readlink -m "$1")
  awk -v d="$dir" '{ m = $5; gsub(/\\040/, " ", m); if (m == d || index(m, d "/") == 1) print m }' /proc/self/mountinfo |
    sort -r
}

# Unmounts everything below a folder, lazily when a mount is busy; dies when one stays, so
# that no `rm -rf` ever runs into a mounted /proc or /dev.
unmount_under() {
  local m
  [[ -e "$1" ]] || return 0
  while read -r m; do
    [[ -n "$m" ]] || continue
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done < <(mounts_under "$1")
  [[ -z "$(mounts_under "$1")" ]] || die "cannot unmount $(mounts_under "$1" | tr '\n' ' ')- unmount by hand, then rerun"
}

cleanup() {
  local rc=$?
  unmount_under "$WORK" || rc=1
  [[ -n "$(mounts_under "$WORK")" ]] || rm -rf "$WORK"
  exit "$rc"
}

# The mirror of a suite from the machine's apt sources (deb822 .sources files or one-line
# sources.list), read at run time so that no mirror name is written into this repository.
apt_mirror() {
  local suite=$1 url
  url=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$suite" '
      function flush() { if (uris != "" && enabled && (" " suites " ") ~ (" " s " ")) { print uris; found = 1; exit } }
      /^[[:space:]]*$/ { flush(); uris = ""; suites = ""; enabled = 1; next }
      /^#/ { next }
      $1 == "URIs:" { uris = $2 } $1 == "Suites:" { $1 = ""; suites = $0 }
      $1 == "Enabled:" && $2 == "no" { enabled = 0 }
      BEGIN { enabled = 1 } END { if (!found) flush() }')
  if [[ -z "$url" ]]; then
    url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++
        if ($(i + 1) == s) { print $i; exit } }')
  fi
  printf '%s' "${url%/}"
}

# --- chroot ---------------------------------------------------------------------------------

# /proc, a private /dev (tmpfs with the usual nodes: nothing of the host's /dev is ever under
# the build folder), DNS, and apt settings for the build only; chroot_close undoes all of it.
chroot_open() {
  local rootfs=$1 main_mirror sec_mirror
  main_mirror=$(apt_mirror "$SUITE")
  sec_mirror=$(apt_mirror "$SUITE-security")
  [[ -n "$main_mirror" ]] || die "no apt source for '$SUITE' in /etc/apt/sources.list{,.d/}: cannot install packages"
  proc_and_dev "$rootfs"
  # A private pty instance (apt logs through one); unmounted before the tmpfs, being deeper.
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$rootfs/dev/pts" || die "mount devpts on $rootfs/dev/pts failed"
  ln -s pts/ptmx "$rootfs/dev/ptmx"
  ln -s /proc/self/fd "$rootfs/dev/fd"
  cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"
  # Services must not start in a chroot.
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  rm -f "$rootfs/etc/apt/sources.list"
  {
    echo "deb $main_mirror $SUITE main"
    echo "deb $main_mirror $SUITE-updates main"
    [[ -z "$sec_mirror" ]] || echo "deb $sec_mirror $SUITE-security main"
  } >"$rootfs/etc/apt/sources.list.d/remap-build.list"
  # Mirrors may be snapshots whose Release files have expired.
  cat >"$rootfs/etc/apt/apt.conf.d/99remap-build" <<'EOF'
Acquire::Check-Valid-Until "false";
Acquire::Check-Date "false";
Acquire::Languages "none";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
  # Kept in the image: later installs stay small too. The copyright files stay.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/01-remap-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  # openjdk's postinst registers man pages as alternatives' slaves and fails without this.
  mkdir -p "$rootfs/usr/share/man/man1"
}

# /proc, and a /dev with the nodes a container runtime gives (the layers hold no device nodes).
proc_and_dev() { # rootfs
  local rootfs=$1 node n maj min
  mkdir -p "$rootfs/proc" "$rootfs/dev"
  mount -t proc proc "$rootfs/proc" || die "mount proc on $rootfs/proc failed"
  mount -t tmpfs -o mode=755,nosuid devtmp "$rootfs/dev" || die "mount tmpfs on $rootfs/dev failed"
  for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r n maj min <<<"$node"
    mknod -m 666 "$rootfs/dev/$n" c "$maj" "$min"
  done
  mkdir -p "$rootfs/dev/pts" "$rootfs/dev/shm"
}

in_chroot() { # rootfs command...
  local rootfs=$1
  shift
  chroot "$rootfs" /usr/bin/env -i PATH="$DEFAULT_PATH" HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}

# apt's output goes to a log in the scratch folder, shown only when a step fails.
apt_install() { # rootfs what package...
  local rootfs=$1 what=$2 log=$WORK/apt.log
  shift 2
  run_logged "$log" in_chroot "$rootfs" apt-get -qq update ||
    die "apt-get update in the $what chroot failed (mirror: see /etc/apt/sources*)"
  # debootstrap takes the suite as released; the point releases and security fixes come here.
  run_logged "$log" in_chroot "$rootfs" apt-get -qq -y dist-upgrade || die "apt-get dist-upgrade in the $what chroot failed"
  run_logged "$log" in_chroot "$rootfs" apt-get -qq -y install "$@" || die "apt-get install $* in the $what chroot failed"
  in_chroot "$rootfs" apt-get -qq clean
}

run_logged() { # log command... -> the command's status; the log's tail on failure
  local log=$1
  shift
  "$@" >>"$log" 2>&1 && return 0
  tail -n 25 "$log" >&2
  return 1
}

# Unmounts, removes the build-only settings, and strips what a container never reads.
chroot_close() {
  local r=$1
  unmount_under "$r"
  rm -f "$r/usr/sbin/policy-rc.d" "$r/etc/apt/sources.list" "$r/etc/apt/sources.list.d/remap-build.list" \
    "$r/etc/apt/apt.conf.d/99remap-build"
  : >"$r/etc/resolv.conf"
  : >"$r/etc/hostname"
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
    "$r"/var/cache/debconf/*-old "$r"/var/lib/dpkg/*-old "$r"/var/cache/ldconfig/aux-cache \
    "$r"/usr/share/info/* "$r"/usr/share/locale/* "$r"/usr/share/lintian/* "$r"/tmp/* "$r"/var/tmp/* \
    "$r"/root/.bash_history
  mkdir -p "$r/var/lib/apt/lists/partial"
  find "$r/var/log" -type f -delete
  find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$r/usr/share/man" -mindepth 1 -delete
  mkdir -p "$r/usr/share/man/man1"
  # No device nodes in a layer: the runtime gives the container its /dev.
  find "$r/dev" -mindepth 1 -delete
}

# --- the Debian layers -----------------------------------------------------------------------

build_jre_layer() {
  local t0=$SECONDS bundle=$WORK/jre-bundle mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  mirror=$(apt_mirror "$SUITE")
  [[ -n "$mirror" ]] || die "no apt source for '$SUITE' in /etc/apt/sources.list{,.d/}: debootstrap needs a mirror"
  log "Debian $SUITE + JRE layer: debootstrap --variant=minbase, then ${JRE_PACKAGES[*]} (cold: a few minutes)"
  umoci new --image "$LAYOUT:tmp-empty"
  umoci unpack --image "$LAYOUT:tmp-empty" "$bundle" >/dev/null
  local dbopts=(--variant=minbase --arch="$ARCH" --cache-dir="$CACHE/debs")
  [[ -f "$keyring" ]] && dbopts+=(--keyring="$keyring")
  run_logged "$WORK/debootstrap.log" debootstrap "${dbopts[@]}" "$SUITE" "$bundle/rootfs" "$mirror" ||
    die "debootstrap $SUITE failed (last lines above; the mirror comes from /etc/apt/sources*)"
  unmount_under "$bundle" # debootstrap leaves /proc mounted on some failures and versions
  chroot_open "$bundle/rootfs"
  apt_install "$bundle/rootfs" JRE "${JRE_PACKAGES[@]}"
  in_chroot "$bundle/rootfs" java -version 2>&1 | head -n 1 >&2 || die "java does not run in the new base"
  chroot_close "$bundle/rootfs"
  umoci repack --image "$LAYOUT:$JRE_TAG" --history.created_by \
    "images/build.sh: debootstrap --variant=minbase $SUITE; apt-get install ${JRE_PACKAGES[*]}" "$bundle" ||
    die "umoci repack of the JRE base failed"
  umoci rm --image "$LAYOUT:tmp-empty"
  rm -rf "$bundle"
  log "Debian $SUITE + JRE layer: built in $((SECONDS - t0))s"
}

build_node_layer() {
  local t0=$SECONDS bundle=$WORK/node-bundle
  log "node tools layer: ${NODE_PACKAGES[*]}"
  umoci unpack --image "$LAYOUT:$JRE_TAG" "$bundle" >/dev/null || die "umoci unpack of $JRE_TAG failed"
  chroot_open "$bundle/rootfs"
  apt_install "$bundle/rootfs" "node tools" "${NODE_PACKAGES[@]}"
  local tool
  for tool in nbd-client nbdkit nbdfuse fusermount3 mkfs.ext4 mkfs.xfs losetup mount modprobe blkid; do
    in_chroot "$bundle/rootfs" sh -c "command -v $tool" >/dev/null || die "$tool is missing after installing ${NODE_PACKAGES[*]}"
  done
  chroot_close "$bundle/rootfs"
  umoci repack --image "$LAYOUT:$NODE_TAG" --history.created_by \
    "images/build.sh: apt-get install ${NODE_PACKAGES[*]}" "$bundle" || die "umoci repack of the node tools layer failed"
  rm -rf "$bundle"
  log "node tools layer: built in $((SECONDS - t0))s"
}

build_vm_layer() {
  local t0=$SECONDS bundle=$WORK/vm-bundle
  log "QEMU layer: ${VM_PACKAGES[*]}"
  umoci unpack --image "$LAYOUT:$JRE_TAG" "$bundle" >/dev/null || die "umoci unpack of $JRE_TAG failed"
  chroot_open "$bundle/rootfs"
  apt_install "$bundle/rootfs" QEMU "${VM_PACKAGES[@]}"
  in_chroot "$bundle/rootfs" qemu-system-x86_64 --version >/dev/null || die "qemu-system-x86_64 does not run after installing ${VM_PACKAGES[*]}"
  [[ -f "$bundle/rootfs/usr/share/seabios/bios-256k.bin" ]] || die "SeaBIOS (bios-256k.bin) is missing after installing ${VM_PACKAGES[*]}"
  chroot_close "$bundle/rootfs"
  umoci repack --image "$LAYOUT:$VM_TAG" --history.created_by \
    "images/build.sh: apt-get install --no-install-recommends ${VM_PACKAGES[*]}" "$bundle" || die "umoci repack of the QEMU layer failed"
  rm -rf "$bundle"
  log "QEMU layer: built in $((SECONDS - t0))s"
}

# --- the app layers --------------------------------------------------------------------------

# Staged files readable by all (uid 65532 runs the jars), writable by root only.
readable() { chmod -R u+rwX,go+rX,go-w "$1"; }

# A layer tar that depends only on the staged files: sorted, root-owned, one mtime, no
# atime/ctime, stable pax header names.
layer_tar() { # stage-dir tar-file
  local stage=$1 names
  mapfile -t names < <(find "$stage" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort)
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$2" "${names[@]}" ||
    die "tar of $stage failed"
}

add_layer() { # from-tag to-tag tar created_by
  umoci raw add-layer --image "$LAYOUT:$1" --tag "$2" --history.created "$CREATED" \
    --history.created_by "$4" "$3" || die "umoci raw add-layer $3 onto $1 failed"
}

configure() { # tag umoci-config-options...
  local tag=$1
  shift
  umoci config --image "$LAYOUT:$tag" --no-history --created "$CREATED" \
    --config.label "org.opencontainers.image.version=$VERSION" \
    --config.label "org.opencontainers.image.created=$CREATED" "$@" || die "umoci config of $tag failed"
}

build_remap() { # cli-jar cli-lib
  local stage=$WORK/remap-app
  mkdir -p "$stage/opt/remap" "$stage/usr/local/bin"
  cp "$1" "$stage/opt/remap/remap.jar"
  cp -r "$2" "$stage/opt/remap/lib"
  # The entrypoint, and `kubectl exec ... remap doctor`; REMAP_JAVA_OPTS as in ./remap.
  cat >"$stage/usr/local/bin/remap" <<'EOF'
#!/bin/sh
# The Remap command-line tool in the image; REMAP_JAVA_OPTS adds JVM options, as in ./remap.
# As root (the node plugin, which serves volumes), the background threads' lowest priority is
# passed on as nice 10 and the JVM's own threads kept at nice 0 (see ./remap, BackgroundThreads).
priority=""
if [ "$(id -u)" = 0 ]; then
  priority="-XX:ThreadPriorityPolicy=1 -XX:JavaPriority1_To_OSPriority=10"
  for p in 6 7 8 9 10; do priority="$priority -XX:JavaPriority${p}_To_OSPriority=0"; done
fi
exec java -XX:+UseSerialGC -XX:MaxRAMPercentage=50 $priority ${REMAP_JAVA_OPTS:-} -jar /opt/remap/remap.jar "$@"
EOF
  readable "$stage"
  chmod 755 "$stage/usr/local/bin/remap"
  layer_tar "$stage" "$WORK/remap-app.tar"
  add_layer "$NODE_TAG" out-remap "$WORK/remap-app.tar" "images/build.sh: /opt/remap from cli/target"
  configure out-remap --config.user 0:0 --config.workingdir / \
    --config.env "PATH=$DEFAULT_PATH" --config.env LANG=C.UTF-8 \
    --config.entrypoint /usr/local/bin/remap \
    --config.label "org.opencontainers.image.title=remap" \
    --config.label "org.opencontainers.image.description=Remap CLI, CSI driver (controller and node) and node data path"
}

build_operator() { # quarkus-app
  local stage=$WORK/operator-app
  mkdir -p "$stage/opt"
  cp -r "$1" "$stage/opt/remap-operator"
  readable "$stage"
  layer_tar "$stage" "$WORK/operator-app.tar"
  add_layer "$JRE_TAG" out-remap-operator "$WORK/operator-app.tar" "images/build.sh: /opt/remap-operator from operator/target/quarkus-app"
  configure out-remap-operator --config.user "$NONROOT:$NONROOT" --config.workingdir /opt/remap-operator \
    --config.env "PATH=$DEFAULT_PATH" --config.env LANG=C.UTF-8 \
    --config.entrypoint java --config.entrypoint -jar --config.entrypoint /opt/remap-operator/quarkus-run.jar \
    --config.label "org.opencontainers.image.title=remap-operator" \
    --config.label "org.opencontainers.image.description=Remap operator (VirtualDisk, LogicalDiskShare, VmMemorySwap)"
}

build_sidecars() {
  local stage=$WORK/sidecars s v versions=()
  mkdir -p "$stage/usr/local/bin" "$stage/etc" "$stage/tmp"
  for s in "${SIDECARS[@]}"; do
    cp "$SIDECAR_BIN/$s" "$stage/$s"
    ln -s "../../../$s" "$stage/usr/local/bin/$s"
    v=$(sed -n 's/.*version=\([^ ]*\).*/\1/p' "$REMAP_CACHE/stamps/$s.stamp" 2>/dev/null || true)
    versions+=("$s=${v:-unknown}")
  done
  printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/:/sbin/nologin\n' "$NONROOT" "$NONROOT" >"$stage/etc/passwd"
  printf 'root:x:0:\nnonroot:x:%s:\n' "$NONROOT" >"$stage/etc/group"
  readable "$stage"
  chmod 1777 "$stage/tmp"
  layer_tar "$stage" "$WORK/sidecars.tar"
  umoci new --image "$LAYOUT:out-empty"
  add_layer out-empty out-remap-csi-sidecars "$WORK/sidecars.tar" "images/build.sh: ${SIDECARS[*]} from e2e/tools/sidecars.sh"
  umoci rm --image "$LAYOUT:out-empty"
  configure out-remap-csi-sidecars --config.user "$NONROOT:$NONROOT" --config.workingdir / \
    --config.env "PATH=$DEFAULT_PATH" \
    --config.label "org.opencontainers.image.title=remap-csi-sidecars" \
    --config.label "org.opencontainers.image.description=Kubernetes CSI sidecars: ${versions[*]}"
}

# The test guest and its runner on the QEMU layer. run.sh rebuilds a guest whose stamp does not
# match the hash of init + build.sh beside it, which it cannot do in a container: the copies here
# must be the ones the guest was built from.
build_vm_standin() {
  local stage=$WORK/vm-standin lib=/usr/local/lib/vm-standin share=/usr/local/share/vm-standin/guest f src
  mkdir -p "$stage$lib" "$stage$share" "$stage/usr/local/bin"
  for f in vm-standin.sh run.sh init build.sh; do
    [[ -f "$GUEST_TOOLS/$f" ]] || die "$GUEST_TOOLS/$f is missing"
    cp "$GUEST_TOOLS/$f" "$stage$lib/$f"
  done
  for f in vmlinuz initramfs.cpio.gz stamp; do
    [[ -s "$GUEST_DIR/$f" ]] || die "$GUEST_DIR/$f is missing: run e2e/tools/guest/build.sh"
    cp "$GUEST_DIR/$f" "$stage$share/$f"
  done
  src=$(cat "$stage$lib/init" "$stage$lib/build.sh" | sha256sum | cut -c1-16)
  grep -qx "src=$src" "$stage$share/stamp" ||
    die "$GUEST_DIR was built from another e2e/tools/guest/init or build.sh (edited during this run?): run e2e/tools/guest/build.sh, then this again"
  ln -s "../lib/vm-standin/vm-standin.sh" "$stage/usr/local/bin/vm-standin"
  readable "$stage"
  chmod 755 "$stage$lib"/*.sh "$stage$lib/init"
  layer_tar "$stage" "$WORK/vm-standin.tar"
  add_layer "$VM_TAG" out-remap-vm-standin "$WORK/vm-standin.tar" \
    "images/build.sh: the test guest ($(sed -n 's/^kernel=//p' "$stage$share/stamp")) and e2e/tools/guest/{vm-standin.sh,run.sh}"
  configure out-remap-vm-standin --config.user 0:0 --config.workingdir / \
    --config.env "PATH=$DEFAULT_PATH" --config.env LANG=C.UTF-8 --config.env "REMAP_GUEST_DIR=$share" \
    --config.entrypoint /usr/local/bin/vm-standin \
    --config.label "org.opencontainers.image.title=remap-vm-standin" \
    --config.label "org.opencontainers.image.description=Test only: boots the Remap test guest under QEMU/TCG on a PVC, as KubeVirt's virt-launcher would"
}

# --- export ----------------------------------------------------------------------------------

# One OCI layout per image with only its blobs (hard links into the cache), named for
# containerd and skopeo alike, packed as a tar without a leading ./ (containerd's importer
# matches entry names exactly).
export_image() { # name
  local name=$1 ref="localhost/$1:$VERSION" dir=$WORK/export-$1 desc digest d
  desc=$(jq -c --arg t "out-$name" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)' "$LAYOUT/index.json")
  [[ -n "$desc" ]] || die "no manifest tagged out-$name in $LAYOUT"
  digest=$(jq -r .digest <<<"$desc")
  mkdir -p "$dir/blobs/sha256"
  cp "$LAYOUT/oci-layout" "$dir/oci-layout"
  local blobs=("$digest")
  mapfile -t -O 1 blobs < <(jq -r '.config.digest, .layers[].digest' "$LAYOUT/blobs/sha256/${digest#sha256:}")
  for d in "${blobs[@]}"; do
    ln "$LAYOUT/blobs/sha256/${d#sha256:}" "$dir/blobs/sha256/" 2>/dev/null ||
      cp "$LAYOUT/blobs/sha256/${d#sha256:}" "$dir/blobs/sha256/"
  done
  jq -n --argjson d "$desc" --arg ref "$ref" '{schemaVersion: 2, manifests: [$d | .annotations = {
      "org.opencontainers.image.ref.name": $ref, "io.containerd.image.name": $ref }]}' >"$dir/index.json"
  local f=$OUT/$name-$VERSION.oci.tar
  tar -C "$dir" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mode=go+r -cf "$f.tmp" oci-layout index.json blobs || die "tar of $f failed"
  mv -f "$f.tmp" "$f"
}

# skopeo and umoci read the archive; the rootfs is unpacked from it and java runs in it, as
# root and as uid 65532.
verify_image() { # name verify?
  local name=$1 ref="localhost/$1:$VERSION" f=$OUT/$1-$VERSION.oci.tar dir=$WORK/verify-$1
  skopeo inspect "oci-archive:$f" >"$WORK/inspect.json" || die "skopeo inspect oci-archive:$f failed"
  LAYERS[$name]=$(jq '.Layers | length' "$WORK/inspect.json")
  mkdir -p "$dir/layout"
  tar -C "$dir/layout" -xf "$f" || die "cannot unpack $f"
  [[ "$(umoci ls --layout "$dir/layout")" == "$ref" ]] || die "umoci ls of $f does not list exactly $ref"
  umoci stat --image "$dir/layout:$ref" >/dev/null || die "umoci stat of $ref in $f failed"
  umoci unpack --image "$dir/layout:$ref" "$dir/bundle" >/dev/null || die "umoci unpack of $ref in $f failed"
  local rootfs=$dir/bundle/rootfs
  UNPACKED[$name]=$(mib "$(du -sb "$rootfs" | cut -f1)")
  if ((${2:-1})); then
    case "$name" in
      remap)
        java_checks "$rootfs" "$name" /usr/local/bin/remap --help ;;
      remap-operator)
        java_checks "$rootfs" "$name" ;;
      remap-csi-sidecars)
        local s
        for s in "${SIDECARS[@]}"; do
          chroot --userspec="$NONROOT:$NONROOT" "$rootfs" "/$s" --version >/dev/null 2>&1 ||
            die "/$s --version does not run in $ref"
        done
        log "$ref: ${SIDECARS[*]} run as uid $NONROOT" ;;
      remap-vm-standin)
        standin_checks "$rootfs" "$name" ;;
    esac
  fi
  rm -rf "$dir"
}

java_checks() { # rootfs name [jar args...]
  local rootfs=$1 ref="localhost/$2:$VERSION" out
  shift 2
  mount -t proc proc "$rootfs/proc" || die "mount proc on $rootfs/proc failed"
  out=$(chroot "$rootfs" /usr/bin/env -i PATH="$DEFAULT_PATH" java -version 2>&1) || {
    unmount_under "$rootfs"
    die "java -version fails in $ref: $out"
  }
  if (($#)); then
    # The entrypoint as the controller runs it (uid NONROOT) and as the node plugin does (root):
    # either way it starts, and says nothing about the JVM's flags.
    local user
    for user in "$NONROOT:$NONROOT" 0:0; do
      chroot --userspec="$user" "$rootfs" /usr/bin/env -i PATH="$DEFAULT_PATH" "$@" >"$WORK/jar.out" 2>&1 &&
        ! grep -q "VM warning" "$WORK/jar.out" || {
        unmount_under "$rootfs"
        die "$* fails or warns as uid ${user%%:*} in $ref: $(tail -n 5 "$WORK/jar.out")"
      }
    done
    log "$ref: $(head -n 1 <<<"$out"); $* runs as uid $NONROOT and as root"
  else
    log "$ref: $(head -n 1 <<<"$out")"
  fi
  unmount_under "$rootfs"
}

# Boots the guest in the unpacked rootfs, as the pod would, on a new 16 MiB disk.img.
standin_checks() { # rootfs name
  local rootfs=$1 ref="localhost/$2:$VERSION" t0=$SECONDS rc=0
  proc_and_dev "$rootfs"
  mkdir -p "$rootfs/pvc"
  chroot "$rootfs" /usr/bin/env -i PATH="$DEFAULT_PATH" LANG=C.UTF-8 REMAP_GUEST_DIR=/usr/local/share/vm-standin/guest \
    DISK_SIZE=16M GUEST_SCRIPT='[ "$(blockdev --getsize64 /dev/disk/by-id/virtio-vmdisk)" = 16777216 ] && echo standin-disk-ok' \
    /usr/local/bin/vm-standin --timeout 180 /pvc/disk.img >"$WORK/standin.out" 2>&1 || rc=$?
  unmount_under "$rootfs"
  if ((rc != 0)) || ! tr -d '\r' <"$WORK/standin.out" | grep -qx standin-disk-ok; then
    die "vm-standin does not boot the guest in $ref (exit status $rc): $(tail -n 15 "$WORK/standin.out")"
  fi
  log "$ref: vm-standin booted the guest on a 16 MiB disk.img in $((SECONDS - t0))s"
}

main "$@"
