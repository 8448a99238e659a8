package arena

import (
	"context"
	"errors"

	"github.com/monkonomy/monkonomy/market/trader"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// play runs one of the arena's own traders (a built-in bot or a script) until ctx ends,
// with the same runtime as `monkonomy trader`.
func (a *Arena) play(ctx context.Context, e entrant) {
	log := a.opts.Log
	var (
		s   strategy.Strategy
		err error
	)
	if e.Script != "" {
		s, err = strategy.LoadScript(e.Script, e.Source, strategy.ScriptOptions{
			Log: func(msg string) { log.Info("Script says", "msg", msg) },
		})
	} else {
		s, err = strategy.New(e.Builtin, e.Params)
	}
	if err != nil {
		// entrants checked it before the game; a failure here is a bug worth a loud log.
		log.Error("Could not start the trader", "err", err)
		return
	}
	// Each trader reads with blocking calls: its own connections keep it from waiting on
	// another's.
	rdb := a.store.client()
	defer rdb.Close()
	c, err := trader.Connect(ctx, trader.Options{Redis: rdb, Market: a.market.String(), Trader: e.Name, Log: log})
	if err != nil {
		if ctx.Err() == nil {
			log.Error("Could not connect the trader", "err", err)
		}
		return
	}
	defer c.Close()
	if err := trader.Run(ctx, c, s, log); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("The trader stopped", "err", err)
	}
}
