package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// recordTicks writes n ticks of a market of the given seed as `monkonomy export` does.
func recordTicks(t *testing.T, seed uint64, n int) string {
	t.Helper()
	m := rules.NewMarket(rules.Config{Seed: seed})
	if err := m.SetPhase(rules.PhaseOpen); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	start := time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	for i := range n {
		m.SetTime(int64(i) * 1000)
		line, err := json.Marshal(protocol.TickFromRules(m.Tick(), start.Add(time.Duration(i)*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "ticks.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBacktestCommandIsByteForByteDeterministic(t *testing.T) {
	ticks := recordTicks(t, 11, 150)
	dir := t.TempDir()
	script := filepath.Join(dir, "bot.star")
	if err := os.WriteFile(script, []byte("def on_tick(tick, account, memory):\n    return [buy(1)] if tick.forecast > 1 else [feed(1)]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--strategy", "momentum", "--param", "window=3"},
		{"--script", script},
	} {
		var outs, csvs []string
		for i := range 2 {
			csvFile := filepath.Join(dir, "run"+string(rune('0'+i))+".csv")
			out, err := runMonkonomy(t, append([]string{"backtest", "--ticks", ticks, "--csv", csvFile}, args...)...)
			if err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
			b, err := os.ReadFile(csvFile)
			if err != nil {
				t.Fatal(err)
			}
			outs, csvs = append(outs, out), append(csvs, string(b))
		}
		if outs[0] != outs[1] || csvs[0] != csvs[1] {
			t.Fatalf("%v: two runs differ:\n%s\n%s", args, outs[0], outs[1])
		}
		for _, want := range []string{"Played 150 ticks (1 to 150) as trader backtest", "Account:", "Score:"} {
			if !strings.Contains(outs[0], want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, outs[0])
			}
		}
		if !strings.HasPrefix(csvs[0], "tick,price,forecast,") || strings.Count(csvs[0], "\n") != 151 {
			t.Errorf("%v: CSV is not a header and 150 lines:\n%s", args, csvs[0])
		}
	}
}

func TestStrategyChoiceErrorsAreClear(t *testing.T) {
	ticks := recordTicks(t, 1, 3)
	bad := filepath.Join(t.TempDir(), "bad.star")
	if err := os.WriteFile(bad, []byte("def on_tick(tick, account, memory):\n    return [buy(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"backtest", "--ticks", ticks}, "choose a strategy: --strategy NAME"},
		{[]string{"backtest", "--ticks", ticks, "--strategy", "classic", "--script", bad}, "either --strategy or --script"},
		{[]string{"backtest", "--ticks", ticks, "--strategy", "classic", "--param", "qty=lots"}, `parameter qty="lots": want a whole number`},
		{[]string{"backtest", "--ticks", ticks, "--script", bad}, "bad.star:3:1:"},
		{[]string{"backtest", "--strategy", "classic"}, "--ticks FILE is required"},
		{[]string{"trader", "--strategy", "classic", "--market", "default/arena"}, "set MONKONOMY_TRADER"},
		{[]string{"trader", "--strategy", "feeder", "--param", "reserve=2", "--market", "x", "--trader", "y"}, `unknown parameter "reserve"`},
	}
	t.Setenv("MONKONOMY_TRADER", "")
	t.Setenv("MONKONOMY_MARKET", "")
	for _, c := range cases {
		if _, err := runMonkonomy(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("monkonomy %s: error %v, want %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}
