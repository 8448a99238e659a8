package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/monkonomy/monkonomy/market/trader/backtest"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

func newSimulateCmd() *cobra.Command {
	var opts backtest.SimOptions
	var bots string
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Play the built-in bots against each other on this machine, without Redis",
		Long: `Simulate plays the built-in bots on the banana market's rules alone, in this process,
with a crowd posting a few gibbs, and prints the final ranking. The same seed gives the
same game, byte for byte.

Built-in bots: ` + strings.Join(strategy.Names(), ", ") + `.`,
		Example: `  monkonomy simulate
  monkonomy simulate --ticks 600 --seed 7 --bots classic,feeder,feeder,random`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if bots != "" {
				for _, b := range strings.Split(bots, ",") {
					if b = strings.TrimSpace(b); b != "" {
						opts.Bots = append(opts.Bots, b)
					}
				}
			}
			if opts.Ticks < 1 {
				return fmt.Errorf("--ticks %d: a simulation needs at least 1 tick", opts.Ticks)
			}
			res, err := backtest.Simulate(opts)
			if err != nil {
				return err
			}
			return res.Write(cmd.OutOrStdout())
		},
	}
	cmd.Flags().IntVar(&opts.Ticks, "ticks", 300, "number of ticks to play")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 1, "seed of the price path, the crowd's gibbs and the random bots")
	cmd.Flags().StringVar(&bots, "bots", strings.Join(strategy.Names(), ","), "comma-separated built-in strategies; repeat a name for several bots")
	return cmd
}
