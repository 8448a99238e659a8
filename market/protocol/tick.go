package protocol

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/rules"
)

// Tick is an entry of the ticks stream, and a line of ticks.jsonl (`monkonomy export`),
// which the backtester reads. In JSON, amounts are decimal strings:
//
//	{"seq":12,"price":"1.020000","forecast":"0.998000","ema":"1.010000","hype":"0.030000",
//	 "burst":0,"phase":"open","time":"2026-01-02T15:04:05.000Z","marketMs":11000}
//
// marketMs is left out when it is 0 (and by exports of older versions).
//
// A tick is published once per tick while the market is open. When the phase changes, an
// entry with the same Seq and the new phase announces it (paused, open again, closed).
type Tick struct {
	Seq      int64       // tick number, from 1
	Price    rules.Micro // P(n)
	Forecast rules.Micro // F(n) = EMA(n) / P(n), 6 decimals
	EMA      rules.Micro
	Hype     rules.Micro // h = H − B, the hype in the price
	Burst    int         // 0, or the burst step (1–10) applied at this tick
	Phase    rules.Phase
	Time     time.Time
	// MarketMs is the market time of the tick: milliseconds the market has been open.
	MarketMs int64
}

// TickFromRules is the published form of a rules tick at wall-clock time t.
func TickFromRules(t rules.Tick, at time.Time) Tick {
	return Tick{Seq: t.Seq, Price: t.Price, Forecast: t.Forecast, EMA: t.EMA, Hype: t.Hype,
		Burst: t.Burst, Phase: t.Phase, Time: at, MarketMs: t.TimeMs}
}

// Rules is the tick as the rules' Tick that strategies see.
func (t Tick) Rules() rules.Tick {
	return rules.Tick{Seq: t.Seq, Price: t.Price, Forecast: t.Forecast, EMA: t.EMA, Hype: t.Hype,
		Burst: t.Burst, Phase: t.Phase, TimeMs: t.MarketMs}
}

// AppendTick appends the field/value pairs of a tick entry to args, ready for XADD.
func AppendTick(args []any, t Tick) []any {
	return append(args,
		FieldVersion, Version,
		FieldSeq, t.Seq,
		FieldPrice, FormatMicro(t.Price),
		FieldForecast, FormatMicro(t.Forecast),
		FieldEMA, FormatMicro(t.EMA),
		FieldHype, FormatMicro(t.Hype),
		FieldBurst, t.Burst,
		FieldPhase, t.Phase.String(),
		FieldTime, FormatTime(t.Time),
		FieldMarketMs, t.MarketMs,
	)
}

// DecodeTick reads an entry of the ticks stream.
func DecodeTick(m redis.XMessage) (Tick, error) {
	f := fields(m.Values)
	var t Tick
	if err := checkVersion(f); err != nil {
		return t, err
	}
	var err error
	var burst int64
	for _, step := range []func() error{
		func() (err error) { t.Seq, err = f.int(FieldSeq); return },
		func() (err error) { t.Price, err = f.micro(FieldPrice); return },
		func() (err error) { t.Forecast, err = f.micro(FieldForecast); return },
		func() (err error) { t.EMA, err = f.micro(FieldEMA); return },
		func() (err error) { t.Hype, err = f.micro(FieldHype); return },
		func() (err error) { burst, err = f.int(FieldBurst); return },
		func() (err error) { t.Phase, err = rules.ParsePhase(f.str(FieldPhase)); return },
		func() (err error) { t.Time, err = f.time(FieldTime); return },
		func() (err error) { t.MarketMs, err = f.int(FieldMarketMs); return },
	} {
		if err = step(); err != nil {
			return t, fmt.Errorf("tick %s: %w", m.ID, err)
		}
	}
	t.Burst = int(burst)
	return t, nil
}

// tickJSON is the JSON form of a Tick.
type tickJSON struct {
	Seq      int64  `json:"seq"`
	Price    string `json:"price"`
	Forecast string `json:"forecast"`
	EMA      string `json:"ema"`
	Hype     string `json:"hype"`
	Burst    int    `json:"burst"`
	Phase    string `json:"phase"`
	Time     string `json:"time"`
	MarketMs int64  `json:"marketMs,omitempty"`
}

func (t Tick) MarshalJSON() ([]byte, error) {
	return json.Marshal(tickJSON{Seq: t.Seq, Price: FormatMicro(t.Price), Forecast: FormatMicro(t.Forecast),
		EMA: FormatMicro(t.EMA), Hype: FormatMicro(t.Hype), Burst: t.Burst, Phase: t.Phase.String(),
		Time: FormatTime(t.Time), MarketMs: t.MarketMs})
}

func (t *Tick) UnmarshalJSON(b []byte) error {
	var j tickJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("tick: %w", err)
	}
	f := fields{FieldPrice: j.Price, FieldForecast: j.Forecast, FieldEMA: j.EMA, FieldHype: j.Hype, FieldTime: j.Time}
	var err error
	*t = Tick{Seq: j.Seq, Burst: j.Burst, MarketMs: j.MarketMs}
	if t.Price, err = f.micro(FieldPrice); err != nil {
		return fmt.Errorf("tick %d: %w", j.Seq, err)
	}
	if t.Forecast, err = f.micro(FieldForecast); err != nil {
		return fmt.Errorf("tick %d: %w", j.Seq, err)
	}
	if t.EMA, err = f.micro(FieldEMA); err != nil {
		return fmt.Errorf("tick %d: %w", j.Seq, err)
	}
	if t.Hype, err = f.micro(FieldHype); err != nil {
		return fmt.Errorf("tick %d: %w", j.Seq, err)
	}
	if t.Phase, err = rules.ParsePhase(j.Phase); err != nil {
		return fmt.Errorf("tick %d: %w", j.Seq, err)
	}
	if t.Time, err = f.time(FieldTime); err != nil {
		return fmt.Errorf("tick %d: %w", j.Seq, err)
	}
	return nil
}
