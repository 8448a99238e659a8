package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/monkonomy/monkonomy/cmd/monkonomy/internal/kubeplugin"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

func newJoinCmd() *cobra.Command {
	var (
		j          kubeplugin.Join
		scriptFile string
		params     []string
	)
	cmd := &cobra.Command{
		Use:   "join --team NAME --market NAME (--strategy NAME | --script FILE | --image REF)",
		Short: "Print a Trader manifest for a team, ready to edit and apply (kubectl plugin)",
		Long: `Print a Trader manifest for a team: a built-in strategy to start with, a Starlark script
of your own, or your own container image. Edit it, then apply it with kubectl apply -f.
A script is checked before it is printed, so that a typo shows here rather than in the
trader's pod.`,
		Example: `  kubectl monkonomy join --team "The Monkeys" --market bananas --strategy momentum > trader.yaml
  kubectl monkonomy join --team "Script Kiddies" --market bananas --script bot.star | kubectl apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if j.Strategy != "" {
				p, err := strategy.ParseParams(params)
				if err != nil {
					return err
				}
				if _, err := strategy.New(j.Strategy, p); err != nil {
					return err
				}
				j.Params = p
			} else if len(params) > 0 {
				return fmt.Errorf("--param sets a built-in strategy's parameters; it needs --strategy")
			}
			if scriptFile != "" {
				src, err := os.ReadFile(scriptFile)
				if err != nil {
					return fmt.Errorf("read --script: %w", err)
				}
				if _, err := strategy.LoadScript(scriptFile, src, strategy.ScriptOptions{}); err != nil {
					return err
				}
				j.Script = string(src)
			}
			manifest, err := j.Manifest()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), manifest)
			return err
		},
	}
	cmd.Flags().StringVar(&j.Team, "team", "", "your team's name on the leaderboard")
	cmd.Flags().StringVar(&j.Market, "market", "", "name of the Market to play in")
	cmd.Flags().StringVar(&j.Name, "name", "", "name of the Trader (default: made from the team's name)")
	cmd.Flags().StringVarP(&j.Namespace, "namespace", "n", "", "namespace to write into the manifest (default: none, kubectl's applies)")
	cmd.Flags().StringVar(&j.Strategy, "strategy", "", "a built-in strategy: "+strings.Join(strategy.Names(), ", "))
	cmd.Flags().StringArrayVar(&params, "param", nil, "parameter of the built-in strategy as name=value (repeatable)")
	cmd.Flags().StringVar(&scriptFile, "script", "", "a Starlark script file")
	cmd.Flags().StringVar(&j.Image, "image", "", "your own container image, e.g. ghcr.io/team/bot:1.0")
	return cmd
}
