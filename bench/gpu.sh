#!/usr/bin/env bash
# Every GPU figure of the project in one run of at most 8 minutes, on a bare machine with one GPU, 16 cores, Python 3.12
# and its own torch, and no network (BENCHMARKS.md gives the exact device command):
#   OUT=<folder> bash bench/gpu.sh              on the GPU machine; .whl/ (bash bench/fetch_gpu_wheels.sh) beside it
#   OUT=<folder> bash bench/gpu.sh --dry-run    on CPU, every step at tiny sizes, the current Python, in < 5 minutes
# Step 0 installs the carried wheels and csip (--no-deps, into a throwaway --target folder on the machine's own torch)
# and records nvidia-smi and the versions; then each step runs under its own time cap (`timeout`, never past the run's
# budget) and leaves $OUT/NN_<step>.json: its figures, written row by row by the bench script, plus a `step` block
# (ok / failed / timed out, seconds, the log's end on failure). A step that fails or times out does not stop the run.
#   1 forces      exact banners on CUDA at 128 and 256 px, CUDA against CPU, banners/s and the floor (bench/forces.py)
#   2 banners     COCO-format file to banner cache, 15 decoding workers: pairs/s, the limiting stage (bench/banners.py)
#   3 data        the training input path, 16 workers: pairs/s (bench/data.py)
#   4 train       the C-SIP step against the bare ResNet-18, bf16, channels_last, torch.compile (bench/train.py)
#   5 notebooks   nbdev_test --flags gpu on the notebooks with `#| gpu` cells (bench/notebooks.py)
#   6 quickstart  csip_quickstart end to end, sized to about 3 minutes on one GPU
# The logs end up in $OUT/logs.tar.gz (with the quickstart's report): the device tool returns at most 8 files.
# Environment: OUT (required), PYTHON (default python3; .venv/bin/python in a dry run), BUDGET (seconds for the
# whole run), CAP_<STEP> (one step's cap, e.g. CAP_TRAIN=150), TRAIN_MODELS (default resnet18; resnet18,vit_b16 if
# time allows), WORK (scratch folder, default a new one under /tmp), STEPS (comma-separated step names to run, e.g.
# forces,banners; default all; setup always runs). Exit status 0 when every step that ran succeeded, else 1.
set -uo pipefail
cd "$(dirname "$0")/.."
DRY=0
case "${1:-}" in --dry-run) DRY=1 ;; "") ;; *) echo "gpu.sh: error: unknown argument $1 (only --dry-run)" >&2; exit 2 ;; esac
[ -n "${OUT:-}" ] || { echo "gpu.sh: error: set OUT to the folder for the results" >&2; exit 2; }
mkdir -p "$OUT" || exit 2
KEEP_WORK=${WORK:+1}   # a scratch folder made here is removed at the end; one given in WORK is kept
WORK=${WORK:-$(mktemp -d /tmp/csip_gpu.XXXXXX)}; mkdir -p "$WORK"
if [ $DRY = 1 ]; then PY=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}; BUDGET=${BUDGET:-290}
else PY=${PYTHON:-python3}; BUDGET=${BUDGET:-465}; fi
PY=$(command -v "$PY") || { echo "gpu.sh: error: no Python at ${PYTHON:-python3}" >&2; exit 2; }
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 MPLBACKEND=Agg
T0=$(date +%s)

cap() { local v="CAP_$1"; echo "${!v:-$2}"; }   # a step's cap: CAP_<STEP> from the environment, else the default

# step NAME CAP [--figures] -- COMMAND...: run COMMAND under min(CAP, time left), log to $OUT/NAME.log, finish its JSON
step() {
  local name=$1 cap=$2 figures=; shift 2
  [ -z "${STEPS:-}" ] || [ "$name" = 00_setup ] || [[ ",$STEPS," == *",${name#[0-9][0-9]_},"* ]] || return 0
  if [ "$1" = --figures ]; then figures=--figures; shift; fi
  shift   # --
  local left=$(( BUDGET - ($(date +%s) - T0) ))
  if [ "$left" -lt 5 ]; then
    "$PY" bench/gpu_step.py finish "$OUT/$name.json" --step "$name" --rc -1 --seconds 0 --cap 0 --skipped --command "$*"
    return
  fi
  [ "$cap" -gt "$left" ] && cap=$left
  local t=$(date +%s%N)
  timeout -k 10 "$cap" "$@" > "$OUT/$name.log" 2>&1
  local rc=$? ms=$(( ($(date +%s%N) - t) / 1000000 ))
  local s=$((ms / 1000)).$(printf %03d $((ms % 1000)))
  "$PY" bench/gpu_step.py finish "$OUT/$name.json" --step "$name" --rc $rc --seconds "$s" --cap "$cap" \
    --log "$OUT/$name.log" --command "$*" $figures "${ATTACH[@]}"
  [ $rc = 0 ] || tail -n 15 "$OUT/$name.log" | sed "s/^/  $name| /"
}
ATTACH=()

# 0: install (GPU) or check that the wheels would install (dry run), then the machine and the versions
SITE=$WORK/site
if [ $DRY = 1 ]; then
  platforms=""; for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 \
                         manylinux2014_x86_64 manylinux1_x86_64; do platforms="$platforms --platform $p"; done
  wheels_check="if ls .whl/*.whl >/dev/null 2>&1; then $PY -m pip install --dry-run --ignore-installed --no-index \
--no-deps --only-binary=:all: --python-version 3.12 --implementation cp $platforms --target $WORK/dry .whl/*.whl; \
else echo 'no .whl/: run bash bench/fetch_gpu_wheels.sh to check the wheels too'; fi"
  install="$wheels_check && $PY -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --target $SITE ."
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PATH=$(dirname "$PY"):$PATH
else
  install="nvidia-smi; ls .whl/*.whl > /dev/null && $PY -m pip install -q --no-index --no-deps --no-compile \
--no-cache-dir --no-build-isolation --upgrade --target $SITE .whl/*.whl ."
  export PYTHONPATH=$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH} PATH=$SITE/bin:$PATH
fi
step 00_setup "$(cap SETUP 60)" -- bash -c "$install && $PY bench/gpu_step.py setup --out $OUT/00_setup.json --wheels .whl"
[ -f "$OUT/00_setup.log" ] && grep -vE '^(WARNING: Location|Processing |Looking in links)' "$OUT/00_setup.log" | head -n 60
rm -rf "$WORK/dry"

if [ $DRY = 1 ]; then
  step 01_forces "$(cap FORCES 60)" --figures -- "$PY" bench/forces.py --device cpu --sizes 32 64 --n 16 --repeats 1 \
    --ref-dirs 2 --ref-lines 2 --check-pairs 4 --out "$OUT/01_forces.json"
  step 02_banners "$(cap BANNERS 60)" --figures -- "$PY" bench/banners.py --device cpu --n-images 20 --workers 1 \
    --max-side 32 --out "$OUT/02_banners.json"
  step 03_data "$(cap DATA 60)" --figures -- "$PY" bench/data.py --workers 1 --batches 2 --out "$OUT/03_data.json"
  step 04_train "$(cap TRAIN 90)" --figures -- "$PY" bench/train.py --device cpu --models resnet18 --batch_size 4 \
    --image_size 32 --steps 1 --warmup 1 --workers 1 --out "$OUT/04_train.json"
  step 05_notebooks "$(cap NOTEBOOKS 60)" --figures -- "$PY" bench/notebooks.py --flags '' --only 00_forces \
    --out "$OUT/05_notebooks.json"
  quickstart=(csip_quickstart --preset test --device cpu --backbone_seeds 1 --set 'seeds=[0]' --set reference=false)
else
  step 01_forces "$(cap FORCES 45)" --figures -- "$PY" bench/forces.py --device cuda --out "$OUT/01_forces.json"
  step 02_banners "$(cap BANNERS 60)" --figures -- "$PY" bench/banners.py --device cuda --workers 15 \
    --out "$OUT/02_banners.json"
  step 03_data "$(cap DATA 35)" --figures -- "$PY" bench/data.py --workers 16 --batches 50 --device cuda --out "$OUT/03_data.json"
  step 04_train "$(cap TRAIN 100)" --figures -- "$PY" bench/train.py --device cuda --models "${TRAIN_MODELS:-resnet18}" \
    --compile --workers 16 --out "$OUT/04_train.json"
  step 05_notebooks "$(cap NOTEBOOKS 80)" --figures -- "$PY" bench/notebooks.py --out "$OUT/05_notebooks.json"
  # the gpu preset (ResNet-18 at 224 px, loader workers, CUDA) on a tenth of its scenes, 2 epochs, one seed
  quickstart=(csip_quickstart --preset gpu --device cuda --backbone_seeds 1 --set scenes.n_train=3000
              --set scenes.n_val=300 --set scenes.n_test=300 --set scenes.n_relation_train=600 --set train.epochs=2
              --set semantic_epochs=2 --set workers=15)
fi
ATTACH=(--attach "report=$WORK/runs/quickstart/report.md")
step 06_quickstart "$(cap QUICKSTART 240)" -- "${quickstart[@]}" --name quickstart --out_root "$WORK/runs"
ATTACH=()

cp "$WORK/runs/quickstart/report.md" "$OUT/06_quickstart_report.md" 2>/dev/null
[ -n "$KEEP_WORK" ] || rm -rf "$WORK"
(cd "$OUT" && shopt -s nullglob && logs=(./*.log ./*.md) && [ ${#logs[@]} -gt 0 ] && tar czf logs.tar.gz "${logs[@]}" \
  && rm -f "${logs[@]}")
echo "run: $(( $(date +%s) - T0 )) s of a budget of $BUDGET s; JSON per step in $OUT, logs in $OUT/logs.tar.gz"
"$PY" bench/gpu_step.py summary "$OUT"
