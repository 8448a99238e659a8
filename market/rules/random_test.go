package rules

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func ulps(a, b float64) int64 {
	d := int64(math.Float64bits(a)) - int64(math.Float64bits(b))
	if d < 0 {
		d = -d
	}
	return d
}

// math.Exp may use FMA on this CPU, so the two can differ by a rounding or two.
func TestDeterministicExpAndLnAgreeWithMathPackage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200_000; i++ {
		x := (rng.Float64() - 0.5) * 100
		if d := ulps(expDet(x), math.Exp(x)); d > 2 {
			t.Fatalf("expDet(%v) = %v; math.Exp = %v (%d ulps apart)", x, expDet(x), math.Exp(x), d)
		}
		y := math.Exp((rng.Float64() - 0.5) * 80)
		if d := ulps(lnDet(y), math.Log(y)); d > 2 {
			t.Fatalf("lnDet(%v) = %v; math.Log = %v (%d ulps apart)", y, lnDet(y), math.Log(y), d)
		}
	}
	if expDet(0) != 1 || lnDet(1) != 0 || !math.IsInf(expDet(1000), 1) || expDet(-1000) != 0 {
		t.Error("expDet/lnDet special cases are wrong")
	}
}

func TestNormalIsTheInverseOfTheNormalCDF(t *testing.T) {
	for _, p := range []float64{1e-12, 1e-6, 0.001, 0.02, 0.02425, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97575, 0.99, 0.999999, 1 - 1e-12} {
		z := normal(p)
		cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
		if math.Abs(cdf-p)/math.Min(p, 1-p) > 1e-7 {
			t.Errorf("Φ(normal(%v)) = %v", p, cdf)
		}
	}
}

func TestPriceDrawsAreStandardNormal(t *testing.T) {
	const n = 200_000
	var sum, sq float64
	for i := int64(1); i <= n; i++ {
		z := priceDraw(42, i)
		sum += z
		sq += z * z
	}
	mean, sd := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
	if math.Abs(mean) > 0.01 || math.Abs(sd-1) > 0.01 {
		t.Errorf("price draws have mean %v and standard deviation %v; want 0 and 1", mean, sd)
	}
}

func TestDrawsArePureFunctionsOfTheirInputs(t *testing.T) {
	// Pinned: every implementation, and every run, draws exactly these numbers.
	if got := priceDraw(1, 5); got != -1.3842032983890036 {
		t.Errorf("priceDraw(1, 5) = %v, want -1.3842032983890036", got)
	}
	if got := burstDraw(1, 5); got != 0.7658131826057217 {
		t.Errorf("burstDraw(1, 5) = %v, want 0.7658131826057217", got)
	}
	if got := investDraw(1, "alice", "o1"); got != -0.08625549877319508 {
		t.Errorf("investDraw(1, alice, o1) = %v, want -0.08625549877319508", got)
	}
	if priceDraw(1, 5) == priceDraw(2, 5) || priceDraw(1, 5) == priceDraw(1, 6) ||
		burstDraw(1, 5) == burstDraw(2, 5) || burstDraw(1, 5) == burstDraw(1, 6) ||
		investDraw(1, "alice", "o1") == investDraw(2, "alice", "o1") ||
		investDraw(1, "alice", "o1") == investDraw(1, "bob", "o1") || investDraw(1, "alice", "o1") == investDraw(1, "alice", "o2") {
		t.Fatal("different inputs gave the same draw")
	}
}

func TestBurstDrawsAreUniformAndInvestDrawsStandardNormal(t *testing.T) {
	const n = 100_000
	var below, sum, sq float64
	for i := int64(1); i <= n; i++ {
		u := burstDraw(42, i)
		if u <= 0 || u >= 1 {
			t.Fatalf("burstDraw(42, %d) = %v, outside (0, 1)", i, u)
		}
		if u < 0.25 {
			below++
		}
		z := investDraw(42, "alice", strconv.FormatInt(i, 10))
		sum += z
		sq += z * z
	}
	if f := below / n; math.Abs(f-0.25) > 0.01 {
		t.Errorf("%.3f of the burst draws are below 0.25; want 0.25", f)
	}
	mean, sd := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
	if math.Abs(mean) > 0.02 || math.Abs(sd-1) > 0.02 {
		t.Errorf("invest draws have mean %v and standard deviation %v; want 0 and 1", mean, sd)
	}
}

// The construction is documented in random.go so that another implementation can reproduce
// it; these values pin it, so that a change to it cannot go unnoticed.
func TestDrawConstructionIsPinned(t *testing.T) {
	if got := mix(0); got != 0xE220A8397B1DCDAF {
		t.Errorf("mix(0) = %#x; want 0xE220A8397B1DCDAF (splitmix64)", got)
	}
	if got := fnv64("a"); got != 0xAF63DC4C8601EC8C {
		t.Errorf("fnv64(a) = %#x; want 0xAF63DC4C8601EC8C (FNV-1a)", got)
	}
	if uniform(0) != 0x1p-54 || uniform(math.MaxUint64) != 1-0x1p-54 {
		t.Errorf("uniform bounds = %v, %v", uniform(0), uniform(math.MaxUint64))
	}
}
