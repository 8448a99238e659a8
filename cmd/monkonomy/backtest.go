package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader/backtest"
)

func newBacktestCmd() *cobra.Command {
	var (
		pick                          strategyFlags
		ticksFile, gibbsFile, csvFile string
		configFile, market, trader    string
	)
	cmd := &cobra.Command{
		Use:   "backtest (--strategy NAME [--param k=v]... | --script FILE) --ticks FILE",
		Short: "Play a strategy against a recorded game",
		Long: `Backtest plays a strategy against the ticks of a recorded game (ticks.jsonl, as
'monkonomy export' writes it) with the market's rules: every order gets the result it
would have got live at the recorded price — bailouts, rate limits, plantations and
harvests included. Only the other players are missing: the recorded prices do not react
to the strategy. The same files give the same output, byte for byte.`,
		Example: `  monkonomy backtest --strategy momentum --param window=10 --ticks ticks.jsonl
  monkonomy backtest --script bot.star --ticks ticks.jsonl --gibbs gibbs.jsonl --csv run.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ticksFile == "" {
				return errors.New("--ticks FILE is required: the ticks.jsonl written by 'monkonomy export'")
			}
			log := func(msg string) { fmt.Fprintln(cmd.ErrOrStderr(), msg) }
			cfg, err := backtestConfig(configFile, market)
			if err != nil {
				return err
			}
			strat, err := pick.load(log)
			if err != nil {
				return err
			}
			opts := backtest.Options{Trader: trader, Strategy: strat, Config: cfg}
			if opts.Ticks, err = readRecording(ticksFile, backtest.ReadTicks); err != nil {
				return err
			}
			if gibbsFile != "" {
				if opts.Gibbs, err = readRecording(gibbsFile, backtest.ReadGibbs); err != nil {
					return err
				}
			}
			var csv *os.File
			if csvFile != "" {
				if csv, err = os.Create(csvFile); err != nil {
					return fmt.Errorf("create the CSV file: %w", err)
				}
				defer csv.Close() // on the error paths; the Close below reports a failed write
				opts.CSV = csv
			}
			rep, err := backtest.Run(opts)
			if err != nil {
				return err
			}
			if csv != nil {
				if err := csv.Close(); err != nil {
					return fmt.Errorf("write the CSV file: %w", err)
				}
			}
			return rep.Write(cmd.OutOrStdout())
		},
	}
	pick.register(cmd)
	cmd.Flags().StringVar(&ticksFile, "ticks", "", "recorded ticks (ticks.jsonl of 'monkonomy export')")
	cmd.Flags().StringVar(&gibbsFile, "gibbs", "", "recorded gibbs (gibbs.jsonl of 'monkonomy export'), shown to the strategy")
	cmd.Flags().StringVar(&csvFile, "csv", "", "write one CSV line per tick (price and account) to this file")
	cmd.Flags().StringVar(&configFile, "config", "", "the recorded market's settings file, when it did not play the default rules")
	cmd.Flags().StringVar(&market, "market", "default/backtest", "the recorded market (NS/NAME): without a seed in --config, its seed derives from the name")
	cmd.Flags().StringVar(&trader, "trader", "backtest", "the trader name to play as (the returns of plantations depend on it)")
	return cmd
}

func backtestConfig(file, market string) (rules.Config, error) {
	mk, err := protocol.ParseMarket(market)
	if err != nil {
		return rules.Config{}, fmt.Errorf("--market: %w", err)
	}
	var s protocol.Settings
	if file != "" {
		if s, err = protocol.LoadSettings(file); err != nil {
			return rules.Config{}, err
		}
	}
	return s.RulesConfig(mk)
}

func readRecording[T any](path string, read func(r io.Reader, name string) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the recording: %w", err)
	}
	defer f.Close()
	return read(f, path)
}
