package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

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

// load builds the chosen strategy; log receives a script's errors and prints.
func (f *strategyFlags) load(bailoutPenalty int64, log func(string)) (strategy.Strategy, error) {
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
		return strategy.LoadScript(f.script, src, strategy.ScriptOptions{Log: log, BailoutPenalty: bailoutPenalty})
	case f.name != "":
		p, err := strategy.ParseParams(f.params)
		if err != nil {
			return nil, err
		}
		return strategy.New(f.name, p)
	}
	return nil, fmt.Errorf("choose a strategy: --strategy NAME (one of %s) or --script FILE", strings.Join(strategy.Names(), ", "))
}
