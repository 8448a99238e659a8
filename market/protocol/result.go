package protocol

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/rules"
)

// Result is an entry of results:<trader>: the answer to one order, or a harvest.
type Result struct {
	// EntryID is the stream entry id of this result.
	EntryID string
	// ID is the order's id (its "id" field, or its entry id); for a harvest, the id of the
	// invest order that planted it.
	ID string
	// Order is the entry id of the order in orders:<trader>; empty for a harvest.
	Order  string
	Kind   rules.Kind
	Status rules.Status
	Reason string
	Tick   int64
	Price  rules.Micro
	// The account after the order: Coins, Shares, Fed, Bailouts and InFlight are set.
	Account rules.Account
	Score   int64
	// Credit is what a harvest credited.
	Credit rules.Micro
}

// Rules is the result, of trader, as the rules' Result that strategies see.
func (r Result) Rules(trader string) rules.Result {
	return rules.Result{Trader: trader, ID: r.ID, Kind: r.Kind, Status: r.Status, Reason: r.Reason,
		Tick: r.Tick, Price: r.Price, Account: r.Account, Score: r.Score, Credit: r.Credit}
}

// AppendResult appends the field/value pairs of a result entry to args, ready for XADD.
// orderEntryID is the entry id of the order in orders:<trader> (empty for a harvest).
//
// The engine queues a result for every order, so this allocates once per result instead
// of once per value: the arguments point into one resultValues, and the words of kinds and
// statuses are made into arguments once.
func AppendResult(args []any, r rules.Result, orderEntryID string) []any {
	a := r.Account
	v := &resultValues{order: orderEntryID, tick: r.Tick, shares: a.Shares, fed: a.Fed,
		bailouts: a.Bailouts, inflight: a.InFlight, score: r.Score}
	id := &v.order // an order without an id of its own goes by its entry id
	if r.ID != orderEntryID {
		v.id, id = r.ID, &v.id
	}
	var buf [48]byte
	price := appendMicro(buf[:0], r.Price)
	decimals := string(appendMicro(price, a.Coins)) // one string for both
	v.price, v.coins = decimals[:len(price)], decimals[len(price):]
	args = append(args,
		FieldVersion, Version,
		FieldID, id,
		FieldOrder, &v.order,
		FieldKind, kindArgs.arg(r.Kind),
		FieldStatus, statusArgs.arg(r.Status),
		FieldReason, r.Reason,
		FieldTick, &v.tick,
		FieldPrice, &v.price,
		FieldCoins, &v.coins,
		FieldShares, &v.shares,
		FieldFed, &v.fed,
		FieldBailouts, &v.bailouts,
		FieldInFlight, &v.inflight,
		FieldScore, &v.score,
	)
	if r.Kind == rules.KindHarvest {
		args = append(args, FieldCredit, FormatMicro(r.Credit))
	}
	return args
}

// resultValues are the values of a result entry that change from one result to the next.
type resultValues struct {
	id, order, price, coins                      string
	tick, shares, fed, bailouts, inflight, score int64
}

// DecodeResult reads an entry of results:<trader>.
func DecodeResult(m redis.XMessage) (Result, error) {
	f := fields(m.Values)
	r := Result{EntryID: m.ID, ID: f.str(FieldID), Order: f.str(FieldOrder), Reason: f.str(FieldReason)}
	if err := checkVersion(f); err != nil {
		return r, err
	}
	var err error
	if k := f.str(FieldKind); k != "" {
		if r.Kind, err = rules.ParseKind(k); err != nil {
			return r, fmt.Errorf("result %s: %w", m.ID, err)
		}
	}
	if r.Status, err = rules.ParseStatus(f.str(FieldStatus)); err != nil {
		return r, fmt.Errorf("result %s: %w", m.ID, err)
	}
	ints := []struct {
		name string
		dst  *int64
	}{
		{FieldTick, &r.Tick}, {FieldShares, &r.Account.Shares}, {FieldFed, &r.Account.Fed},
		{FieldBailouts, &r.Account.Bailouts}, {FieldInFlight, &r.Account.InFlight}, {FieldScore, &r.Score},
	}
	for _, i := range ints {
		if *i.dst, err = f.int(i.name); err != nil {
			return r, fmt.Errorf("result %s: %w", m.ID, err)
		}
	}
	if r.Price, err = f.micro(FieldPrice); err != nil {
		return r, fmt.Errorf("result %s: %w", m.ID, err)
	}
	if r.Account.Coins, err = f.micro(FieldCoins); err != nil {
		return r, fmt.Errorf("result %s: %w", m.ID, err)
	}
	if _, ok := f[FieldCredit]; ok {
		if r.Credit, err = f.micro(FieldCredit); err != nil {
			return r, fmt.Errorf("result %s: %w", m.ID, err)
		}
	}
	return r, nil
}

// ResultRecord is a result as a JSON line of `monkonomy export` (results.jsonl).
type ResultRecord struct {
	Trader   string `json:"trader"`
	EntryID  string `json:"entry"`
	ID       string `json:"id"`
	Order    string `json:"order,omitempty"`
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
	Tick     int64  `json:"tick"`
	Price    string `json:"price"`
	Coins    string `json:"coins"`
	Shares   int64  `json:"shares"`
	Fed      int64  `json:"fed"`
	Bailouts int64  `json:"bailouts"`
	InFlight int64  `json:"inflight"`
	Score    int64  `json:"score"`
	Credit   string `json:"credit,omitempty"`
}

// Record returns the result as an export record of trader.
func (r Result) Record(trader string) ResultRecord {
	rec := ResultRecord{
		Trader: trader, EntryID: r.EntryID, ID: r.ID, Order: r.Order, Kind: kindWord(r.Kind),
		Status: r.Status.String(), Reason: r.Reason, Tick: r.Tick, Price: FormatMicro(r.Price),
		Coins: FormatMicro(r.Account.Coins), Shares: r.Account.Shares, Fed: r.Account.Fed,
		Bailouts: r.Account.Bailouts, InFlight: r.Account.InFlight, Score: r.Score,
	}
	if r.Kind == rules.KindHarvest {
		rec.Credit = FormatMicro(r.Credit)
	}
	return rec
}
