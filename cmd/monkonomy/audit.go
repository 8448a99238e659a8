package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/monkonomy/monkonomy/market/engine"
)

func newAuditCmd() *cobra.Command {
	var mf marketFlags
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Replay a market's journal through the rules and compare it with the stored accounts",
		Long: `Replay a market's journal through the rules and compare the accounts it ends with to the
accounts the engine stored. Every trader whose account differs is named, and the command
exits with an error. Run it while the market is closed or its engine stopped.`,
		Example: `  monkonomy audit --redis redis://127.0.0.1:6379 --market default/demo`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rdb, market, err := mf.open(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer rdb.Close()
			rep, err := engine.Audit(cmd.Context(), rdb, market)
			if err != nil {
				return fmt.Errorf("audit market %s: %w", market, err)
			}
			out := cmd.OutOrStdout()
			for _, d := range rep.Differences {
				fmt.Fprintln(out, "DIFFERS", d)
			}
			fmt.Fprintf(out, "replayed %d events in %d batches; %d traders; %d differences\n",
				rep.Events, rep.Batches, rep.Traders, len(rep.Differences))
			if len(rep.Differences) > 0 {
				return fmt.Errorf("market %s: the journal does not replay to the stored accounts (%d differences)", market, len(rep.Differences))
			}
			return nil
		},
	}
	mf.add(cmd)
	return cmd
}
