package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/trader/tradertest"
)

func TestTraderCommandPlaysAScriptLiveAndReportsItsErrors(t *testing.T) {
	m := tradertest.Start(t, 25*time.Millisecond)
	m.Register(t, "ana")
	script := filepath.Join(t.TempDir(), "bot.star")
	src := `
def on_tick(tick, account, memory):
    memory["n"] = memory.get("n", 0) + 1
    if memory["n"] == 3:
        fail("bad luck at tick %d" % tick.seq)
    return [sell(9)] if memory["n"] == 2 else [feed(1)]
`
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MONKONOMY_REDIS_ADDR", m.Server.Addr)
	t.Setenv("MONKONOMY_MARKET", m.Market.String())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRootCmd()
	out := &testutil.SyncBuffer{}
	root.SetOut(out)
	root.SetErr(out)
	root.SetArgs([]string{"trader", "--trader", "ana", "--script", script})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	testutil.Eventually(t, 20*time.Second, "four monkeys fed", func() bool {
		a, _ := m.Account(t, "ana")
		return a.Fed >= 4
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("trader ended with %v\n%s", err, out)
	}
	for _, want := range []string{
		`msg="Started trading" market=default/test trader=ana`,
		`msg="Market rejected an order"`, "status=insufficient_shares",
		`bot.star:5:13: in on_tick: fail: bad luck at tick`,
		`msg="Stopped trading"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
