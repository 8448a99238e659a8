package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/protocol"
)

// ExportReport counts what Export wrote.
type ExportReport struct {
	Ticks, Gibbs, Journal, Results int
}

// Export writes market m's history into dir as JSON Lines: ticks.jsonl (protocol.Tick),
// gibbs.jsonl (protocol.Gibb), journal.jsonl (protocol.JournalRecord) and results.jsonl
// (protocol.ResultRecord), each oldest first. The backtester reads ticks.jsonl and
// gibbs.jsonl.
func Export(ctx context.Context, rdb *redis.Client, m protocol.Market, dir string) (ExportReport, error) {
	var rep ExportReport
	k := m.Keys()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rep, fmt.Errorf("create export folder: %w", err)
	}
	err := writeLines(filepath.Join(dir, "ticks.jsonl"), func(put func(any) error) error {
		return eachEntry(ctx, rdb, k.Ticks(), func(msg redis.XMessage) error {
			t, err := protocol.DecodeTick(msg)
			if err != nil {
				return err
			}
			rep.Ticks++
			return put(t)
		})
	})
	if err != nil {
		return rep, err
	}
	err = writeLines(filepath.Join(dir, "gibbs.jsonl"), func(put func(any) error) error {
		return eachEntry(ctx, rdb, k.Gibbs(), func(msg redis.XMessage) error {
			g, err := protocol.DecodeGibb(msg)
			if err != nil {
				return err
			}
			rep.Gibbs++
			return put(g)
		})
	})
	if err != nil {
		return rep, err
	}
	err = writeLines(filepath.Join(dir, "journal.jsonl"), func(put func(any) error) error {
		return eachJournalEntry(ctx, rdb, k, func(batch int64, events []protocol.JournalEvent) error {
			for _, ev := range events {
				rep.Journal++
				if err := put(ev.Record(batch)); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return rep, err
	}
	traders, err := rdb.HKeys(ctx, k.Accounts()).Result()
	if err != nil {
		return rep, fmt.Errorf("read accounts %s: %w", k.Accounts(), err)
	}
	slices.Sort(traders)
	err = writeLines(filepath.Join(dir, "results.jsonl"), func(put func(any) error) error {
		for _, t := range traders {
			err := eachEntry(ctx, rdb, k.Results(t), func(msg redis.XMessage) error {
				r, err := protocol.DecodeResult(msg)
				if err != nil {
					return err
				}
				rep.Results++
				return put(r.Record(t))
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return rep, err
}

func writeLines(path string, fill func(put func(any) error) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	if err := fill(enc.Encode); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// eachEntry calls fn for every entry of a stream, oldest first.
func eachEntry(ctx context.Context, rdb *redis.Client, key string, fn func(redis.XMessage) error) error {
	start := "-"
	for {
		msgs, err := rdb.XRangeN(ctx, key, start, "+", journalChunk).Result()
		if err != nil {
			return fmt.Errorf("read %s: %w", key, err)
		}
		for _, msg := range msgs {
			if err := fn(msg); err != nil {
				return fmt.Errorf("%s entry %s: %w", key, msg.ID, err)
			}
		}
		if len(msgs) < journalChunk {
			return nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}
