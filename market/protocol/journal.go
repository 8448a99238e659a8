package protocol

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/monkonomy/monkonomy/market/rules"
)

// The journal stream holds every applied event, in order, so that `monkonomy audit` can
// replay the market through the rules and find exactly the same accounts. The engine
// writes one entry per committed batch: field "batch" (the batch number, from 1) and field
// "events", one event per line. A line is a type letter and space-separated tokens;
// free text is a Go-quoted string, amounts are integers of micro-coins:
//
//	c "<rules.Config as JSON>"            the market's rules (first, and when they change)
//	t <trader>                            a trader registered
//	p <phase>                             the phase changed (open, paused, closed)
//	m <ms>                                the market time advanced to ms
//	k <seq> <price>                       a tick was published
//	o <trader> <id> <kind> <qty> <coins> <status> "<text>" "<invalid>"   an order applied
//	g "<author>" "<text>"                 a person's gibb applied
//	h <trader> <order id> <coins> <credit> <due ms>                      a harvest
//
// Replaying means: NewMarket(config); then per line AddTrader, SetPhase, SetTime, Tick,
// Apply, PostGibb or Harvest; a later config line is Restore(config, State, accounts).
const (
	JournalConfig  = 'c'
	JournalTrader  = 't'
	JournalPhase   = 'p'
	JournalTime    = 'm'
	JournalTick    = 'k'
	JournalOrder   = 'o'
	JournalGibb    = 'g'
	JournalHarvest = 'h'
)

// JournalEvent is one line of the journal.
type JournalEvent struct {
	Type   byte
	Config string // JournalConfig: rules.Config as JSON
	Trader string // JournalTrader, JournalOrder, JournalHarvest
	Phase  rules.Phase
	TimeMs int64       // JournalTime; the due time of a JournalHarvest
	Seq    int64       // JournalTick
	Price  rules.Micro // JournalTick
	Order  rules.Order // JournalOrder (with Trader set)
	Status rules.Status
	Author string // JournalGibb
	Text   string // JournalGibb
	// JournalHarvest
	Plantation rules.Plantation
}

// AppendJournalConfig appends a config line.
func AppendJournalConfig(b []byte, cfg rules.Config) ([]byte, error) {
	j, err := json.Marshal(cfg)
	if err != nil {
		return b, fmt.Errorf("encode market rules: %w", err)
	}
	b = append(b, JournalConfig, ' ')
	b = strconv.AppendQuote(b, string(j))
	return append(b, '\n'), nil
}

// AppendJournalTrader appends a trader line.
func AppendJournalTrader(b []byte, trader string) []byte {
	b = append(b, JournalTrader, ' ')
	b = append(b, trader...)
	return append(b, '\n')
}

// AppendJournalPhase appends a phase line.
func AppendJournalPhase(b []byte, p rules.Phase) []byte {
	b = append(b, JournalPhase, ' ')
	b = append(b, p.String()...)
	return append(b, '\n')
}

// AppendJournalTime appends a market-time line.
func AppendJournalTime(b []byte, ms int64) []byte {
	b = append(b, JournalTime, ' ')
	b = strconv.AppendInt(b, ms, 10)
	return append(b, '\n')
}

// AppendJournalTick appends a tick line.
func AppendJournalTick(b []byte, t rules.Tick) []byte {
	b = append(b, JournalTick, ' ')
	b = strconv.AppendInt(b, t.Seq, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(t.Price), 10)
	return append(b, '\n')
}

// AppendJournalOrder appends an order line: the order as decoded and the status it got.
func AppendJournalOrder(b []byte, o rules.Order, st rules.Status) []byte {
	b = append(b, JournalOrder, ' ')
	b = append(b, o.Trader...)
	b = append(b, ' ')
	b = append(b, o.ID...)
	b = append(b, ' ')
	if w := kindWord(o.Kind); w != "" {
		b = append(b, w...)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, o.Qty, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(o.Coins), 10)
	b = append(b, ' ')
	b = append(b, st.String()...)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, o.Text)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, o.Invalid)
	return append(b, '\n')
}

// AppendJournalGibb appends a person's gibb line.
func AppendJournalGibb(b []byte, author, text string) []byte {
	b = append(b, JournalGibb, ' ')
	b = strconv.AppendQuote(b, author)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, text)
	return append(b, '\n')
}

// AppendJournalHarvest appends a harvest line.
func AppendJournalHarvest(b []byte, p rules.Plantation) []byte {
	b = append(b, JournalHarvest, ' ')
	b = append(b, p.Trader...)
	b = append(b, ' ')
	b = append(b, p.OrderID...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(p.Coins), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(p.Credit), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, p.DueMs, 10)
	return append(b, '\n')
}

// ParseJournal reads the events of one journal entry.
func ParseJournal(events string) ([]JournalEvent, error) {
	var out []JournalEvent
	for n := 1; events != ""; n++ {
		line, rest, _ := strings.Cut(events, "\n")
		events = rest
		ev, err := parseJournalLine(line)
		if err != nil {
			return out, fmt.Errorf("journal line %d %q: %w", n, cut(line, 80), err)
		}
		out = append(out, ev)
	}
	return out, nil
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func parseJournalLine(line string) (JournalEvent, error) {
	var ev JournalEvent
	if len(line) < 2 || line[1] != ' ' {
		return ev, fmt.Errorf("not an event")
	}
	ev.Type = line[0]
	toks, err := journalTokens(line[2:])
	if err != nil {
		return ev, err
	}
	want := map[byte]int{JournalConfig: 1, JournalTrader: 1, JournalPhase: 1, JournalTime: 1,
		JournalTick: 2, JournalOrder: 8, JournalGibb: 2, JournalHarvest: 5}
	n, ok := want[ev.Type]
	if !ok {
		return ev, fmt.Errorf("unknown event type %q", ev.Type)
	}
	if len(toks) != n {
		return ev, fmt.Errorf("%d tokens, want %d", len(toks), n)
	}
	ints := func(dst ...*int64) error {
		for i, d := range dst {
			if d == nil {
				continue
			}
			v, err := strconv.ParseInt(toks[i], 10, 64)
			if err != nil {
				return fmt.Errorf("token %d: %q is not an integer", i+1, toks[i])
			}
			*d = v
		}
		return nil
	}
	switch ev.Type {
	case JournalConfig:
		ev.Config = toks[0]
	case JournalTrader:
		ev.Trader = toks[0]
	case JournalPhase:
		ev.Phase, err = rules.ParsePhase(toks[0])
	case JournalTime:
		err = ints(&ev.TimeMs)
	case JournalTick:
		err = ints(&ev.Seq, (*int64)(&ev.Price))
	case JournalOrder:
		o := rules.Order{Trader: toks[0], ID: toks[1], Text: toks[6], Invalid: toks[7]}
		if toks[2] != "-" {
			if o.Kind, err = rules.ParseKind(toks[2]); err != nil {
				return ev, err
			}
		}
		if err = ints(nil, nil, nil, &o.Qty, (*int64)(&o.Coins)); err != nil {
			return ev, err
		}
		ev.Trader, ev.Order = o.Trader, o
		ev.Status, err = rules.ParseStatus(toks[5])
	case JournalGibb:
		ev.Author, ev.Text = toks[0], toks[1]
	case JournalHarvest:
		p := rules.Plantation{Trader: toks[0], OrderID: toks[1]}
		err = ints(nil, nil, (*int64)(&p.Coins), (*int64)(&p.Credit), &p.DueMs)
		ev.Trader, ev.Plantation, ev.TimeMs = p.Trader, p, p.DueMs
	}
	return ev, err
}

// journalTokens splits a line into tokens: bare words, or Go-quoted strings.
func journalTokens(s string) ([]string, error) {
	var toks []string
	for s != "" {
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("bad quoted text: %w", err)
			}
			u, _ := strconv.Unquote(q)
			toks = append(toks, u)
			s = s[len(q):]
		} else {
			tok, _, _ := strings.Cut(s, " ")
			toks = append(toks, tok)
			s = s[len(tok):]
		}
		if s != "" {
			if s[0] != ' ' {
				return nil, fmt.Errorf("tokens must be separated by one space")
			}
			s = s[1:]
		}
	}
	return toks, nil
}

// JournalRecord is a journal event as a JSON line of `monkonomy export` (journal.jsonl).
type JournalRecord struct {
	Batch   int64           `json:"batch"`
	Type    string          `json:"type"` // config, trader, phase, time, tick, order, gibb, harvest
	Config  json.RawMessage `json:"config,omitempty"`
	Trader  string          `json:"trader,omitempty"`
	Phase   string          `json:"phase,omitempty"`
	TimeMs  int64           `json:"marketTimeMs,omitempty"`
	Seq     int64           `json:"seq,omitempty"`
	Price   string          `json:"price,omitempty"`
	ID      string          `json:"id,omitempty"`
	Kind    string          `json:"kind,omitempty"`
	Qty     int64           `json:"qty,omitempty"`
	Coins   string          `json:"coins,omitempty"`
	Status  string          `json:"status,omitempty"`
	Invalid string          `json:"invalid,omitempty"`
	Author  string          `json:"author,omitempty"`
	Text    string          `json:"text,omitempty"`
	Credit  string          `json:"credit,omitempty"`
	DueMs   int64           `json:"dueMs,omitempty"`
}

// Record returns the event as an export record of batch.
func (ev JournalEvent) Record(batch int64) JournalRecord {
	r := JournalRecord{Batch: batch, Trader: ev.Trader}
	switch ev.Type {
	case JournalConfig:
		r.Type, r.Config = "config", json.RawMessage(ev.Config)
	case JournalTrader:
		r.Type = "trader"
	case JournalPhase:
		r.Type, r.Phase = "phase", ev.Phase.String()
	case JournalTime:
		r.Type, r.TimeMs = "time", ev.TimeMs
	case JournalTick:
		r.Type, r.Seq, r.Price = "tick", ev.Seq, FormatMicro(ev.Price)
	case JournalOrder:
		o := ev.Order
		r.Type, r.ID, r.Kind, r.Qty, r.Text, r.Invalid, r.Status = "order", o.ID, kindWord(o.Kind), o.Qty, o.Text, o.Invalid, ev.Status.String()
		if o.Kind == rules.KindInvest {
			r.Coins = FormatMicro(o.Coins)
		}
	case JournalGibb:
		r.Type, r.Author, r.Text = "gibb", ev.Author, ev.Text
	case JournalHarvest:
		p := ev.Plantation
		r.Type, r.ID, r.Coins, r.Credit, r.DueMs = "harvest", p.OrderID, FormatMicro(p.Coins), FormatMicro(p.Credit), p.DueMs
	}
	return r
}
