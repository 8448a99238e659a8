package protocol

import (
	"testing"

	"github.com/monkonomy/monkonomy/market/rules"
)

// BenchmarkAppendResult is what the engine spends on every order to queue its result
// entry: its allocations are the garbage collector's work under a flood.
func BenchmarkAppendResult(b *testing.B) {
	r := rules.Result{Trader: "ana", ID: "1764886012345-17", Kind: rules.KindBuy, Status: rules.StatusAccepted,
		Tick: 1234, Price: 101_234_567, Account: rules.Account{Coins: 987_654_321, Shares: 4321, Fed: 1200, Bailouts: 1, InFlight: 2},
		Score: 1100}
	args := make([]any, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		args = AppendResult(args[:0], r, r.ID)
	}
}
