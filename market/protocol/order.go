package protocol

import (
	"fmt"
	"strconv"

	"github.com/monkonomy/monkonomy/market/rules"
)

// AppendOrder appends the field/value pairs of an order entry (for orders:<trader>) to args,
// ready for XADD. The order's Trader is not written: the stream says whose order it is.
func AppendOrder(args []any, o rules.Order) []any {
	args = append(args, FieldVersion, Version, FieldKind, kindWord(o.Kind))
	if o.ID != "" {
		args = append(args, FieldID, o.ID)
	}
	switch o.Kind {
	case rules.KindBuy, rules.KindSell, rules.KindFeed:
		args = append(args, FieldQty, strconv.FormatInt(o.Qty, 10))
	case rules.KindInvest:
		args = append(args, FieldCoins, FormatMicro(o.Coins))
	case rules.KindGibb:
		args = append(args, FieldText, o.Text)
	}
	return args
}

// DecodeOrder reads an entry of orders:<trader>. It never fails: an entry that cannot be
// understood gives an order with Invalid set to the reason, which the market answers with
// an invalid result. The order's ID is the "id" field, or the entry id when there is none
// or it is not a valid id (so that every order can be answered).
func DecodeOrder(trader, entryID string, values map[string]any) rules.Order {
	o := rules.Order{Trader: trader, ID: entryID}
	if v, ok := values[FieldID]; ok {
		id, isString := fieldString(v)
		if !isString || !ValidID(id) {
			o.Invalid = fmt.Sprintf("field id must be 1-%d of A-Z a-z 0-9 . _ : -", MaxIDLen)
			return o
		}
		o.ID = id
	}
	if len(values) > MaxEntryFields {
		o.Invalid = fmt.Sprintf("an order has at most %d fields, this one has %d", MaxEntryFields, len(values))
		return o
	}
	var qty, coins, text string
	var hasQty, hasCoins, hasText, hasKind bool
	var kind string
	for name, v := range values {
		s, ok := fieldString(v)
		if !ok {
			o.Invalid = "field " + quoteField(name) + " is not a string"
			return o
		}
		switch name {
		case FieldVersion, FieldID:
		case FieldKind:
			kind, hasKind = s, true
		case FieldQty:
			qty, hasQty = s, true
		case FieldCoins:
			coins, hasCoins = s, true
		case FieldText:
			text, hasText = s, true
		default:
			o.Invalid = "unknown field " + quoteField(name)
			return o
		}
	}
	if err := checkVersion(values); err != nil {
		o.Invalid = err.Error()
		return o
	}
	if !hasKind {
		o.Invalid = "field kind is missing: use buy, sell, feed, invest or gibb"
		return o
	}
	k, err := rules.ParseOrderKind(kind)
	if err != nil {
		o.Invalid = err.Error()
		return o
	}
	o.Kind = k
	switch k {
	case rules.KindBuy, rules.KindSell, rules.KindFeed:
		if hasCoins || hasText {
			o.Invalid = k.String() + " takes only qty"
			return o
		}
		if !hasQty {
			o.Invalid = "field qty is missing"
			return o
		}
		if len(qty) > MaxAmountBytes {
			o.Invalid = fmt.Sprintf("field qty is longer than %d bytes", MaxAmountBytes)
			return o
		}
		if o.Qty, err = rules.ParseQty(qty); err != nil {
			o.Invalid = "qty: " + err.Error()
		}
	case rules.KindInvest:
		if hasQty || hasText {
			o.Invalid = "invest takes only coins"
			return o
		}
		if !hasCoins {
			o.Invalid = "field coins is missing"
			return o
		}
		if len(coins) > MaxAmountBytes {
			o.Invalid = fmt.Sprintf("field coins is longer than %d bytes", MaxAmountBytes)
			return o
		}
		if o.Coins, err = rules.ParseCoins(coins); err != nil {
			o.Invalid = "coins: " + err.Error()
		}
	case rules.KindGibb:
		if hasQty || hasCoins {
			o.Invalid = "gibb takes only text"
			return o
		}
		if err := CheckText(text); err != nil {
			o.Invalid = err.Error()
			return o
		}
		o.Text = text
	}
	return o
}

// quoteField quotes a client-supplied name for a reason, cut so that a reason stays short.
func quoteField(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return strconv.Quote(s)
}
