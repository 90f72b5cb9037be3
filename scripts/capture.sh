#!/bin/sh
# Captures the sysfs subset iommu-atlas reads into a .tar.gz, the same layout
# 'iommu-atlas capture' writes. POSIX sh; needs only busybox applets, so it
# also runs inside a minimal initramfs.
#
#   capture.sh [-o FILE.tar.gz] [--redact] [--hostname] [--root DIR]
#
#   -o FILE     archive to write (default iommu-atlas-capture-<UTC time>.tar.gz);
#               - writes it to stdout (the summary then goes to stderr), e.g.
#               ssh host sh -s -- -o - < capture.sh > host.tar.gz
#   --redact    zero each function's Device Serial Number in config space
#   --hostname  also record the host name (proc/sys/kernel/hostname)
#   --root DIR  read DIR/sys and DIR/proc instead of /sys and /proc
#
# For a Switchtec NT endpoint (vendor 0x11f8 or 0x1055, class 0x0680xx) it
# also reads, as root and with plain reads only, the few BAR0 registers the
# kernel's DMA-alias quirk reads, into resource0.excerpt beside the
# function's other files: from the function's resource0, else (a memory
# BAR's resource0 has no read method) from /dev/mem (DIR/dev/mem with
# --root) at BAR0's address in the function's resource file. Never a write.
#
# Exit: 0 written, 1 usage or write error, 2 no PCI functions found.
set -u

me=capture.sh
out=""
redact=0
hostname=0
root=""

usage() {
  echo "usage: $me [-o FILE.tar.gz] [--redact] [--hostname] [--root DIR]" >&2
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
    --hostname) hostname=1; shift ;;
    --root) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    -h | --help) echo "usage: $me [-o FILE.tar.gz] [--redact] [--hostname] [--root DIR]"; exit 0 ;;
    *) usage ;;
  esac
done
[ -n "$out" ] || out=iommu-atlas-capture-$(date -u +%Y%m%dT%H%M%SZ).tar.gz
if [ "$out" = - ] && [ -t 1 ]; then
  warn "-o -: standard output is a terminal, not a place for a binary archive; redirect it (> FILE) or pass -o FILE"
  exit 1
fi
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
ntbones=0
# 64-bit shell arithmetic (dash, bash, busybox sh): needed for /dev/mem positions
arith64=0
[ "$((2147483647 * 4))" = 8589934588 ] && arith64=1

# copy_file REL: copies ROOT/REL into the stage; absent is silent, unreadable warns
# (one cat per file: forks are what a capture's time goes to under emulation)
copy_file() {
  [ -e "$root/$1" ] || return 1
  [ -d "$stage/${1%/*}" ] || mkdir -p "$stage/${1%/*}"
  if cat "$root/$1" >"$stage/$1" 2>/dev/null; then
    :
  else
    rm -f "$stage/$1"
    warn "unreadable, skipped: $1"
    unreadable=$((unreadable + 1))
    return 1
  fi
}

# copy_link REL: recreates the symlink ROOT/REL with the same target text
copy_link() {
  [ -L "$root/$1" ] || return 1
  copy_link_target=$(readlink "$root/$1") || { warn "unreadable link, skipped: $1"; return 1; }
  [ -d "$stage/${1%/*}" ] || mkdir -p "$stage/${1%/*}"
  ln -s "$copy_link_target" "$stage/$1"
}

# u8s FILE OFFSET COUNT: the bytes as decimal numbers (fewer past the end);
# od -v everywhere: without it od prints a 16-byte line equal to the one
# before as "*"
u8s() {
  od -An -v -tu1 -j "$2" -N "$3" "$1" 2>/dev/null
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

# where bar_record reads BAR0: the file, the file position of BAR0 offset 0,
# and BAR0's length (empty: reads stop at the end of the file, as resource0's)
bar_file=""
bar_base=0
bar_size=""

# dd_error: the reason of dd's last failure, the text after the last ": " of
# its first "dd: " line (the strerror text: "Input/output error")
dd_error() {
  de_text=$(sed -n 's/^dd: //p' "$work/dderr" 2>/dev/null | head -n 1)
  de_text=${de_text##*: }
  echo "${de_text:-read error}"
}

# bar_record OFFSET LENGTH: reads LENGTH bytes at BAR0 OFFSET (both multiples
# of 4) from bar_file into $work/bar, in 4-byte reads (dd bs=4, seeking to
# the position, never mmap, never a write), cut at bar_size, and appends them
# to $work/excerpt as {u32 offset, u32 length, bytes}; an empty read (past
# the end) adds nothing; a read error fails
bar_record() {
  br_count=$(($2 / 4))
  if [ -n "$bar_size" ]; then
    if [ $(($1 >= bar_size)) = 1 ]; then
      br_count=0
    elif [ $(($1 + $2 > bar_size)) = 1 ]; then
      br_count=$(((bar_size - $1) / 4))
    fi
  fi
  if [ "$br_count" -eq 0 ]; then
    : >"$work/bar"
    return 0
  fi
  dd if="$bar_file" of="$work/bar" bs=4 skip=$(((bar_base + $1) / 4)) count=$br_count 2>"$work/dderr" || return 1
  br_len=$(($(wc -c <"$work/bar")))
  [ "$br_len" -gt 0 ] || return 0
  { le32 "$1" && le32 "$br_len" && cat "$work/bar"; } >>"$work/excerpt"
}

# ntb_excerpt OUT: writes OUT, the resource0.excerpt of a Switchtec NT
# endpoint, reading BAR0 where bar_file/bar_base/bar_size say: magic
# "IAGASEX1", then the records the DMA-alias quirk needs: ntb_info (0x10000,
# 64 bytes), then per partition of the endpoint map (low word, high word at
# +0x08 and at +0x24 where the kernel reads it, own partition left out) its
# req_id_table_size dword and, for sizes 1..512, its req_id_table. Same
# bytes as readNtbExcerpt in ntb-registers.ts. Returns 1 on a read error,
# 2 when the ntb_info bytes are all 0xff (BAR not decoded; nothing written).
ntb_excerpt() {
  ne_out=$1
  printf 'IAGASEX1' >"$work/excerpt" || return 1
  bar_record 65536 64 || return 1
  # shellcheck disable=SC2046 # word splitting wanted
  set -- $(od -An -v -tu1 -N 64 "$work/bar")
  if [ $# -gt 0 ]; then
    ne_ones=1
    for ne_b in "$@"; do
      [ "$ne_b" = 255 ] || { ne_ones=0; break; }
    done
    [ "$ne_ones" = 0 ] || return 2
  fi
  if [ $# -eq 64 ]; then
    ne_own=$(($2 & 63))
    ne_lo=$(($5 | $6 << 8 | $7 << 16 | $8 << 24))
    ne_hi=$(($9 | ${10} << 8 | ${11} << 16 | ${12} << 24 | ${37} | ${38} << 8 | ${39} << 16 | ${40} << 24))
    ne_p=0
    while [ "$ne_p" -lt 64 ]; do
      if [ "$ne_p" -lt 32 ]; then ne_w=$ne_lo; else ne_w=$ne_hi; fi
      if [ "$ne_p" -ne "$ne_own" ] && [ $(((ne_w >> (ne_p & 31)) & 1)) -eq 1 ]; then
        ne_ctrl=$((0x14000 + ne_p * 0x2000))
        bar_record $((ne_ctrl + 0x1c)) 4 || return 1
        # shellcheck disable=SC2046
        set -- $(od -An -v -tu1 "$work/bar")
        if [ $# -eq 4 ]; then
          ne_size=$(($1 | $2 << 8))
          if [ "$ne_size" -ge 1 ] && [ "$ne_size" -le 512 ]; then
            bar_record $((ne_ctrl + 0x400)) $((ne_size * 4)) || return 1
          fi
        fi
      fi
      ne_p=$((ne_p + 1))
    done
  fi
  mv "$work/excerpt" "$ne_out"
}

# mem_bar0 FILE: BAR0 from line 1 of a staged `resource` file (start end
# flags) into bar_base and bar_size, when it is a memory BAR /dev/mem can be
# read at; memBar0 in ntb-registers.ts is the same rule: the line exactly as
# the kernel prints it ("0x" and 16 lowercase hex digits, three times, one
# space apart), flags below 2^32 with IORESOURCE_MEM (0x200) and neither
# DISABLED nor UNSET (0x30000000), start not 0, end not below start and
# below 2^52, start and end + 1 multiples of 4. Returns 1 when not, 2 when
# this shell's arithmetic is narrower than 64 bits.
mem_bar0() {
  [ -f "$1" ] || return 1
  mb_line=$(head -n 1 "$1")
  mb_s=${mb_line%% *}
  mb_rest=${mb_line#* }
  mb_e=${mb_rest%% *}
  mb_f=${mb_rest#* }
  [ "$mb_line" = "$mb_s $mb_e $mb_f" ] || return 1
  for mb_x in "$mb_s" "$mb_e" "$mb_f"; do
    case $mb_x in 0x????????????????) ;; *) return 1 ;; esac
    case ${mb_x#0x} in *[!0-9a-f]*) return 1 ;; esac
  done
  # below 2^52 (addresses) and 2^32 (flags), before any arithmetic
  case $mb_e in 0x000*) ;; *) return 1 ;; esac
  case $mb_s in 0x000*) ;; *) return 1 ;; esac
  case $mb_f in 0x00000000*) ;; *) return 1 ;; esac
  [ "$arith64" = 1 ] || return 2
  mb_start=$(($mb_s))
  mb_end=$(($mb_e))
  mb_flags=$(($mb_f))
  [ $(((mb_flags & 0x200) != 0 && (mb_flags & 0x30000000) == 0)) = 1 ] || return 1
  [ $((mb_start != 0 && mb_end >= mb_start && mb_start % 4 == 0 && (mb_end + 1) % 4 == 0)) = 1 ] || return 1
  bar_base=$mb_start
  bar_size=$((mb_end - mb_start + 1))
}

# ntb_capture REL: the resource0.excerpt of the Switchtec NT endpoint at
# ROOT/REL: from resource0; when that read fails in any way, from /dev/mem
# at BAR0's physical address; warns when neither gives one
ntb_capture() {
  nc_rel=$1
  nc_out=$stage/$nc_rel/resource0.excerpt
  nc_src=resource0
  bar_file=$root/$nc_rel/resource0
  bar_base=0
  bar_size=""
  ntb_excerpt "$nc_out"
  nc_rc=$?
  if [ "$nc_rc" -eq 1 ]; then
    nc_why=$(dd_error)
    mem_bar0 "$stage/$nc_rel/resource"
    case $? in
      0)
        nc_src=/dev/mem
        bar_file=$root/dev/mem
        ntb_excerpt "$nc_out"
        nc_rc=$?
        [ "$nc_rc" -ne 1 ] || nc_why="$nc_why; /dev/mem: $(dd_error)"
        ;;
      2) nc_why="$nc_why; /dev/mem not tried: this shell's arithmetic is narrower than 64 bits (run under dash or busybox sh)" ;;
      *) nc_why="$nc_why; /dev/mem not tried: the resource file gives BAR0 no memory address" ;;
    esac
  fi
  case $nc_rc in
    0) ;;
    2)
      rm -f "$work/excerpt"
      warn "Switchtec NT registers read as all ones, skipped: $nc_rel ($nc_src)"
      ntbones=$((ntbones + 1))
      ;;
    *)
      rm -f "$work/excerpt"
      warn "Switchtec NT registers unreadable, skipped: $nc_rel (resource0: $nc_why)"
      ntbfail=$((ntbfail + 1))
      ;;
  esac
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
  # the bound driver's module (load order: proc/modules); once per driver
  if [ -L "$stage/$rel/driver" ]; then
    drv=$(readlink "$stage/$rel/driver")
    drv=${drv##*/}
    [ -L "$stage/sys/bus/pci/drivers/$drv/module" ] || copy_link "sys/bus/pci/drivers/$drv/module"
  fi
  if [ -f "$stage/$rel/config" ]; then
    [ $(($(wc -c <"$stage/$rel/config"))) -ge 256 ] || truncated=$((truncated + 1))
    [ "$redact" = 0 ] || zero_dsn "$stage/$rel/config"
  fi
  # Switchtec NT endpoint: the BAR0 registers the DMA-alias quirk reads (root only)
  if is_switchtec_nt "$stage/$rel"; then
    ntb_capture "$rel"
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

# IOMMU instances: links only (their targets live in sys/devices, outside the subset)
if [ -d "$root/sys/class/iommu" ]; then
  mkdir -p "$stage/sys/class/iommu"
  for inst in "$root"/sys/class/iommu/*; do
    [ -L "$inst" ] || continue
    copy_link "sys/class/iommu/${inst##*/}"
  done
fi
# each root bus's ACPI host bridge (firmware_node: hid, _UID, namespace path): the kernel scans
# root buses in ACPI namespace order, which instance numbers PNP0A08:NN follow
for rootbus in "$root"/sys/devices/pci[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]; do
  rel=sys/devices/${rootbus##*/}
  copy_link "$rel/firmware_node" || continue
  case $copy_link_target in
    ../*) node=${copy_link_target#../} ;;
    *) continue ;;
  esac
  case /$node/ in *//* | */./* | */../*) continue ;; esac
  for f in hid uid path; do copy_file "sys/devices/$node/$f" || :; done
done

tables=""
for t in DMAR IVRS IORT; do
  copy_file "sys/firmware/acpi/tables/$t" && tables="$tables $t"
done
# the device tree's root compatible: a machine booted from a device tree
devicetree=0
copy_file sys/firmware/devicetree/base/compatible && devicetree=1
# never the host name unless asked for (kernel/version and Ubuntu's version_signature name the
# upstream release; modules gives the module load order)
copy_file proc/cmdline
copy_file proc/sys/kernel/osrelease
copy_file proc/sys/kernel/version
copy_file proc/version_signature
copy_file proc/modules
# the architecture; on the live host, uname -m when the kernel lacks the file
if ! copy_file proc/sys/kernel/arch && [ -z "$root" ]; then
  arch=$(uname -m 2>/dev/null) && [ -n "$arch" ] &&
    mkdir -p "$stage/proc/sys/kernel" && echo "$arch" >"$stage/proc/sys/kernel/arch"
fi
# the machine's make and firmware (DMI_FIELDS in src/core/fleet/identity.ts); never serials or UUIDs
for f in sys_vendor product_name board_vendor board_name bios_vendor bios_version bios_date; do
  copy_file "sys/class/dmi/id/$f"
done
[ "$hostname" = 0 ] || copy_file proc/sys/kernel/hostname

set -- sys
[ ! -d "$stage/proc" ] || set -- sys proc
if [ "$out" = - ]; then
  if (cd "$stage" && tar cf "$work/capture.tar" "$@") && gzip -c "$work/capture.tar"; then
    # the summary below is not part of the archive
    exec >&2
  else
    warn "stdout: cannot write the capture"
    exit 1
  fi
else
  partial=$out.tmp-$$
  if (cd "$stage" && tar cf "$work/capture.tar" "$@") &&
    gzip -c "$work/capture.tar" >"$partial" &&
    mv "$partial" "$out"; then
    partial=""
  else
    warn "$out: cannot write the capture"
    exit 1
  fi
fi

if [ -n "$tables" ]; then tables="ACPI$tables"; else tables="no IOMMU ACPI table"; fi
[ "$devicetree" = 0 ] || tables="$tables, device tree"
into=$out
[ "$out" != - ] || into=stdout
echo "captured $(plural "$functions" "PCI function"), $(plural "$groups" "IOMMU group"), $tables into $into"
[ "$truncated" -eq 0 ] ||
  warn "note: config space shorter than 256 bytes on $(plural "$truncated" function); not root? run as root for capabilities (ACS, PCIe)"
[ "$groups" -gt 0 ] || warn "note: no IOMMU groups: the kernel runs without an IOMMU"
[ "$unreadable" -eq 0 ] || warn "note: $(plural "$unreadable" file) unreadable, skipped"
[ "$ntbfail" -eq 0 ] ||
  warn "note: Switchtec NT registers unreadable on $(plural "$ntbfail" function) (resource0 and /dev/mem); proxy aliases stay unknown; run as root; if /dev/mem is refused (Operation not permitted), boot once with iomem=relaxed; else declare the partition table in a design file (switchtec: key, docs/design.md)"
[ "$ntbones" -eq 0 ] ||
  warn "note: Switchtec NT registers read as all ones on $(plural "$ntbones" function); proxy aliases stay unknown; the function does not decode its BAR (memory space off, or powered down): bind the switchtec driver or enable it (echo 1 > /sys/bus/pci/devices/<bdf>/enable), then capture again"
[ "$serials" -eq 0 ] || warn "note: redacted: device serial number zeroed on $(plural "$serials" function)"
exit 0
