// Command first is the tutorial's first example ("Passing Your First
// Message"): create a port, register a handler for the tag "test", send
// ["test", 123] to it and print what arrives.
//
//	go run ./examples/first
//	Ending with: 123
package main

import (
	"fmt"
	"log"

	"github.com/aemp-go/aemp"
)

func main() {
	node, err := aemp.NewNode(aemp.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Close()

	end := make(chan int64, 1)

	port := node.NewPort()
	port.Rcv("test", func(m *aemp.Msg) error {
		data, err := m.Int(1)
		if err != nil {
			return err
		}
		end <- data
		return nil
	})

	if err := node.Snd(port.ID(), "test", 123); err != nil {
		log.Fatal(err)
	}

	fmt.Println("Ending with:", <-end)
}
