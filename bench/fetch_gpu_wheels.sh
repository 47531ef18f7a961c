#!/usr/bin/env bash
# Download exactly the wheels of bench/gpu_wheels.txt (CPython 3.12, manylinux x86_64: the GPU machines' Python) into
# the git-ignored folder .whl/, which travels to a GPU machine as a `carry` path (64 MiB in all with the working tree).
# Checks that each wheel's requirements are met by the list or by the machines' own packages, and the total size.
#   bash bench/fetch_gpu_wheels.sh            (PYTHON=... picks the Python whose pip downloads; default .venv's)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}; [ -x "$PY" ] || PY=python3
LIST=bench/gpu_wheels.txt DEST=.whl LIMIT_MIB=64
tmp=$(mktemp -d .whl.tmp.XXXX); trap 'rm -rf "$tmp"' EXIT
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
         manylinux1_x86_64; do platforms+=(--platform "$p"); done
mapfile -t pins < <(grep -v '^\s*#' "$LIST" | sed 's/#.*//; s/\s//g' | grep .)
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platforms[@]}" -d "$tmp" "${pins[@]}"
rm -rf "$DEST"; mv "$tmp" "$DEST"
"$PY" - "$LIST" "$DEST" "$LIMIT_MIB" <<'PY'
import re, subprocess, sys, zipfile
from pathlib import Path
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as cn, parse_wheel_filename
from packaging.version import Version
listing, dest, limit = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
lines = listing.read_text().splitlines()
pins = {cn(n): Version(v) for n, v in (l.split('#')[0].strip().split('==') for l in lines if l.split('#')[0].strip())}
present = {cn(n) for l in lines if l.startswith('# present:') for n in l.split(':', 1)[1].split()}
wheels = {}
for w in sorted(dest.glob('*.whl')):
    name, version, _, _ = parse_wheel_filename(w.name); wheels.setdefault(name, []).append((version, w))
problems = [f'{n}: {len(ws)} wheels' for n, ws in wheels.items() if len(ws) > 1]
problems += [f'{n}=={v} not downloaded' for n, v in pins.items() if n not in wheels]
problems += [f'{n}: got {ws[0][0]}, pinned {pins.get(n)}' for n, ws in wheels.items() if ws[0][0] != pins.get(n)]
env = dict(python_version='3.12', python_full_version='3.12.3', sys_platform='linux', platform_system='Linux',
           platform_machine='x86_64', implementation_name='cpython', platform_python_implementation='CPython',
           os_name='posix', extra='')
for n, ws in wheels.items():
    with zipfile.ZipFile(ws[0][1]) as z:
        meta = z.read(next(m for m in z.namelist() if m.endswith('.dist-info/METADATA'))).decode()
    for line in meta.splitlines():
        if not line.startswith('Requires-Dist:'): continue
        r = Requirement(line.split(':', 1)[1])
        if r.marker and not r.marker.evaluate(env): continue
        d = cn(r.name)
        if d in pins and not r.specifier.contains(pins[d], prereleases=True): problems.append(f'{n} needs {r}, pinned {pins[d]}')
        elif d not in pins and d not in present: problems.append(f'{n} needs {r}: neither pinned nor on the machines')
size = sum(w.stat().st_size for ws in wheels.values() for _, w in ws)
tracked = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], capture_output=True).stdout
tree = sum(Path(f).stat().st_size for f in tracked.decode().split('\0') if f and Path(f).is_file())
print(f'{len(wheels)} wheels in {dest}/: {size / 2**20:.1f} MiB; with the working tree ({tree / 2**20:.1f} MiB) '
      f'{(size + tree) / 2**20:.1f} MiB of the {limit:.0f} MiB that may travel')
if size + tree > limit * 2**20: problems.append(f'{(size + tree) / 2**20:.1f} MiB is over the {limit:.0f} MiB limit')
for p in problems: print(f'fetch_gpu_wheels.sh: error: {p}', file=sys.stderr)
sys.exit(1 if problems else 0)
PY
