package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Proc is what /proc/<pid>/stat tells of a process.
type Proc struct {
	Comm string        // its command name
	PPID int           // its parent's pid
	CPU  time.Duration // user and system time used so far
}

// ProcStat reads /proc/<pid>/stat.
func ProcStat(pid int) (Proc, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Proc{}, err
	}
	return parseStat(b)
}

// parseStat reads "pid (comm) state ppid ... utime stime ...": the command name may hold
// spaces and parentheses, so fields are counted from its last closing parenthesis. Linux
// counts CPU time in clock ticks of 1/100 s (USER_HZ).
func parseStat(b []byte) (Proc, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Proc{}, fmt.Errorf("read /proc stat %q: no command name", b)
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 {
		return Proc{}, fmt.Errorf("read /proc stat %q: %d fields after the command name, want 13 or more", b, len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	utime, err2 := strconv.ParseInt(f[11], 10, 64)
	stime, err3 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Proc{}, fmt.Errorf("read /proc stat %q: %w", b, err)
	}
	return Proc{Comm: string(b[open+1 : end]), PPID: ppid, CPU: time.Duration(utime+stime) * 10 * time.Millisecond}, nil
}

// ProcMemory reads a memory figure of a process (VmRSS, VmHWM for its peak, ...) from
// /proc/<pid>/status, in MiB.
func ProcMemory(pid int, field string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatus(b, field)
}

// parseStatus finds "field:   12345 kB" in the text of /proc/<pid>/status.
func parseStatus(b []byte, field string) (float64, error) {
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("read %s of /proc status: %w", field, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}
