package worker

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// MemoryLimitError refuses a task whose memory estimate
// (sim.Config.MemoryEstimate) exceeds the worker's MaxTaskMemory. It is
// deterministic: the task fails at once instead of being handed from
// worker to worker.
type MemoryLimitError struct {
	// Estimate and Limit are in bytes.
	Estimate, Limit int64
}

func (e *MemoryLimitError) Error() string {
	return fmt.Sprintf("task needs an estimated %s of memory, more than this worker's --max-task-memory %s",
		FormatBytes(e.Estimate), FormatBytes(e.Limit))
}

// FormatBytes writes n bytes in binary units: "512 B", "1.5 GiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + string("KMGTPE"[i]) + "iB"
}

// MachineMemory returns the memory this process may use, in bytes: the
// smaller of /proc/meminfo's MemTotal and the cgroup's memory limit (v2
// memory.max or v1 memory.limit_in_bytes), 0 if neither can be read (not
// Linux).
func MachineMemory() int64 {
	var total int64
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					total = kb * 1024
				}
			}
		}
	}
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		limit, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64) // "max": no limit
		if err == nil && limit > 0 && (total == 0 || limit < total) {
			total = limit
		}
	}
	return total
}

// DefaultMaxTaskMemory is half of MachineMemory, 0 (no limit) if that is
// unknown: one task may take half the machine, the rest is for the other
// slots, the worker and the garbage collector's headroom.
func DefaultMaxTaskMemory() int64 { return MachineMemory() / 2 }
