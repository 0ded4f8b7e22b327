package transport_test

import (
	"context"
	"fmt"

	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/transport"
)

type printer struct{ got chan string }

func (p printer) OnMessage(buf *pool.Buf, msg []byte) { p.got <- string(msg) }
func (p printer) OnClose(err error)                   {}

// Two links over loopback TCP (after the handshake, which this example
// skips): one sends with goframe1, the other with json.
func ExampleNewLink() {
	cfg := transport.Config{}
	ln, _ := transport.Listen("127.0.0.1:0", cfg)
	defer ln.Close()
	accepted := make(chan *transport.Link, 1)
	recvB := printer{got: make(chan string, 1)}
	go func() {
		conn, _ := ln.Accept()
		l, _ := transport.NewLink(conn, nil, "json", "goframe1", recvB, cfg)
		accepted <- l
	}()
	conn, _ := transport.Dial(context.Background(), ln.Addr().String(), cfg)
	recvA := printer{got: make(chan string, 1)}
	a, _ := transport.NewLink(conn, nil, "goframe1", "json", recvA, cfg)
	b := <-accepted

	// Append one envelope to the outbound batch and commit it.
	buf := a.Begin()
	buf = append(buf, `["port","hello",1]`...)
	if err := a.Commit(buf); err != nil {
		fmt.Println(err)
	}
	fmt.Println("B got", <-recvB.got)

	b.Send([]byte(`["port","world",2]`))
	fmt.Println("A got", <-recvA.got)

	a.Close()
	b.Close()
	// Output:
	// B got ["port","hello",1]
	// A got ["port","world",2]
}
