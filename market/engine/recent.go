package engine

import (
	"hash/maphash"
	"strconv"
	"strings"
)

// recentIDs are the order ids of a trader's latest results, each with the entry id of its
// result in results:<trader>, to answer a retried order with its first result. They cover
// the trader's last capacity results, which the stream still holds: it is trimmed to no
// fewer. A result with no id to remember (a harvest's, an answer repeated, an order without
// an id of its own) takes its place among them too.
//
// They hold no pointers, so that the garbage collector has nothing in them to look
// through, with hundreds of traders of thousands of results each, and an id takes the same
// room whatever its length (78 bytes in BenchmarkRecentIDs, the map's spare room included).
// An id is known by a 64-bit hash of it:
//   - of two remembered ids with the same hash, the later one is kept by its text, in
//     overflow, which is empty but for such a pair;
//   - an id never remembered that has the hash of a remembered one finds that one's result:
//     the caller compares the result's id before answering with it (see repeatCommitted).
type recentIDs struct {
	capacity int
	slots    []recentSlot // a ring of the latest results: once full, slots[next] is the oldest
	next     int
	byHash   map[uint64]int32 // an id's hash → its slot
	overflow map[string]int32 // an id → its slot, when another id holds its hash
	seed     maphash.Seed
}

// recentSlot is one of the latest results.
type recentSlot struct {
	hash  uint64
	entry streamID
	kept  keptBy
}

type keptBy uint8

const (
	keptNot    keptBy = iota // nothing to remember
	keptByHash               // in byHash
	keptByText               // in overflow
)

// idHash is the hash of order ids (tests make ids collide with one of their own).
var idHash = maphash.String

func newRecentIDs(capacity int) *recentIDs {
	return &recentIDs{capacity: max(capacity, 1), byHash: map[uint64]int32{}, seed: maphash.MakeSeed()}
}

// add remembers the trader's next result: its order id ("" for none to remember) and its
// entry id. It forgets the oldest result once it holds capacity of them.
func (r *recentIDs) add(id, entry string) {
	if len(r.slots) < r.capacity {
		r.slots = append(r.slots, recentSlot{})
	} else {
		r.forget(r.next)
	}
	i := r.next
	r.next = (r.next + 1) % r.capacity
	e, ok := parseStreamID(entry)
	if id == "" || !ok {
		r.slots[i] = recentSlot{}
		return
	}
	h := idHash(r.seed, id)
	if _, taken := r.byHash[h]; !taken {
		r.byHash[h] = int32(i)
		r.slots[i] = recentSlot{hash: h, entry: e, kept: keptByHash}
		return
	}
	if r.overflow == nil {
		r.overflow = map[string]int32{}
	}
	r.overflow[id] = int32(i)
	r.slots[i] = recentSlot{entry: e, kept: keptByText}
}

func (r *recentIDs) forget(i int) {
	switch s := r.slots[i]; s.kept {
	case keptByHash:
		delete(r.byHash, s.hash)
	case keptByText:
		for id, j := range r.overflow {
			if int(j) == i {
				delete(r.overflow, id)
				break
			}
		}
	}
}

// lookup returns the entry id of the result of id, or of an id with the same hash.
func (r *recentIDs) lookup(id string) (string, bool) {
	i, ok := r.overflow[id]
	if !ok {
		if i, ok = r.byHash[idHash(r.seed, id)]; !ok {
			return "", false
		}
	}
	return r.slots[i].entry.String(), true
}

// streamID is the entry id of a stream, milliseconds-sequence.
type streamID struct{ ms, seq uint64 }

func parseStreamID(s string) (streamID, bool) {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok {
		return streamID{}, false
	}
	m, err1 := strconv.ParseUint(ms, 10, 64)
	q, err2 := strconv.ParseUint(seq, 10, 64)
	if err1 != nil || err2 != nil {
		return streamID{}, false
	}
	return streamID{m, q}, true
}

func (id streamID) String() string {
	var b [41]byte
	out := strconv.AppendUint(b[:0], id.ms, 10)
	out = append(out, '-')
	return string(strconv.AppendUint(out, id.seq, 10))
}
