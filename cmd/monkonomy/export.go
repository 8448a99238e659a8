package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/monkonomy/monkonomy/market/engine"
)

func newExportCmd() *cobra.Command {
	var (
		mf  marketFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a market's ticks, gibbs, journal and results as JSON Lines",
		Long: `Write a market's history into a folder as JSON Lines: ticks.jsonl, gibbs.jsonl,
journal.jsonl and results.jsonl, oldest first. 'monkonomy backtest' reads ticks.jsonl and
gibbs.jsonl.`,
		Example: `  monkonomy export --redis redis://127.0.0.1:6379 --market default/demo --out demo-export`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rdb, market, err := mf.open(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer rdb.Close()
			rep, err := engine.Export(cmd.Context(), rdb, market, out)
			if err != nil {
				return fmt.Errorf("export market %s: %w", market, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %d ticks, %d gibbs, %d journal events and %d results to %s\n",
				rep.Ticks, rep.Gibbs, rep.Journal, rep.Results, out)
			return err
		},
	}
	mf.add(cmd)
	cmd.Flags().StringVar(&out, "out", ".", "folder to write the .jsonl files into")
	return cmd
}
