package protocol

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/monkonomy/monkonomy/market/rules"
)

// Account is a trader's account as the engine writes it into the accounts hash (one JSON
// value per trader), for the operator and the dashboard. Amounts are decimal strings; the
// fields after Score are the rules' bookkeeping, kept so that a restarted engine continues
// exactly.
//
//	{"coins":"12.000000","shares":5,"fed":7,"bailouts":0,"inflight":1,"score":7,...}
type Account struct {
	Coins      string `json:"coins"`
	Shares     int64  `json:"shares"`
	Fed        int64  `json:"fed"`
	Bailouts   int64  `json:"bailouts"`
	InFlight   int64  `json:"inflight"`
	Score      int64  `json:"score"`
	Accepted   int64  `json:"accepted"`
	Rejected   int64  `json:"rejected"`
	Invested   string `json:"invested"`
	ScoredAt   int64  `json:"scoredAt"`
	Bucket     int64  `json:"bucket"`
	BucketTick int64  `json:"bucketTick"`
	GibbTick   int64  `json:"gibbTick"`
	GibbCount  int64  `json:"gibbCount"`
}

// AppendAccountJSON appends the accounts-hash JSON of a to b.
func AppendAccountJSON(b []byte, a rules.Account, score int64) []byte {
	b = append(b, `{"coins":"`...)
	b = appendMicro(b, a.Coins)
	b = append(b, `","shares":`...)
	b = strconv.AppendInt(b, a.Shares, 10)
	b = append(b, `,"fed":`...)
	b = strconv.AppendInt(b, a.Fed, 10)
	b = append(b, `,"bailouts":`...)
	b = strconv.AppendInt(b, a.Bailouts, 10)
	b = append(b, `,"inflight":`...)
	b = strconv.AppendInt(b, a.InFlight, 10)
	b = append(b, `,"score":`...)
	b = strconv.AppendInt(b, score, 10)
	b = append(b, `,"accepted":`...)
	b = strconv.AppendInt(b, a.Accepted, 10)
	b = append(b, `,"rejected":`...)
	b = strconv.AppendInt(b, a.Rejected, 10)
	b = append(b, `,"invested":"`...)
	b = appendMicro(b, a.Invested)
	b = append(b, `","scoredAt":`...)
	b = strconv.AppendInt(b, a.ScoredAt, 10)
	b = append(b, `,"bucket":`...)
	b = strconv.AppendInt(b, a.Bucket, 10)
	b = append(b, `,"bucketTick":`...)
	b = strconv.AppendInt(b, a.BucketTick, 10)
	b = append(b, `,"gibbTick":`...)
	b = strconv.AppendInt(b, a.GibbTick, 10)
	b = append(b, `,"gibbCount":`...)
	b = strconv.AppendInt(b, a.GibbCount, 10)
	return append(b, '}')
}

// DecodeAccount reads a value of the accounts hash.
func DecodeAccount(s string) (Account, rules.Account, error) {
	var rec Account
	if err := json.Unmarshal([]byte(s), &rec); err != nil {
		return rec, rules.Account{}, fmt.Errorf("account: %w", err)
	}
	a := rules.Account{Shares: rec.Shares, Fed: rec.Fed, Bailouts: rec.Bailouts, InFlight: rec.InFlight,
		ScoredAt: rec.ScoredAt, Accepted: rec.Accepted, Rejected: rec.Rejected, Bucket: rec.Bucket,
		BucketTick: rec.BucketTick, GibbTick: rec.GibbTick, GibbCount: rec.GibbCount}
	var err error
	if a.Coins, err = parseMicro(rec.Coins); err != nil {
		return rec, a, fmt.Errorf("account coins: %w", err)
	}
	if a.Invested, err = parseMicro(rec.Invested); err != nil {
		return rec, a, fmt.Errorf("account invested: %w", err)
	}
	return rec, a, nil
}

// TraderInfo is a value of the traders hash: how the operator or the arena registers a
// trader. Fields other than team are kept for them and ignored by the engine.
type TraderInfo struct {
	Team string `json:"team"`
}

// DecodeTraderInfo reads a value of the traders hash.
func DecodeTraderInfo(s string) (TraderInfo, error) {
	var t TraderInfo
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		return t, fmt.Errorf("trader registration is not a JSON object such as {\"team\":\"Blue\"}: %w", err)
	}
	return t, nil
}

// EncodeTraderInfo is the traders-hash value of t.
func EncodeTraderInfo(t TraderInfo) string {
	b, _ := json.Marshal(t) // a struct of strings always marshals
	return string(b)
}
