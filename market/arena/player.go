package arena

import "context"

// play runs one trader of the arena until ctx ends.
func (a *Arena) play(ctx context.Context, e entrant) {
	<-ctx.Done()
}
