#!/bin/sh
# compare.sh: sim's training benchmarks and PyTorch's (bench.py) side by
# side, in one run, alternating: per repetition and thread count (1, then 2)
# PyTorch's randman and shd minibatches, then sim's BenchmarkEpoch and
# BenchmarkMinibatchSHD. Prints medians over the repetitions and the ratios
# (summarize.py). Not part of CI. Needs Debian's python3-torch.
#
#   sim/testdata/torch/compare.sh                   # the BLAS libblas.so.3 points to
#   BLAS=reference sim/testdata/torch/compare.sh    # Debian's reference BLAS and LAPACK
#   BLAS=openblas sim/testdata/torch/compare.sh     # OpenBLAS (apt-get install libopenblas0)
#
# Environment: REPS (5 repetitions), PYTHON (/usr/bin/python3), TORCH_THREADS
# (see below), DTYPE
# (PyTorch's: float32, as spytorch; sim computes in float64), RANDMAN_ITERS
# (10) and SHD_ITERS (3) timed PyTorch iterations per run, GO_BENCHTIME (5x).
# Run it on a quiet machine: it prints the load average before each run.
#
# sim's benchmarks run once per thread count (-test.cpu 1, then -test.cpu 2),
# not as -cpu 1,2: with -cpu 1,2 Go runs a b.Loop benchmark's first entry
# with the list's last GOMAXPROCS (golang/go#49980; the whole b.Loop
# benchmark happens in that first call), so "-cpu 1" would be measured on 2
# threads. A fixed -test.benchtime, because BenchmarkEpoch trains on: each
# iteration is a later epoch, with more hidden activity, so its cost per
# epoch depends on how many epochs it ran.
#
# PyTorch's threads: a configuration T:B is torch.set_num_threads(T)
# (OpenMP, OMP_NUM_THREADS=T) and OPENBLAS_NUM_THREADS=B: Debian's torch calls
# a generic BLAS that does not pass its thread count on to OpenBLAS's own
# pool. 2:2 oversubscribes 2 cores (each OpenMP thread calls a 2-thread
# OpenBLAS) and runs several times slower, so the 2-thread figures are the
# two sensible splits, 2:1 and 1:2 (TORCH_THREADS lists them; with the
# single-threaded reference BLAS, 1:2 is the same as 1:1 and is skipped).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
REPS=${REPS:-5}
PYTHON=${PYTHON:-/usr/bin/python3}
DTYPE=${DTYPE:-float32}
RANDMAN_ITERS=${RANDMAN_ITERS:-10}
SHD_ITERS=${SHD_ITERS:-3}
GO_BENCHTIME=${GO_BENCHTIME:-5x}
lib=/usr/lib/x86_64-linux-gnu
case "${BLAS:-}" in
"") libpath="" ;;
reference) libpath="$lib/blas:$lib/lapack" ;;
openblas) libpath="$lib/openblas-pthread" ;;
*)
	echo "compare.sh: BLAS must be reference, openblas or unset, got $BLAS" >&2
	exit 2
	;;
esac

TORCH_THREADS=${TORCH_THREADS:-1:1 2:1 1:2}
[ "${BLAS:-}" = reference ] && TORCH_THREADS=$(echo "$TORCH_THREADS" | tr ' ' '\n' | grep -v '^1:2$' | tr '\n' ' ')

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go test -c -o "$tmp/sim.test" ./sim)
"$PYTHON" "$here/bench.py" --check

for rep in $(seq "$REPS"); do
	for threads in 1 2; do
		for tb in $TORCH_THREADS; do
			t=${tb%:*} b=${tb#*:}
			[ "$(( t > b ? t : b ))" = "$threads" ] || continue
			for c in randman shd; do
				iters=$RANDMAN_ITERS
				[ "$c" = shd ] && iters=$SHD_ITERS
				cat /proc/loadavg >>"$tmp/load.txt"
				env LD_LIBRARY_PATH="$libpath" OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$b" \
					"$PYTHON" "$here/bench.py" --case "$c" --threads "$t" --iters "$iters" --dtype "$DTYPE" \
					>>"$tmp/torch.jsonl"
			done
		done
		cat /proc/loadavg >>"$tmp/load.txt"
		(cd "$root/sim" && "$tmp/sim.test" -test.run '^$' -test.bench 'Epoch$|MinibatchSHD' \
			-test.cpu "$threads" -test.benchtime "$GO_BENCHTIME") >>"$tmp/go.txt"
	done
	echo "compare.sh: repetition $rep of $REPS done, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done

echo "sim: $(cd "$root" && git rev-parse --short HEAD), $(go version)"
"$PYTHON" "$here/summarize.py" "$tmp/torch.jsonl" "$tmp/go.txt" "$tmp/load.txt"
