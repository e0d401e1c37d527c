# Sourced by the benches: --hold-freed-memory. On a virtual machine whose balloon device reports
# freed memory to its host (virtio-balloon free page reporting, the kernel's page_reporting), every
# 2 MiB block the guest frees is handed back and the next use of it faults on the host. A server
# that writes new files (Remap: journal files and segments) takes fresh page-cache pages all the
# time and pays that fault per page, inside its copy into the page cache; a server overwriting a
# file filled before the measurement (the anchors) never does. A node on bare metal, or a VM
# without reporting, does not pay it. Holding reporting off for the run (page_reporting_order 11:
# no free block is that large) measures that node; the order in force is restored at the end.
# Memory reported before the hold is still away, so the hold then touches every free page once (a
# tmpfs file as large as the free memory less 1 GiB, removed at once: about 1 s per GiB).
# Measured on this machine: bench/threads.sh write, 60k -> 86k IOPS (docs/BENCHMARKS.md).
REPORTING_ORDER=/sys/module/page_reporting/parameters/page_reporting_order
held_order=""
hold_freed_memory() {
  if [ ! -w "$REPORTING_ORDER" ]; then
    echo "bench: this machine reports no freed memory to a host; nothing to hold" >&2
    return 0
  fi
  held_order=$(cat "$REPORTING_ORDER")
  echo 11 >"$REPORTING_ORDER"
  local touch mib
  touch=$(mktemp -p /dev/shm remap-bench-touch.XXXXXX)
  mib=$(( $(awk '/^MemFree:/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
  dd if=/dev/zero of="$touch" bs=1M count="$mib" status=none 2>/dev/null || true
  rm -f "$touch"
  echo "bench: free page reporting held off (page_reporting_order $held_order -> 11) until the run ends" >&2
}
release_freed_memory() {
  [ -n "$held_order" ] && echo "$held_order" >"$REPORTING_ORDER"
  held_order=""
}
