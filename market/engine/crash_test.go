package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/rules"
)

// buildMonkonomy builds the monkonomy binary into the test's temporary folder.
func buildMonkonomy(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "monkonomy")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/monkonomy/monkonomy/cmd/monkonomy").CombinedOutput()
	if err != nil {
		t.Fatalf("build monkonomy: %v\n%s", err, out)
	}
	return bin
}

func TestKilledEngineLosesAndRepeatsNoOrder(t *testing.T) {
	bin := buildMonkonomy(t)
	srv, rdb := newRedis(t)
	const traders, orders = 20, 120
	names := make([]string, traders)
	for i := range names {
		names[i] = fmt.Sprintf("t%02d", i)
	}
	register(t, rdb, names...)
	cfg := filepath.Join(t.TempDir(), "market.yaml")
	if err := os.WriteFile(cfg, []byte("tickInterval: 20ms\nprice: {drift: \"0.000000001\", volatility: \"0.000000001\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "engine.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "engine", "--redis", srv.URL(), "--market", testMarket.String(), "--config", cfg,
			"--http", "127.0.0.1:0", "--lease-ttl", "400ms")
		cmd.Stdout, cmd.Stderr = logs, logs
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	engine := start()
	defer func() { _ = engine.Process.Kill(); _ = engine.Wait() }()

	// Every trader sends its orders in small bursts while the engine is killed and restarted.
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Go(func() {
			ctx := context.Background()
			kinds := []rules.Order{{Kind: rules.KindBuy, Qty: 1}, {Kind: rules.KindSell, Qty: 1}, {Kind: rules.KindFeed, Qty: 1},
				{Kind: rules.KindInvest, Coins: 100_000}, {Kind: rules.KindGibb, Text: "banana up"}}
			for i := 0; i < orders; i += 6 {
				p := rdb.Pipeline()
				for j := i; j < min(i+6, orders); j++ {
					o := kinds[j%len(kinds)]
					o.ID = fmt.Sprintf("%s-%d", name, j)
					p.XAdd(ctx, redisXAdd{name, o}.args())
				}
				if _, err := p.Exec(ctx); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(150 * time.Millisecond)
			}
		})
	}
	// leads waits until the n-th engine took the lease: the lease's fence counts them.
	leads := func(n int64) {
		testutil.Eventually(t, 10*time.Second, fmt.Sprintf("engine %d to take the lease", n), func() bool {
			f, _ := rdb.HGet(context.Background(), testMarket.Keys().State(), "fence").Int64()
			return f >= n
		})
	}
	for i := range 4 {
		leads(int64(i + 1))
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		_ = engine.Process.Signal(syscall.SIGKILL)
		_ = engine.Wait()
		engine = start()
	}
	leads(5)
	wg.Wait()

	for _, name := range names {
		var res []string
		testutil.Eventually(t, 10*time.Second, "every result of "+name, func() bool {
			res = res[:0]
			for _, r := range results(t, rdb, name) {
				if r.Kind != rules.KindHarvest {
					res = append(res, r.ID)
				}
			}
			return len(res) >= orders
		})
		seen := map[string]int{}
		for _, id := range res {
			seen[id]++
		}
		for j := range orders {
			if id := fmt.Sprintf("%s-%d", name, j); seen[id] != 1 {
				t.Errorf("order %s has %d results, want exactly 1", id, seen[id])
			}
		}
		if len(res) != orders {
			t.Errorf("trader %s has %d results for %d orders", name, len(res), orders)
		}
	}
	_ = engine.Process.Signal(syscall.SIGTERM)
	_ = engine.Wait()
	out, err := exec.Command(bin, "audit", "--redis", srv.URL(), "--market", testMarket.String()).CombinedOutput()
	if err != nil {
		t.Errorf("monkonomy audit: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(logs.Name())
	if n := strings.Count(string(b), "Took the market's lease"); n != 5 {
		t.Errorf("the engine took the lease %d times, want 5 (a start and 4 restarts)", n)
	}
	if t.Failed() {
		t.Logf("engine logs:\n%s", b)
	}
}
