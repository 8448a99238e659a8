package arena

import (
	"context"
	"errors"

	"github.com/monkonomy/monkonomy/market/trader"
)

// play runs one of the arena's own traders (a built-in bot or a script) until ctx ends,
// with the same runtime as `monkonomy trader`.
func (a *Arena) play(ctx context.Context, e entrant) {
	log := a.opts.Log
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
	if err := trader.Run(ctx, c, e.Strategy, log); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("The trader stopped", "err", err)
	}
}
