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
# For a Switchtec NT endpoint (vendor 0x11f8 or 0x1055, class 0x0680xx) it
# also reads, as root and with plain reads only, the few BAR0 registers the
# kernel's DMA-alias quirk reads, into resource0.excerpt beside the
# function's other files.
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
ntbfail=0

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

# is_switchtec_nt DIR: the staged vendor and class files say Switchtec NT
# endpoint (vendor 0x11f8 or 0x1055, class 0x0680xx), the texts collect.ts matches
is_switchtec_nt() {
  [ -f "$1/vendor" ] && [ -f "$1/class" ] || return 1
  case $(cat "$1/vendor") in 0x11f8 | 0x1055) ;; *) return 1 ;; esac
  case $(cat "$1/class") in 0x0680[0-9a-f][0-9a-f]) return 0 ;; *) return 1 ;; esac
}

# le32 N: N as four little-endian bytes
le32() {
  # shellcheck disable=SC2059 # the format is built to hold octal escapes
  printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
}

# bar_record BAR OFFSET LENGTH: reads LENGTH bytes at OFFSET of BAR (both
# multiples of 4) into $work/bar with plain reads (dd, never mmap, never a
# write) and appends them to $work/excerpt as {u32 offset, u32 length, bytes};
# an empty read (past the end) adds nothing; a read error fails
bar_record() {
  dd if="$1" of="$work/bar" bs=4 skip=$(($2 / 4)) count=$(($3 / 4)) 2>/dev/null || return 1
  br_len=$(($(wc -c <"$work/bar")))
  [ "$br_len" -gt 0 ] || return 0
  { le32 "$2" && le32 "$br_len" && cat "$work/bar"; } >>"$work/excerpt"
}

# ntb_excerpt BAR OUT: writes OUT, the resource0.excerpt of a Switchtec NT
# endpoint: magic "IAGASEX1", then the records the DMA-alias quirk needs:
# ntb_info (0x10000, 64 bytes), then per partition of the endpoint map (low
# word, high word at +0x08 and at +0x24 where the kernel reads it, own
# partition left out) its req_id_table_size dword and, for sizes 1..512, its
# req_id_table. Same bytes as readNtbExcerpt in collect.ts.
ntb_excerpt() {
  ne_bar=$1
  ne_out=$2
  printf 'IAGASEX1' >"$work/excerpt" || return 1
  bar_record "$ne_bar" 65536 64 || return 1
  # shellcheck disable=SC2046 # word splitting wanted
  set -- $(od -An -tu1 -N 64 "$work/bar")
  if [ $# -eq 64 ]; then
    ne_own=$(($2 & 63))
    ne_lo=$(($5 | $6 << 8 | $7 << 16 | $8 << 24))
    ne_hi=$(($9 | ${10} << 8 | ${11} << 16 | ${12} << 24 | ${37} | ${38} << 8 | ${39} << 16 | ${40} << 24))
    ne_p=0
    while [ "$ne_p" -lt 64 ]; do
      if [ "$ne_p" -lt 32 ]; then ne_w=$ne_lo; else ne_w=$ne_hi; fi
      if [ "$ne_p" -ne "$ne_own" ] && [ $(((ne_w >> (ne_p & 31)) & 1)) -eq 1 ]; then
        ne_ctrl=$((0x14000 + ne_p * 0x2000))
        bar_record "$ne_bar" $((ne_ctrl + 0x1c)) 4 || return 1
        # shellcheck disable=SC2046
        set -- $(od -An -tu1 "$work/bar")
        if [ $# -eq 4 ]; then
          ne_size=$(($1 | $2 << 8))
          if [ "$ne_size" -ge 1 ] && [ "$ne_size" -le 512 ]; then
            bar_record "$ne_bar" $((ne_ctrl + 0x400)) $((ne_size * 4)) || return 1
          fi
        fi
      fi
      ne_p=$((ne_p + 1))
    done
  fi
  mv "$work/excerpt" "$ne_out"
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
  # Switchtec NT endpoint: the BAR0 registers the DMA-alias quirk reads (root only)
  if is_switchtec_nt "$stage/$rel"; then
    if ! ntb_excerpt "$root/$rel/resource0" "$stage/$rel/resource0.excerpt"; then
      rm -f "$work/excerpt"
      warn "Switchtec NT registers unreadable, skipped: $rel/resource0"
      ntbfail=$((ntbfail + 1))
    fi
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
[ "$ntbfail" -eq 0 ] ||
  warn "note: Switchtec NT registers (resource0) unreadable on $(plural "$ntbfail" function); proxy aliases stay unknown; capture as root on the host with the NT function"
[ "$serials" -eq 0 ] || warn "note: redacted: device serial number zeroed on $(plural "$serials" function)"
exit 0
