package loadgen

import (
	"math"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var oneToThousand Histogram // 1µs .. 1000µs, one each
	for i := 1; i <= 1000; i++ {
		oneToThousand.Record(time.Duration(i) * time.Microsecond)
	}
	var small Histogram // exact below 64ns
	for _, v := range []time.Duration{5, 1, 3, 2, 4} {
		small.Record(v)
	}
	var skewed Histogram // 99 fast, 1 slow
	for range 99 {
		skewed.Record(time.Millisecond)
	}
	skewed.Record(time.Second)
	tests := []struct {
		name string
		h    *Histogram
		q    float64
		want time.Duration
	}{
		{"p50", &oneToThousand, 0.50, 500 * time.Microsecond},
		{"p90", &oneToThousand, 0.90, 900 * time.Microsecond},
		{"p99", &oneToThousand, 0.99, 990 * time.Microsecond},
		{"p100 is max", &oneToThousand, 1, 1000 * time.Microsecond},
		{"tiny q is the minimum", &oneToThousand, 1e-9, time.Microsecond},
		{"exact small p50", &small, 0.5, 3},
		{"exact small p80", &small, 0.8, 4},
		{"p99 of 100 ignores the one outlier", &skewed, 0.99, time.Millisecond},
		{"p100 of 100 is the outlier", &skewed, 1, time.Second},
		{"empty", &Histogram{}, 0.99, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.h.Quantile(tc.q)
			if rel := math.Abs(float64(got-tc.want)) / math.Max(float64(tc.want), 1); rel > 1.0/64 {
				t.Fatalf("Quantile(%v) = %v, want %v ±1.6%%", tc.q, got, tc.want)
			}
		})
	}
	if oneToThousand.Max() != time.Millisecond || oneToThousand.Count() != 1000 {
		t.Fatalf("max %v count %d", oneToThousand.Max(), oneToThousand.Count())
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b Histogram
	for i := 1; i <= 50; i++ {
		a.Record(time.Duration(i) * time.Millisecond)
		b.Record(time.Duration(i+50) * time.Millisecond)
	}
	a.Merge(&b)
	if a.Count() != 100 || a.Max() != 100*time.Millisecond {
		t.Fatalf("count %d max %v", a.Count(), a.Max())
	}
	if got := a.Quantile(0.5); got < 49*time.Millisecond || got > 51*time.Millisecond {
		t.Fatalf("merged p50 = %v", got)
	}
}

func TestBucketsCoverEveryValue(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 40, math.MaxInt64} {
		i := bucketOf(v)
		if i < 0 || i >= nBuckets {
			t.Fatalf("bucketOf(%d) = %d out of range", v, i)
		}
		if mid := bucketMid(i); math.Abs(float64(mid)-float64(v)) > float64(v)/64+1 {
			t.Fatalf("bucketMid(bucketOf(%d)) = %d", v, mid)
		}
	}
}
