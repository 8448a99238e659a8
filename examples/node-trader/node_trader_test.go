// Package nodetrader tests the Node.js trader of this folder against a real engine.
package nodetrader

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/market/trader/tradertest"
)

const installHint = "Node.js 18.19 or later and npm are needed by this test: run `make setup` or `apt-get install -y nodejs npm`"

// install copies the trader into a temporary folder and installs its locked dependencies
// there, so the source folder keeps no node_modules.
func install(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatal(installHint)
		}
	}
	out, err := exec.Command("node", "-e", "const [a, b] = process.versions.node.split('.').map(Number); process.exit(a > 18 || (a === 18 && b >= 19) ? 0 : 1)").CombinedOutput()
	if err != nil {
		t.Fatalf("%s (node says: %v %s)", installHint, err, out)
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "trader.js"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci failed (is the npm registry reachable?): %v\n%s", err, out)
	}
	return dir
}

func TestNodeTraderPlaysTicksAndGetsAcceptedResults(t *testing.T) {
	dir := install(t)
	m := tradertest.Start(t, 50*time.Millisecond)
	m.Register(t, "node")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "trader.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"MONKONOMY_REDIS_ADDR="+m.Server.Addr,
		"MONKONOMY_MARKET="+m.Market.String(),
		"MONKONOMY_TRADER=node",
		"MONKONOMY_KEY_PREFIX="+m.Keys.Prefix,
		"MONKONOMY_MAX_TICKS=10",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node trader: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !regexp.MustCompile(`done: 10 ticks, \d+ orders, \d+ results`).MatchString(out) {
		t.Fatalf("the trader did not finish its 10 ticks:\n%s", out)
	}
	var lastFed int64 = -1
	for _, line := range strings.Split(out, "\n") {
		if m := regexp.MustCompile(`^feed accepted .* fed=(\d+)`).FindStringSubmatch(line); m != nil {
			lastFed, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	if lastFed < 4 {
		t.Fatalf("the trader fed %d monkeys by accepted orders, want at least its 4 spare shares:\n%s", lastFed, out)
	}
	acct, _ := m.Account(t, "node")
	if acct.Fed != lastFed {
		t.Fatalf("the engine counts %d monkeys fed, the trader's last result said %d", acct.Fed, lastFed)
	}
}
