package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/monkonomy/monkonomy/market/trader"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// strategyFlags choose a strategy: a built-in with parameters, or a Starlark script.
type strategyFlags struct {
	name   string
	params []string
	script string
}

func (f *strategyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.name, "strategy", "", "built-in strategy: "+strings.Join(strategy.Names(), ", "))
	cmd.Flags().StringArrayVar(&f.params, "param", nil, "parameter of the built-in strategy as name=value (repeatable)")
	cmd.Flags().StringVar(&f.script, "script", "", "Starlark script defining on_tick(tick, account, memory)")
}

// load builds the chosen strategy; log receives a script's errors and prints. The runtimes
// show a script the market's score, so it needs no bailout penalty of its own.
func (f *strategyFlags) load(log func(string)) (strategy.Strategy, error) {
	switch {
	case f.name != "" && f.script != "":
		return nil, errors.New("choose either --strategy or --script, not both")
	case f.script != "":
		if len(f.params) > 0 {
			return nil, errors.New("--param sets a built-in strategy's parameters; a script keeps its settings in its own code")
		}
		src, err := os.ReadFile(f.script)
		if err != nil {
			return nil, fmt.Errorf("read the script: %w", err)
		}
		return strategy.LoadScript(f.script, src, strategy.ScriptOptions{Log: log})
	case f.name != "":
		p, err := strategy.ParseParams(f.params)
		if err != nil {
			return nil, err
		}
		return strategy.New(f.name, p)
	}
	return nil, fmt.Errorf("choose a strategy: --strategy NAME (one of %s) or --script FILE", strings.Join(strategy.Names(), ", "))
}

func newTraderCmd() *cobra.Command {
	var (
		pick    strategyFlags
		opts    trader.Options
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "trader (--strategy NAME [--param k=v]... | --script FILE)",
		Short: "Play a built-in strategy or a Starlark script live in a market",
		Long: `Trader plays a strategy live: a built-in one with its parameters, or a Starlark
script. It connects from the environment that the operator sets in a trader's pod
(MONKONOMY_REDIS_ADDR, MONKONOMY_REDIS_USERNAME, MONKONOMY_REDIS_PASSWORD,
MONKONOMY_MARKET, MONKONOMY_TRADER, MONKONOMY_KEY_PREFIX); flags override it. It prints
a line for every notable event: rejected orders, harvests, bailouts, script errors,
phase changes, and the standing every minute or so.

Built-in strategies: ` + strings.Join(strategy.Names(), ", ") + `; see docs/writing-a-trader.md
for their parameters and the script API.`,
		Example: `  monkonomy trader --redis redis://127.0.0.1:6379 --market default/arena --trader ana --strategy momentum --param window=10
  MONKONOMY_MARKET=default/arena MONKONOMY_TRADER=bob monkonomy trader --script bot.star`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env := trader.FromEnv()
			opts.Username, opts.Password = env.Username, env.Password
			if opts.Addr == "" {
				opts.Addr = env.Addr
			}
			if opts.Market == "" {
				opts.Market = env.Market
			}
			if opts.Trader == "" {
				opts.Trader = env.Trader
			}
			if opts.KeyPrefix == "" {
				opts.KeyPrefix = env.KeyPrefix
			}
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(cmd.OutOrStdout(), &slog.HandlerOptions{Level: level}))
			opts.Log = log
			strat, err := pick.load(func(msg string) { log.Warn("Script: " + msg) })
			if err != nil {
				return err
			}
			c, err := trader.Connect(cmd.Context(), opts)
			if err != nil {
				return err
			}
			defer c.Close()
			err = trader.Run(cmd.Context(), c, strat, log)
			if errors.Is(err, context.Canceled) {
				log.Info("Stopped trading")
				return nil
			}
			return err
		},
	}
	pick.register(cmd)
	cmd.Flags().StringVar(&opts.Addr, "redis", "", "Redis address (host:port or redis://[user:password@]host:port); default $MONKONOMY_REDIS_ADDR")
	cmd.Flags().StringVar(&opts.Market, "market", "", "market as NAMESPACE/NAME; default $MONKONOMY_MARKET")
	cmd.Flags().StringVar(&opts.Trader, "trader", "", "this trader's name, as registered with the market; default $MONKONOMY_TRADER")
	cmd.Flags().StringVar(&opts.KeyPrefix, "key-prefix", "", "the market's Redis key prefix, when it is not the market's own; default $MONKONOMY_KEY_PREFIX")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print every order sent and accepted")
	return cmd
}
