#!/bin/bash
# train_throughput.py on a bare GPU machine (Keras 3 on JAX), as run for benchmarks/results/train_throughput_gpu.txt.
# Usage, from the repository root:  WHEELS=dir bash benchmarks/gpu_train_throughput.sh [paper]
#   WHEELS: a folder of cp312 wheels for what the machine lacks (the project's were av, keras, librosa, soundfile,
#   soxr, optree, namex, audioread, cffi, pycparser, decorator, pooch, platformdirs); installed with --no-deps.
#   "paper": only the conf/paper runs. The log goes to $OUT (or /tmp)/gpu_train_throughput.txt.
cd "$(dirname "$0")/.." || exit 1
LOG=${OUT:-/tmp}/gpu_train_throughput.txt
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "${WHEELS:-.whl}"/*.whl 2>&1 | tail -3
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1 KERAS_BACKEND=jax
B=benchmarks/train_throughput.py
run() {  # run SECONDS ARGS...
  local t=$1; shift
  echo; echo "\$ KERAS_BACKEND=jax python3 $B $*   ($(date -u +%T))"
  timeout "$t" python3 $B "$@" 2>&1 | grep -v -E "^(WARNING|I0000|W0000)"
  echo "exit status ${PIPESTATUS[0]} ($(date -u +%T))"
}
{
  echo "date: $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "nproc $(nproc); $(python3 --version)"
  python3 -c "import jax, keras, av; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__, 'av', av.__version__)" 2>&1 | tail -1
  t0=$(date +%s)
  python3 -c "
import yaml; from l3_kedro.video.synthetic import generate_synthetic_corpus
o = yaml.safe_load(open('conf/base/parameters_ingest.yml'))['ingest']['avc']['synthetic']
print(generate_synthetic_corpus('data/01_raw/avc_synthetic', **o))" 2>&1 | tail -1
  echo "corpus generated in $(( $(date +%s) - t0 )) s"
  run 200 --env paper --steps 32 --repeats 3
  if [ "$1" != paper ]; then
    run 110 --steps 32 --repeats 3
    run 110 --steps 32 --repeats 3 --workers 4
  fi
  run 110 --env paper --steps 32 --repeats 2 --workers 1
  echo "end: $(date -u +%FT%TZ)"
} 2>&1 | tee "$LOG"
