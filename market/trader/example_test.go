package trader_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader"
)

// forecastTrader is the trader of docs/writing-a-trader.md: it buys a share when the
// forecast says the price should rise and sells one otherwise, prints each result, and
// stops after the given number of results.
func forecastTrader(ctx context.Context, out io.Writer, results int) error {
	c, err := trader.Connect(ctx, trader.FromEnv())
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	return c.Listen(ctx, trader.Handlers{
		OnTick: func(t protocol.Tick) {
			if t.Forecast > rules.MicrosPerCoin { // F > 1: the price should rise
				c.Buy(ctx, 1)
			} else {
				c.Sell(ctx, 1)
			}
		},
		OnResult: func(r protocol.Result) {
			fmt.Fprintln(out, r.Kind, r.Status, "coins", r.Account.Coins)
			if results--; results == 0 {
				stop()
			}
		},
	})
}

// A trader in a dozen lines: connect from the environment that the operator gives a
// trader's pod, and trade on each tick.
func Example() {
	err := forecastTrader(context.Background(), os.Stdout, 10)
	if err != nil && err != context.Canceled {
		log.Fatal(err)
	}
}

func TestDocGoExampleTradesAgainstTheEngine(t *testing.T) {
	m := startMarket(t, 25*time.Millisecond)
	m.Register(t, "ana")
	t.Setenv("MONKONOMY_REDIS_ADDR", m.Server.Addr)
	t.Setenv("MONKONOMY_MARKET", m.Market.String())
	t.Setenv("MONKONOMY_TRADER", "ana")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out strings.Builder
	if err := forecastTrader(ctx, &out, 6); err != context.Canceled {
		t.Fatalf("the example ended with %v, want it to stop itself after 6 results; it printed:\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("printed %d lines, want 6:\n%s", len(lines), out.String())
	}
	accepted := 0
	for _, l := range lines {
		if !strings.HasPrefix(l, "buy ") && !strings.HasPrefix(l, "sell ") {
			t.Errorf("unexpected result line %q", l)
		}
		if strings.Contains(l, " accepted ") {
			accepted++
		}
	}
	if accepted == 0 {
		t.Fatalf("no order was accepted:\n%s", out.String())
	}
}

func TestDocShowsTheGoExampleVerbatim(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_test.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var code string
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "forecastTrader" {
			code = string(src[fset.Position(fn.Pos()).Offset:fset.Position(fn.End()).Offset])
		}
	}
	doc, err := os.ReadFile("../../docs/writing-a-trader.md")
	if err != nil {
		t.Fatal(err)
	}
	if code == "" || !strings.Contains(string(doc), "```go\n"+code+"\n```") {
		t.Fatalf("docs/writing-a-trader.md does not show forecastTrader of example_test.go as it is:\n%s", code)
	}
}
