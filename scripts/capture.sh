#!/bin/sh
# Captures the sysfs subset iommu-atlas reads into a .tar.gz, the same layout
# 'iommu-atlas capture' writes. POSIX sh; needs only busybox applets, so it
# also runs inside a minimal initramfs.
#
#   capture.sh [-o FILE.tar.gz] [--redact] [--root DIR]
#
#   -o FILE     archive to write (default iommu-atlas-capture-<UTC time>.tar.gz)
#   --redact    zero each function's Device Serial Number in config space
#   --root DIR  read DIR/sys and DIR/proc instead of /sys and /proc
#
# Exit: 0 written, 1 usage or write error, 2 no PCI functions found.
set -u

me=capture.sh
out=""
redact=0
root=""

usage() {
  echo "usage: $me [-o FILE.tar.gz] [--redact] [--root DIR]" >&2
  exit 1
}
warn() {
  echo "$me: $*" >&2
}
# plural N WORD: "1 WORD" or "N WORDs"
plural() {
  if [ "$1" -eq 1 ]; then echo "$1 $2"; else echo "$1 $2s"; fi
}

while [ $# -gt 0 ]; do
  case $1 in
    -o | --output) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --output=*) out=${1#--output=}; shift ;;
    -o?*) out=${1#-o}; shift ;;
    --redact) redact=1; shift ;;
    --root) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    -h | --help) echo "usage: $me [-o FILE.tar.gz] [--redact] [--root DIR]"; exit 0 ;;
    *) usage ;;
  esac
done
[ -n "$out" ] || out=iommu-atlas-capture-$(date -u +%Y%m%dT%H%M%SZ).tar.gz
# "/" and "" both mean this host
while :; do
  case $root in */) root=${root%/} ;; *) break ;; esac
done

devices=$root/sys/bus/pci/devices
if [ ! -d "$devices" ]; then
  warn "nothing captured: no $devices; pass --root with the folder that holds sys/ and proc/"
  exit 2
fi

# staging folder: TMPDIR, /tmp, else beside the output (initramfs may lack /tmp)
tmpbase=${TMPDIR:-/tmp}
if [ ! -d "$tmpbase" ] || [ ! -w "$tmpbase" ]; then
  case $out in */*) tmpbase=${out%/*} ;; *) tmpbase=. ;; esac
fi
work=$tmpbase/iommu-atlas-capture.$$
mkdir -m 700 "$work" || { warn "cannot create staging folder $work"; exit 1; }
partial=""
trap 'rm -rf "$work"; [ -z "$partial" ] || rm -f "$partial"' EXIT
trap 'exit 1' HUP INT TERM
stage=$work/root
mkdir "$stage"

unreadable=0
truncated=0
serials=0

# copy_file REL: copies ROOT/REL into the stage; absent is silent, unreadable warns
copy_file() {
  [ -e "$root/$1" ] || return 1
  if cat "$root/$1" >"$work/part" 2>/dev/null; then
    mkdir -p "$stage/${1%/*}" && mv "$work/part" "$stage/$1"
  else
    rm -f "$work/part"
    warn "unreadable, skipped: $1"
    unreadable=$((unreadable + 1))
    return 1
  fi
}

# copy_link REL: recreates the symlink ROOT/REL with the same target text
copy_link() {
  [ -L "$root/$1" ] || return 1
  copy_link_target=$(readlink "$root/$1") || { warn "unreadable link, skipped: $1"; return 1; }
  mkdir -p "$stage/${1%/*}" && ln -s "$copy_link_target" "$stage/$1"
}

# u8s FILE OFFSET COUNT: the bytes as decimal numbers (fewer past the end)
u8s() {
  od -An -tu1 -j "$2" -N "$3" "$1" 2>/dev/null
}

# zero_dsn FILE: zeroes the 8 serial bytes of each Device Serial Number
# capability (id 0x0003), walking the extended capability list from 0x100
zero_dsn() {
  zd_file=$1
  zd_off=256
  zd_seen=" "
  zd_hit=0
  while [ "$zd_off" -ge 256 ] && [ "$zd_off" -lt 4096 ]; do
    case $zd_seen in *" $zd_off "*) break ;; esac
    zd_seen="$zd_seen$zd_off "
    # shellcheck disable=SC2046 # word splitting wanted
    set -- $(u8s "$zd_file" "$zd_off" 4)
    [ $# -eq 4 ] || break
    [ "$1$2$3$4" = 0000 ] && break
    [ "$1$2$3$4" = 255255255255 ] && break
    zd_next=$(( (($3 >> 4) | ($4 << 4)) & 4092 ))
    if [ "$1" -eq 3 ] && [ "$2" -eq 0 ]; then
      # shellcheck disable=SC2046
      set -- $(u8s "$zd_file" "$zd_off" 12)
      if [ $# -eq 12 ]; then
        printf '\000\000\000\000\000\000\000\000' |
          dd of="$zd_file" bs=1 seek=$((zd_off + 4)) count=8 conv=notrunc 2>/dev/null
        zd_hit=1
      fi
    fi
    zd_off=$zd_next
  done
  serials=$((serials + zd_hit))
}

# functions: follow each bus link to its folder under sys/devices
if [ -z "$root" ]; then rootreal=/; else rootreal=$(cd -P "$root" && pwd -P) || exit 1; fi
mkdir -p "$stage/sys/bus/pci/devices"
functions=0
for link in "$devices"/*; do
  [ -L "$link" ] || continue
  bdf=${link##*/}
  real=$(cd -P "$link" 2>/dev/null && pwd -P) || { warn "dangling link, skipped: sys/bus/pci/devices/$bdf"; continue; }
  if [ "$rootreal" = / ]; then rel=${real#/}; else rel=${real#"$rootreal"/}; fi
  case $rel in
    sys/devices/*) ;;
    *) warn "link outside sys/devices, skipped: sys/bus/pci/devices/$bdf"; continue ;;
  esac
  copy_link "sys/bus/pci/devices/$bdf" || continue
  mkdir -p "$stage/$rel"
  for f in config vendor device subsystem_vendor subsystem_device class revision numa_node irq resource reset_method; do
    copy_file "$rel/$f"
  done
  for f in driver iommu_group; do
    copy_link "$rel/$f"
  done
  if [ -f "$stage/$rel/config" ]; then
    [ $(($(wc -c <"$stage/$rel/config"))) -ge 256 ] || truncated=$((truncated + 1))
    [ "$redact" = 0 ] || zero_dsn "$stage/$rel/config"
  fi
  functions=$((functions + 1))
done
if [ "$functions" -eq 0 ]; then
  warn "nothing captured: no PCI functions under $devices"
  exit 2
fi

# IOMMU groups: the kernel's decision
groups=0
if [ -d "$root/sys/kernel/iommu_groups" ]; then
  mkdir -p "$stage/sys/kernel/iommu_groups"
  for group in "$root"/sys/kernel/iommu_groups/*; do
    [ -d "$group/devices" ] || continue
    n=${group##*/}
    mkdir -p "$stage/sys/kernel/iommu_groups/$n/devices"
    groups=$((groups + 1))
    for member in "$group"/devices/*; do
      [ -L "$member" ] || continue
      copy_link "sys/kernel/iommu_groups/$n/devices/${member##*/}"
    done
  done
fi

tables=""
for t in DMAR IVRS; do
  copy_file "sys/firmware/acpi/tables/$t" && tables="$tables $t"
done
# never the host name: only these two
copy_file proc/cmdline
copy_file proc/sys/kernel/osrelease

set -- sys
[ ! -d "$stage/proc" ] || set -- sys proc
partial=$out.tmp-$$
if (cd "$stage" && tar cf "$work/capture.tar" "$@") &&
  gzip -c "$work/capture.tar" >"$partial" &&
  mv "$partial" "$out"; then
  partial=""
else
  warn "$out: cannot write the capture"
  exit 1
fi

if [ -n "$tables" ]; then tables="ACPI$tables"; else tables="no IOMMU ACPI table"; fi
echo "captured $(plural "$functions" "PCI function"), $(plural "$groups" "IOMMU group"), $tables into $out"
[ "$truncated" -eq 0 ] ||
  warn "note: config space shorter than 256 bytes on $(plural "$truncated" function); not root? run as root for capabilities (ACS, PCIe)"
[ "$groups" -gt 0 ] || warn "note: no IOMMU groups: the kernel runs without an IOMMU"
[ "$unreadable" -eq 0 ] || warn "note: $(plural "$unreadable" file) unreadable, skipped"
[ "$serials" -eq 0 ] || warn "note: redacted: device serial number zeroed on $(plural "$serials" function)"
exit 0
