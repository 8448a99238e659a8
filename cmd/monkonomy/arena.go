package main

import (
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/monkonomy/monkonomy/market/arena"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

func newArenaCmd() *cobra.Command {
	var (
		o        arena.Options
		seed     uint64
		port     int
		noBots   bool
		verbose  bool
		redisURL string
	)
	cmd := &cobra.Command{
		Use:   "arena",
		Short: "Play the whole game on this machine: market, bots, your traders and the dashboard",
		Long: `Arena runs a market on this machine with an embedded Redis-protocol server (or a real
Redis with --redis), one built-in bot per strategy, your Starlark scripts and built-ins, and
the live dashboard on http://127.0.0.1:8080. The leaderboard is shown in the terminal.

Programs of your own, in any language, join with --join NAME: the arena registers the trader
and prints the environment and the streams the program uses.

Ctrl-C (or the end of --duration) closes the market and prints the final ranking.`,
		Example: `  monkonomy arena
  monkonomy arena --script mybot.star --builtin momentum:window=10 --duration 10m
  monkonomy arena --join my-team --no-bots --tick 500ms`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("seed") {
				o.Seed = &seed
			}
			if noBots {
				o.Bots = 0
			}
			o.RedisURL = redisURL
			o.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			out := cmd.OutOrStdout()
			o.Out = out
			if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				o.Terminal = true
				if w, _, err := term.GetSize(int(f.Fd())); err == nil {
					o.Width = w
				}
			}
			level := slog.LevelError
			if verbose {
				level = slog.LevelInfo
			}
			o.Log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			return arena.Run(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.Scripts, "script", nil, "a Starlark script to play as a trader named after the file (repeatable)")
	f.StringArrayVar(&o.Builtins, "builtin", nil, "a built-in bot NAME[:k=v,k=v] (repeatable); NAME is one of "+strings.Join(strategy.Names(), ", "))
	f.StringArrayVar(&o.Joins, "join", nil, "register trader NAME for your own program and print how it connects (repeatable)")
	f.StringVar(&redisURL, "redis", "", "play on this Redis (redis://[user:password@]host:port) instead of the embedded server")
	f.Uint64Var(&seed, "seed", 0, "seed of the price path (default: derived from the market's name)")
	f.DurationVar(&o.Tick, "tick", arena.DefaultTick, "time between two ticks")
	f.DurationVar(&o.Duration, "duration", 0, "close the market after this much market time, e.g. 10m (default: until Ctrl-C)")
	f.IntVar(&port, "port", 8080, "port of the dashboard on 127.0.0.1 (0: any free port)")
	f.IntVar(&o.Bots, "bots", len(strategy.Names()), "number of built-in bots, one per built-in strategy in turn")
	f.BoolVar(&noBots, "no-bots", false, "play without built-in bots")
	f.Int64Var(&o.BoardEvery, "board-every", 10, "when the output is not a terminal, print the leaderboard every N ticks")
	f.BoolVar(&verbose, "verbose", false, "log what the engine and the traders do (to stderr)")
	cmd.MarkFlagsMutuallyExclusive("bots", "no-bots")
	return cmd
}
