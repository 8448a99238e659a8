package rules

import "fmt"

// BailoutThreshold is the most coins an account may hold and still be bailed out (with
// nothing in flight and no shares).
const BailoutThreshold = 3 * MicrosPerCoin

// Reasons that do not depend on the order are constants, so that refusing an order does not
// allocate.
const (
	reasonUnknownTrader = "unknown trader: only traders registered with the market may trade"
	reasonPending       = "the market is not open yet: wait for it to open"
	reasonClosed        = "the market is closed: no more orders are taken"
	reasonPaused        = "the market is paused: send the order again when it resumes"
	reasonQty           = "quantity must be a whole number of shares from 1 to 1000000"
	reasonInvestAmount  = "an investment must be more than 0 coins"
	reasonUnknownKind   = "unknown order kind: use buy, sell, feed, invest or gibb"
	reasonTooRich       = "the order would leave more than 4611686018427.387904 coins, the most an account can hold"
)

// Apply applies one order of a registered trader and returns its result. It never panics
// and never allocates for buy, sell and feed, except to phrase the reason of an
// insufficient_coins or insufficient_shares result.
//
// Checks run in this order: unknown trader (invalid); market phase (market_closed,
// market_paused); the trader's order allowance (rate_limited; every order past the phase
// check spends one token, even an invalid one); the decoder's reason (invalid); the
// order's fields (invalid); a gibb's limit per tick (rate_limited); then the rules' three steps: the tentative account, the
// bailout, and validation (insufficient_coins, then insufficient_shares).
func (m *Market) Apply(o Order) Result {
	res := Result{Trader: o.Trader, ID: o.ID, Kind: o.Kind, Tick: m.last.Seq, Price: m.last.Price}
	a, ok := m.accounts[o.Trader]
	if !ok {
		res.Status, res.Reason = StatusInvalid, reasonUnknownTrader
		return res
	}
	switch m.phase {
	case PhaseOpen:
	case PhasePaused:
		return m.reject(a, res, StatusMarketPaused, reasonPaused)
	default:
		return m.reject(a, res, StatusMarketClosed, m.closedReason())
	}
	if !m.takeToken(a) {
		return m.reject(a, res, StatusRateLimited, m.reasonRateLimited)
	}
	if o.Invalid != "" {
		return m.reject(a, res, StatusInvalid, o.Invalid)
	}

	// The tentative account lives in locals, so that the hot path copies no Account.
	coins, shares, fed, bailouts := a.Coins, a.Shares, a.Fed, a.Bailouts
	inFlight, invested := a.InFlight, a.Invested
	gibbTick, gibbCount := a.GibbTick, a.GibbCount
	switch o.Kind {
	case KindBuy, KindSell, KindFeed:
		if o.Qty < 1 || o.Qty > MaxQty {
			return m.reject(a, res, StatusInvalid, reasonQty)
		}
		switch o.Kind {
		case KindBuy:
			coins -= mulQtyPrice(o.Qty, res.Price)
			shares += o.Qty
		case KindSell:
			coins += mulQtyPrice(o.Qty, res.Price)
			shares -= o.Qty
		case KindFeed:
			shares -= o.Qty
			fed += o.Qty
		}
	case KindInvest:
		if o.Coins <= 0 {
			return m.reject(a, res, StatusInvalid, reasonInvestAmount)
		}
		coins -= o.Coins
		inFlight++
		invested = addSat(invested, o.Coins)
	case KindGibb:
		if why := gibbTextProblem(o.Text); why != "" {
			return m.reject(a, res, StatusInvalid, why)
		}
		if gibbTick != m.last.Seq {
			gibbTick, gibbCount = m.last.Seq, 0
		}
		if gibbCount >= int64(m.cfg.MaxGibbsPerTick) {
			return m.reject(a, res, StatusRateLimited, m.reasonGibbLimited)
		}
		gibbCount++
	default:
		return m.reject(a, res, StatusInvalid, reasonUnknownKind)
	}

	if bailoutDue(coins, shares, inFlight) {
		coins += m.cfg.BailoutCoins
		shares += m.cfg.BailoutShares
		bailouts++
	}
	switch {
	case coins > MaxCoins:
		return m.reject(a, res, StatusInvalid, reasonTooRich)
	case coins < 0:
		return m.reject(a, res, StatusInsufficientCoins, insufficientCoins(o, res.Price, a.Coins))
	case shares < 0:
		return m.reject(a, res, StatusInsufficientShares, insufficientShares(o, a.Shares))
	}

	m.eventSeq++
	before := a.Score(m.cfg.BailoutPenalty)
	a.Coins, a.Shares, a.Fed, a.Bailouts = coins, shares, fed, bailouts
	a.InFlight, a.Invested = inFlight, invested
	a.GibbTick, a.GibbCount = gibbTick, gibbCount
	a.Accepted++
	res.Score = a.Score(m.cfg.BailoutPenalty)
	if res.Score != before {
		a.ScoredAt = m.eventSeq
	}
	res.Account = *a
	res.Status = StatusAccepted
	switch o.Kind {
	case KindInvest:
		res.Plantation = m.plant(o, invested)
	case KindGibb:
		eff := m.applyGibb(o.Trader, o.Text)
		res.Gibb = &eff
	}
	return res
}

// bailoutDue reports whether a tentative account is bailed out: nothing in flight, at most
// 3 coins and no shares.
func bailoutDue(coins Micro, shares, inFlight int64) bool {
	return inFlight == 0 && coins <= BailoutThreshold && shares <= 0
}

// bailout is step 2 of applying an order or a harvest: an account with nothing in flight,
// at most 3 coins and no shares gets the bailout coins and shares, and one more bailout.
func (m *Market) bailout(t *Account) {
	if bailoutDue(t.Coins, t.Shares, t.InFlight) {
		t.Coins += m.cfg.BailoutCoins
		t.Shares += m.cfg.BailoutShares
		t.Bailouts++
	}
}

// commit stores the accepted tentative account t as the trader's account a, as one event.
func (m *Market) commit(a, t *Account, res *Result) {
	m.eventSeq++
	score := t.Score(m.cfg.BailoutPenalty)
	if score != a.Score(m.cfg.BailoutPenalty) {
		t.ScoredAt = m.eventSeq
	}
	*a = *t
	res.Account = *a
	res.Score = score
}

// reject answers an order with a refusal; the account keeps everything but its count of
// rejected orders and its rate-limit bookkeeping.
func (m *Market) reject(a *Account, res Result, status Status, reason string) Result {
	a.Rejected++
	res.Status, res.Reason = status, reason
	res.Account = *a
	res.Score = a.Score(m.cfg.BailoutPenalty)
	return res
}

// takeToken spends one token of the trader's allowance, refilling it lazily: the bucket
// holds 2 × MaxOrdersPerTick tokens and gains MaxOrdersPerTick at each tick.
func (m *Market) takeToken(a *Account) bool {
	if d := m.last.Seq - a.BucketTick; d > 0 {
		if d >= m.bucketCap {
			a.Bucket = m.bucketCap
		} else {
			a.Bucket = min(m.bucketCap, a.Bucket+d*m.bucketRate)
		}
		a.BucketTick = m.last.Seq
	}
	if a.Bucket <= 0 {
		return false
	}
	a.Bucket--
	return true
}

func (m *Market) closedReason() string {
	if m.phase == PhasePending {
		return reasonPending
	}
	return reasonClosed
}

func insufficientCoins(o Order, price, have Micro) string {
	if o.Kind == KindInvest {
		return fmt.Sprintf("investing %s coins needs %s coins; you have %s", o.Coins, o.Coins, have)
	}
	return fmt.Sprintf("buying %d shares at %s costs %s coins; you have %s", o.Qty, price, mulQtyPrice(o.Qty, price), have)
}

func insufficientShares(o Order, have int64) string {
	if o.Kind == KindFeed {
		return fmt.Sprintf("feeding %d monkeys needs %d shares; you have %d", o.Qty, o.Qty, have)
	}
	return fmt.Sprintf("selling %d shares needs %d shares; you have %d", o.Qty, o.Qty, have)
}
