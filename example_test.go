package aemp_test

import (
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/aemp-go/aemp"
)

// The tutorial's first example: a port, a handler for the tag "test", and
// a message sent to it.
func Example() {
	node, _ := aemp.NewNode(aemp.Config{})
	defer node.Close()

	end := make(chan int64)
	port := node.NewPort()
	port.Rcv("test", func(m *aemp.Msg) error {
		data, err := m.Int(1)
		end <- data
		return err
	})
	node.Snd(port.ID(), "test", 123)
	fmt.Println("Ending with:", <-end)
	// Output: Ending with: 123
}

// Ports are created by a node; their IDs are "<node ID>#<local part>".
func ExampleNode_NewPort() {
	node, _ := aemp.NewNode(aemp.Config{NodeID: "example/"})
	defer node.Close()

	p := node.NewPort()
	fmt.Println(p.ID().Node() == node.ID(), p.ID().Local())
	// Output: true b
}

// Rcv registers one handler per tag; RcvDefault takes the rest. Handlers
// of one port run one at a time, in order.
func ExamplePort_Rcv() {
	node, _ := aemp.NewNode(aemp.Config{})
	defer node.Close()

	done := make(chan struct{})
	p := node.NewPort()
	p.Rcv("add", func(m *aemp.Msg) error {
		var a, b int
		if err := m.Scan(&a, &b); err != nil {
			return err
		}
		fmt.Println("add:", a+b)
		return nil
	}).RcvDefault(func(m *aemp.Msg) error {
		fmt.Println("other:", m.Tag())
		close(done)
		return nil
	})

	node.Snd(p.ID(), "add", 2, 3)
	node.Snd(p.ID(), "mul", 2, 3)
	<-done
	// Output:
	// add: 5
	// other: mul
}

// Snd also works with messages built without boxing the arguments.
func ExampleNode_SndMsg() {
	node, _ := aemp.NewNode(aemp.Config{})
	defer node.Close()

	got := make(chan string)
	p := node.NewPortFunc(func(m *aemp.Msg) error {
		n, _ := m.Int(1)
		s, _ := m.String(2)
		got <- fmt.Sprint(m.Tag(), " ", n, " ", s)
		return nil
	})
	node.SndMsg(p.ID(), aemp.NewMsg("order").AppendInt(42).AppendString("pizza"))
	fmt.Println(<-got)
	// Output: order 42 pizza
}

// Kill ends a port with a reason; its monitors receive the reason.
func ExampleNode_Kill() {
	node, _ := aemp.NewNode(aemp.Config{})
	defer node.Close()

	p := node.NewPort()
	reason := make(chan aemp.Reason)
	node.Mon(p.ID(), aemp.MonFunc(func(r aemp.Reason) { reason <- r }))

	node.Kill(p.ID(), "my_error", "custom reason text", 42)
	fmt.Println(<-reason)
	// Output: ["my_error","custom reason text",42]
}

// A handler that returns an error (or panics) kills its port with
// ("die", text).
func ExampleHandler_die() {
	node, _ := aemp.NewNode(aemp.Config{})
	defer node.Close()

	p := node.NewPortFunc(func(m *aemp.Msg) error { return fmt.Errorf("boom") })
	reason := make(chan aemp.Reason)
	node.Mon(p.ID(), aemp.MonFunc(func(r aemp.Reason) { reason <- r }))
	node.Snd(p.ID(), "anything")
	r := <-reason
	fmt.Println(r.Kind(), r.Text())
	// Output: die boom
}

// The three forms of monitor: a callback, a link (kill the monitoring port
// too), and a message to another port.
func ExampleNode_Mon() {
	node, _ := aemp.NewNode(aemp.Config{})
	defer node.Close()

	worker := node.NewPort()
	supervisor := make(chan string, 1)
	inbox := node.NewPortFunc(func(m *aemp.Msg) error {
		vals, _ := m.Values()
		supervisor <- fmt.Sprint(vals)
		return nil
	})
	node.Mon(worker.ID(), aemp.MonSend(inbox.ID(), "worker_died", worker.ID()))

	linked := node.NewPortFunc(func(*aemp.Msg) error { return nil })
	linked.Mon(worker.ID()) // dies with the worker, with the same reason
	linkedReason := make(chan aemp.Reason)
	node.Mon(linked.ID(), aemp.MonFunc(func(r aemp.Reason) { linkedReason <- r }))

	worker.Kill("crashed", "disk full")
	fmt.Println((<-supervisor)[:12])
	fmt.Println(<-linkedReason)
	// Output:
	// [worker_died
	// ["crashed","disk full"]
}

// Monitoring a port that does not exist fires at once with no_such_port.
func ExampleNode_Mon_noSuchPort() {
	node, _ := aemp.NewNode(aemp.Config{NodeID: "n1"})
	defer node.Close()

	reason := make(chan aemp.Reason)
	node.Mon("n1#nonexistent", aemp.MonFunc(func(r aemp.Reason) { reason <- r }))
	fmt.Println(<-reason)
	// Output: ["no_such_port","cannot monitor nonexistent port","n1#nonexistent"]
}

// After runs a function in port context later; Exec runs one now, both
// serialised with the port's handlers.
func ExamplePort_After() {
	node, _ := aemp.NewNode(aemp.Config{})
	defer node.Close()

	done := make(chan struct{})
	p := node.NewPortFunc(func(*aemp.Msg) error { return nil })
	p.Exec(func() error { fmt.Println("now"); return nil })
	p.After(10*time.Millisecond, func() error {
		fmt.Println("later")
		close(done)
		return nil
	})
	<-done
	// Output:
	// now
	// later
}

// Between two Go nodes a []byte travels as raw bytes; BytesView reads it
// in place in the network buffer (valid while the handler runs), Bytes
// returns a copy to keep.
func ExampleMsg_BytesView() {
	quiet := slog.New(slog.DiscardHandler)
	a, _ := aemp.NewNode(aemp.Config{NodeID: "a", Binds: []string{"127.0.0.1:0"}, Secret: "s", Logger: quiet})
	defer a.Close()
	b, _ := aemp.NewNode(aemp.Config{NodeID: "b", Binds: []string{"127.0.0.1:0"}, Secret: "s", Logger: quiet})
	defer b.Close()
	b.AddNode("a", a.Binds()...)

	got := make(chan string)
	sink := a.NewPortFunc(func(m *aemp.Msg) error {
		body, err := m.BytesView(1)
		if err != nil {
			return err
		}
		sum := 0
		for _, c := range body {
			sum += int(c)
		}
		got <- fmt.Sprint(len(body), " bytes, sum ", sum)
		return nil
	})

	body := make([]byte, 1<<16)
	for i := range body {
		body[i] = byte(i)
	}
	b.SndMsg(sink.ID(), aemp.NewMsg("data").AppendBytes(body))
	fmt.Println(<-got)
	// Output: 65536 bytes, sum 8355840
}

// The global database on one global node: a service registers a port under
// a family, and a subscriber learns of it. Across nodes the code is the
// same; the nodes name their seeds in Config.Seeds.
func ExampleNode_DBMon() {
	node, _ := aemp.NewNode(aemp.Config{NodeID: "example", Global: true})
	defer node.Close()

	changes := make(chan aemp.DBChange, 4)
	mon := node.DBMon("printers", func(c aemp.DBChange) {
		c.Values = maps.Clone(c.Values) // Values is valid during the callback only
		changes <- c
	})
	defer mon.Cancel()
	c := <-changes // the family as the master has it: empty
	fmt.Println(len(c.Values), c.Added)

	printer := node.NewPortFunc(func(*aemp.Msg) error { return nil })
	node.DBReg("printers", printer.ID(), "2nd floor")
	c = <-changes
	fmt.Println(c.Added[0] == string(printer.ID()), c.Values[string(printer.ID())])

	printer.Kill() // a registered port leaves the database when it dies
	c = <-changes
	fmt.Println(len(c.Values), c.Deleted[0] == string(printer.ID()))
	// Output:
	// 0 []
	// true 2nd floor
	// 0 true
}
