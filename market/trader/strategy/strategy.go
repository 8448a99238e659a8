// Package strategy holds the trading strategies that the trader runtime, the simulator, the
// backtester and the arena play: pure decisions with no I/O, so that the same strategy
// gives the same orders live, in a simulation and against recorded ticks.
//
// A Strategy sees every tick and the trader's latest known account and answers with
// Actions; it may also want the market's score of that account (ScoredTicker), see the
// results of its orders (ResultHandler) and the public feed of gibbs (GibbHandler).
// Built-in strategies are found by name in the registry (New, Names, Lookup); Starlark
// scripts are loaded with LoadScript.
//
// A Strategy value keeps its own memory between calls and is used from one goroutine.
package strategy

import (
	"fmt"

	"github.com/monkonomy/monkonomy/market/rules"
)

// Strategy decides what to do at each tick.
type Strategy interface {
	// OnTick is called once per published tick with the trader's latest known account.
	OnTick(t rules.Tick, acct rules.Account) []Action
}

// ScoredTicker is implemented by a strategy that wants, with each tick, the trader's score
// as the market computed it (a script shows it as account.score). The runtimes call
// OnScoredTick instead of OnTick for such a strategy; see Tick.
type ScoredTicker interface {
	OnScoredTick(t rules.Tick, acct rules.Account, score int64) []Action
}

// Tick shows t to s with the trader's account and its score as the market computed it:
// through OnScoredTick when s is a ScoredTicker, through OnTick otherwise.
func Tick(s Strategy, t rules.Tick, acct rules.Account, score int64) []Action {
	if st, ok := s.(ScoredTicker); ok {
		return st.OnScoredTick(t, acct, score)
	}
	return s.OnTick(t, acct)
}

// ResultHandler is implemented by a strategy that wants the result of each of its orders
// (and of each harvest). Actions it returns are sent at once.
type ResultHandler interface {
	OnResult(r rules.Result) []Action
}

// GibbHandler is implemented by a strategy that reads the public feed of gibbs. Actions it
// returns are sent at once.
type GibbHandler interface {
	OnGibb(g rules.GibbEffect) []Action
}

// Action is one order a strategy wants sent: buy, sell or feed Qty shares, invest Coins,
// or post a gibb with Text.
type Action struct {
	Kind  rules.Kind
	Qty   int64
	Coins rules.Micro
	Text  string
}

// Buy asks for n shares at the current price.
func Buy(n int64) Action { return Action{Kind: rules.KindBuy, Qty: n} }

// Sell offers n shares at the current price.
func Sell(n int64) Action { return Action{Kind: rules.KindSell, Qty: n} }

// Feed feeds n monkeys, one share each.
func Feed(n int64) Action { return Action{Kind: rules.KindFeed, Qty: n} }

// Invest plants coins; the harvest pays them back with a return.
func Invest(coins rules.Micro) Action { return Action{Kind: rules.KindInvest, Coins: coins} }

// Gibb posts text to the market's feed.
func Gibb(text string) Action { return Action{Kind: rules.KindGibb, Text: text} }

// Order turns the action into the rules' order of trader with the given id.
func (a Action) Order(trader, id string) rules.Order {
	return rules.Order{Trader: trader, ID: id, Kind: a.Kind, Qty: a.Qty, Coins: a.Coins, Text: a.Text}
}

// String is the action as a person reads it: "buy 2", "invest 9.000000", `gibb "banana up"`.
func (a Action) String() string {
	switch a.Kind {
	case rules.KindBuy, rules.KindSell, rules.KindFeed:
		return fmt.Sprintf("%s %d", a.Kind, a.Qty)
	case rules.KindInvest:
		return "invest " + a.Coins.String()
	case rules.KindGibb:
		return fmt.Sprintf("gibb %q", a.Text)
	}
	return fmt.Sprintf("unknown action %d", a.Kind)
}
