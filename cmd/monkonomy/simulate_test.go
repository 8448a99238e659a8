package main

import (
	"bytes"
	"strings"
	"testing"
)

// run executes the monkonomy command line with args and returns what it printed.
func runMonkonomy(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestSimulatePrintsTheSameRankingForTheSameSeed(t *testing.T) {
	a, err := runMonkonomy(t, "simulate", "--ticks", "120", "--seed", "4")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := runMonkonomy(t, "simulate", "--ticks", "120", "--seed", "4")
	if a != b {
		t.Fatalf("two simulations with seed 4 differ:\n%s\n%s", a, b)
	}
	for _, want := range []string{
		"Simulated 120 ticks of the banana market (seed 4) with 5 bots.",
		"RANK  TRADER          STRATEGY        SCORE  FED",
		"\n   1  ", "\n   5  ", "classic", "feeder", "random",
	} {
		if !strings.Contains(a, want) {
			t.Errorf("output lacks %q:\n%s", want, a)
		}
	}
}

func TestSimulateRefusesBadFlags(t *testing.T) {
	if _, err := runMonkonomy(t, "simulate", "--bots", "classic,oracle"); err == nil || !strings.Contains(err.Error(), `unknown strategy "oracle"`) {
		t.Errorf("unknown bot: %v", err)
	}
	if _, err := runMonkonomy(t, "simulate", "--ticks", "0"); err == nil || !strings.Contains(err.Error(), "at least 1 tick") {
		t.Errorf("zero ticks: %v", err)
	}
}
