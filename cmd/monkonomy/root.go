package main

import (
	"github.com/spf13/cobra"
)

// subcommands lists every subcommand; each lives in its own file.
var subcommands = []func() *cobra.Command{
	newVersionCmd,
	newManagerCmd,
	newEngineCmd, newAuditCmd, newExportCmd,
	newArenaCmd,
	newSimulateCmd,
	newBacktestCmd,
	newTraderCmd,
	newLeaderboardCmd, newGibbCmd, newJoinCmd,
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "monkonomy",
		Short: "Run a live trading tournament on the banana market",
		Long: `Monkonomy runs a live trading tournament for a room full of developers: teams write
bots that trade banana shares, feed monkeys and post gibbs; the leaderboard is live.

Start with 'monkonomy arena' to play the whole game on this machine.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, sub := range subcommands {
		root.AddCommand(sub())
	}
	return root
}
