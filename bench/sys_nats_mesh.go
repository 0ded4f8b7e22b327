package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATS JetStream KV: the NATS analogue of a replicated registry with change
// notifications (W5). One embedded nats-server with JetStream holds an
// in-memory KeyValue bucket; every node is one nats.go connection that binds
// the bucket, watches all of its keys and puts its own key. Every put and
// every watcher update goes node → server → node: brokered, the server is the
// only replica. The server is started before the clock starts, as
// infrastructure; the nodes are the connections.
func init() {
	register(&System{
		Order: 11,
		Key:   "nats-kv",
		Name:  "NATS JetStream KV",
		Group: "peer",
		Note: "brokered registry: embedded nats-server v2 on 127.0.0.1 with JetStream (memory storage, default limits; started before timing), " +
			"one KeyValue bucket (memory storage, replicas 1, history 1); node = one nats.go connection (NoReconnect) that creates or binds the bucket, " +
			"runs WatchAll (an ordered push consumer) and puts node.<i>; all nodes start concurrently; formed when every watcher has seen all n node keys; " +
			"change = one Put of bench.change by the last node, done when every watcher (its own included) has seen it",
		Mesh: natsMesh{},
	})
}

const (
	natsMeshBucket  = "mesh"           // the KeyValue bucket every node binds
	natsMeshChange  = "bench.change"   // the key of the registry change
	natsMeshTimeout = 60 * time.Second // bounds one FormMesh: a stuck run fails instead of hanging
)

// natsMesh forms the W5 mesh over one JetStream KeyValue bucket.
type natsMesh struct{}

// natsMeshNodeValue is what node i puts under its key node.<i>: its name and
// the server it reaches the registry through.
func natsMeshNodeValue(url string, i int) string {
	return "bench-mesh-" + strconv.Itoa(i) + "@" + url
}

// natsMeshRun is the state of one FormMesh call shared by the node and
// watcher goroutines.
type natsMeshRun struct {
	n   int
	url string

	nodes []*natsMeshNode // index = node; set by the node's start goroutine

	formedLeft atomic.Int64  // watchers that have not yet seen all node keys
	formed     chan struct{} // closed when formedLeft reaches 0
	changed    *changeRounds // the watchers that have yet to see each change

	failOnce sync.Once
	failErr  error
	failed   chan struct{} // closed on the first error; failErr is then set

	drains  sync.WaitGroup // one per started watcher, until its Updates channel closes
	closing atomic.Bool    // set by close: a watcher channel closing is expected
}

// natsMeshNode is one node: its connection, bucket handle and watcher, and
// the times its watcher completed the mesh and saw the change.
type natsMeshNode struct {
	nc       *nats.Conn
	kv       jetstream.KeyValue
	watch    jetstream.KeyWatcher
	formedAt time.Time // written by the watcher goroutine before formedLeft is decremented
}

// fail records the first error and wakes the waiting FormMesh.
func (r *natsMeshRun) fail(err error) {
	r.failOnce.Do(func() {
		r.failErr = err
		close(r.failed)
	})
}

// wait blocks until done is closed, a node fails or ctx ends.
func (r *natsMeshRun) wait(ctx context.Context, done <-chan struct{}, what string) error {
	select {
	case <-done:
		return nil
	case <-r.failed:
		return r.failErr
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
}

func (natsMesh) FormMesh(n int) (times MeshTimes, err error) {
	if n < 1 {
		return MeshTimes{}, fmt.Errorf("nats-kv mesh: %d nodes", n)
	}
	dir, err := os.MkdirTemp("", "bench-nats-kv-")
	if err != nil {
		return MeshTimes{}, fmt.Errorf("jetstream store dir: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
			err = fmt.Errorf("remove jetstream store dir: %w", rmErr)
		}
	}()
	// One KV watcher (an ephemeral consumer) per node: lift the server's
	// default of 1,000 consumers per stream for n = 1,024.
	srv, err := startNATSServer(server.Options{JetStream: true, StoreDir: dir,
		JetStreamLimits: server.JSLimitOpts{DefaultMaxConsumers: -1}})
	if err != nil {
		return MeshTimes{}, err
	}
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	}()
	if !srv.JetStreamEnabled() {
		return MeshTimes{}, errors.New("nats-server started without JetStream")
	}

	ctx, cancel := context.WithTimeout(context.Background(), natsMeshTimeout)
	defer cancel()
	r := &natsMeshRun{
		n:       n,
		url:     srv.ClientURL(),
		nodes:   make([]*natsMeshNode, n),
		formed:  make(chan struct{}),
		changed: newChangeRounds(n),
		failed:  make(chan struct{}),
	}
	r.formedLeft.Store(int64(n))
	var starts sync.WaitGroup
	defer r.close(&starts, cancel)

	// Formation: every node starts at once; the clock runs from just before
	// the first connection until the last watcher has seen all n node keys.
	base := meshFootprint()
	start := time.Now()
	for i := range n {
		starts.Go(func() {
			if err := r.startNode(ctx, i); err != nil {
				r.fail(fmt.Errorf("node %d: %w", i, err))
			}
		})
	}
	if err := r.wait(ctx, r.formed, fmt.Sprintf("full mesh of %d nodes", n)); err != nil {
		return MeshTimes{}, err
	}
	for _, nd := range r.nodes {
		if d := nd.formedAt.Sub(start).Nanoseconds(); d > times.FormNs {
			times.FormNs = d
		}
	}
	times.RSSPerNode = (meshFootprint() - base) / int64(n)

	// Propagation: the last node changes the registry, meshChanges times;
	// the clock runs from just before its Put until the last watcher has
	// seen the change (the median of the changes).
	last := r.nodes[n-1]
	times.PropagateNs, err = timeChanges(r.changed,
		func(k int) error {
			if _, err := last.kv.PutString(ctx, natsMeshChange, changeValue(k)); err != nil {
				return fmt.Errorf("node %d: put %s: %w", n-1, natsMeshChange, err)
			}
			return nil
		},
		func(ch <-chan struct{}, k int) error {
			return r.wait(ctx, ch, fmt.Sprintf("registry change %d on all nodes", k))
		})
	if err != nil {
		return MeshTimes{}, err
	}
	return times, nil
}

// startNode connects node i, creates or binds the bucket, starts its watcher
// and puts its own key.
func (r *natsMeshRun) startNode(ctx context.Context, i int) error {
	nc, err := nats.Connect(r.url, nats.Name("bench-mesh-"+strconv.Itoa(i)), nats.NoReconnect())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	nd := &natsMeshNode{nc: nc}
	r.nodes[i] = nd // read by close after starts.Wait and by FormMesh after formed
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	cfg := jetstream.KeyValueConfig{
		Bucket:   natsMeshBucket,
		Storage:  jetstream.MemoryStorage,
		Replicas: 1,
		History:  1,
	}
	kv, err := js.CreateKeyValue(ctx, cfg)
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, natsMeshBucket)
	}
	if err != nil {
		return fmt.Errorf("bucket %s: %w", natsMeshBucket, err)
	}
	nd.kv = kv
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch bucket %s: %w", natsMeshBucket, err)
	}
	nd.watch = w
	r.drains.Add(1)
	go r.drain(i, w.Updates())
	if _, err := kv.PutString(ctx, "node."+strconv.Itoa(i), natsMeshNodeValue(r.url, i)); err != nil {
		return fmt.Errorf("put node.%d: %w", i, err)
	}
	return nil
}

// drain reads node i's watcher until its channel is closed (the watcher is
// stopped or the connection closed), so the watcher's callback never blocks;
// a channel that closes before close is called fails the run.
// It verifies every entry: node.<j> with j < n and the value node j put, or
// the change with the value the last node put, always as puts. The nil
// entry that ends the initial values carries nothing and is skipped.
func (r *natsMeshRun) drain(i int, updates <-chan jetstream.KeyValueEntry) {
	defer r.drains.Done()
	nd := r.nodes[i]
	seen := make([]bool, r.n)
	nodes, next := 0, 0
	for e := range updates {
		if e == nil {
			continue
		}
		key, val := e.Key(), string(e.Value())
		if e.Operation() != jetstream.KeyValuePut {
			r.fail(fmt.Errorf("node %d: watcher saw %s of %q", i, e.Operation(), key))
			continue
		}
		if key == natsMeshChange {
			k, isNew, err := nextChange(&next, val)
			if err != nil {
				r.fail(fmt.Errorf("node %d: watcher: %s: %w", i, key, err))
				continue
			}
			if isNew {
				r.changed.seen(k)
			}
			continue
		}
		j, err := strconv.Atoi(strings.TrimPrefix(key, "node."))
		if !strings.HasPrefix(key, "node.") || err != nil || j < 0 || j >= r.n {
			r.fail(fmt.Errorf("node %d: watcher saw unexpected key %q", i, key))
			continue
		}
		if want := natsMeshNodeValue(r.url, j); val != want {
			r.fail(fmt.Errorf("node %d: watcher saw %s = %q, want %q", i, key, val, want))
			continue
		}
		if seen[j] {
			continue
		}
		seen[j] = true
		if nodes++; nodes == r.n {
			nd.formedAt = time.Now()
			if r.formedLeft.Add(-1) == 0 {
				close(r.formed)
			}
		}
	}
	if !r.closing.Load() {
		r.fail(fmt.Errorf("node %d: watcher closed before the run ended", i))
	}
}

// close cancels what is still under way, waits for the start goroutines,
// stops every watcher and closes every connection, then waits for the
// watcher goroutines, whose channels close with their subscriptions.
func (r *natsMeshRun) close(starts *sync.WaitGroup, cancel context.CancelFunc) {
	r.closing.Store(true)
	cancel()
	starts.Wait()
	for _, nd := range r.nodes {
		if nd == nil {
			continue
		}
		if nd.watch != nil {
			nd.watch.Stop()
		}
		nd.nc.Close()
	}
	r.drains.Wait()
}
