package main

import (
	"testing"
	"time"
)

// A node counts each change once, in order; a repeat is ignored, anything
// else fails the run.
func TestNextChange(t *testing.T) {
	next := 0
	steps := []struct {
		v      string
		k      int
		isNew  bool
		failed bool
	}{
		{changeValue(0), 0, true, false},
		{changeValue(0), 0, false, false}, // a repeat of round 0
		{changeValue(2), 0, false, true},  // round 1 skipped
		{changeValue(1), 1, true, false},
		{"value", 0, false, true},
		{"change-01", 0, false, true}, // not what changeValue makes
		{changeValue(meshChanges), 0, false, true},
	}
	for i, s := range steps {
		k, isNew, err := nextChange(&next, s.v)
		if (err != nil) != s.failed || isNew != s.isNew || isNew && k != s.k {
			t.Errorf("step %d (%q): got round %d new %v err %v", i, s.v, k, isNew, err)
		}
	}
	if next != 2 {
		t.Errorf("next = %d, want 2", next)
	}
}

// seen closes a round once every node has seen it, and records when.
func TestChangeRoundsSeen(t *testing.T) {
	c := newChangeRounds(2)
	c.seen(0)
	select {
	case <-c.done[0]:
		t.Fatal("round 0 done after one of two nodes")
	default:
	}
	before := time.Now()
	c.seen(0)
	select {
	case <-c.done[0]:
	default:
		t.Fatal("round 0 not done after both nodes")
	}
	if c.at[0].Before(before) {
		t.Errorf("round 0 done at %v, before its last node (%v)", c.at[0], before)
	}
}

// timeChanges makes the rounds in order and reports the median of their
// times (here set by the test: round k took delays[k]).
func TestTimeChangesMedian(t *testing.T) {
	c := newChangeRounds(1)
	delays := []time.Duration{9, 1, 8, 2, 7, 3, 6, 4, 5} // seconds; median 5
	if len(delays) != meshChanges {
		t.Fatalf("%d delays for %d changes", len(delays), meshChanges)
	}
	var order []int
	put := func(k int) error {
		order = append(order, k)
		c.at[k] = time.Now().Add(delays[k] * time.Second)
		close(c.done[k])
		return nil
	}
	wait := func(ch <-chan struct{}, _ int) error { <-ch; return nil }
	med, err := timeChanges(c, put, wait)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(med); d < 5*time.Second || d >= 5*time.Second+500*time.Millisecond {
		t.Errorf("median %v, want 5s", d)
	}
	for k, got := range order {
		if got != k {
			t.Fatalf("rounds made in order %v", order)
		}
	}
}
