#!/bin/bash
# benchcmp.sh REV [ROUNDS]: the simulator's benchmarks at git revision REV
# and in this tree (in float64 and float32), side by side: ROUNDS rounds
# (default 6), each running the three in turn, so that a machine whose
# speed drifts treats them alike; then benchstat's medians and p-values,
# CPU seconds per minibatch or epoch. One core (-test.cpu 1), then two for
# the minibatch benchmarks and BenchmarkEpoch. README "Speed" was measured
# with it:
#
#	sim/benchcmp.sh 8b97ffc
#
# Run it from the repository root on a quiet machine; it takes about two
# minutes per round. The output directory is kept (its path is printed).
set -euo pipefail
rev=${1:?usage: sim/benchcmp.sh REV [ROUNDS]}
rounds=${2:-6}
out=$(mktemp -d -t sgsweep-benchcmp.XXXXXX)
repo=$(git rev-parse --show-toplevel)

git -C "$repo" worktree add --detach "$out/old" "$rev" >/dev/null
trap 'git -C "$repo" worktree remove --force "$out/old"' EXIT
(cd "$out/old" && go test -c -o "$out/old.test" ./sim)
(cd "$repo" && go test -c -o "$out/new.test" ./sim)

# bench NAME BINARY [ARGS…] runs one round of NAME's benchmarks.
bench() {
	local name=$1 bin=$2
	shift 2
	"$bin" -test.run '^$' -test.bench 'Busy|MinibatchSHD' -test.cpu 1 -test.benchtime 10x "$@" | grep '^Benchmark' >>"$out/$name.cpu1.txt"
	"$bin" -test.run '^$' -test.bench 'Epoch$|EpochVariants|EpochShapes' -test.cpu 1 -test.benchtime 2x "$@" | grep '^Benchmark' >>"$out/$name.cpu1.txt"
	"$bin" -test.run '^$' -test.bench 'Busy|MinibatchSHD|Epoch$' -test.cpu 2 -test.benchtime 10x "$@" | grep '^Benchmark' >>"$out/$name.cpu2.txt"
}

cd "$repo/sim" # the benchmarks read sim/testdata
for i in $(seq "$rounds"); do
	bench old "$out/old.test"
	bench float64 "$out/new.test" -numerics=float64
	bench float32 "$out/new.test" -numerics=float32
	echo "round $i of $rounds done" >&2
done

for cpu in cpu1 cpu2; do
	for f in old float64 float32; do
		# Drop the -N GOMAXPROCS suffix, so that benchstat pairs the names.
		sed -E 's/-[0-9]+ / /' "$out/$f.$cpu.txt" >"$out/$f.$cpu.names.txt"
	done
	(cd "$out" && go run golang.org/x/perf/cmd/benchstat@latest -filter '.unit:/cpu-s/' \
		old.$cpu.names.txt float64.$cpu.names.txt float32.$cpu.names.txt)
done
echo "raw results in $out" >&2
