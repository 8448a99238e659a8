package testutil

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCountsFieldsAfterTheCommandName(t *testing.T) {
	// A command name with a space and a parenthesis, 250 + 37 ticks of CPU.
	line := []byte("4242 (kube (api) server) S 17 4242 4242 0 -1 4194560 1234 0 0 0 250 37 0 0 20 0 12 0 99 1000 200\n")
	p, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Proc{Comm: "kube (api) server", PPID: 17, CPU: 2870 * time.Millisecond}); p != want {
		t.Errorf("parseStat = %+v, want %+v", p, want)
	}
	if _, err := parseStat([]byte("4242 (short) S 17 1")); err == nil {
		t.Error("parseStat of a line with too few fields gave no error")
	}
}

func TestParseStatusReadsMiB(t *testing.T) {
	status := []byte("Name:\tetcd\nVmPeak:\t  999 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n")
	for field, want := range map[string]float64{"VmHWM": 20, "VmRSS": 10} {
		if got, err := parseStatus(status, field); err != nil || got != want {
			t.Errorf("parseStatus(%s) = %v, %v; want %v", field, got, err, want)
		}
	}
	if _, err := parseStatus(status, "VmSwap"); err == nil {
		t.Error("parseStatus of a missing field gave no error")
	}
}

func TestProcOfThisProcess(t *testing.T) {
	p, err := ProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.PPID != os.Getppid() {
		t.Errorf("ProcStat of this process: parent %d, want %d", p.PPID, os.Getppid())
	}
	if rss, err := ProcMemory(os.Getpid(), "VmRSS"); err != nil || rss <= 0 {
		t.Errorf("ProcMemory(VmRSS) of this process = %v, %v; want more than 0 MiB", rss, err)
	}
}
