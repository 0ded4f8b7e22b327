package main

// B2 is the local limit: a buffered Go channel per flow drained by one
// receiving goroutine.
func init() {
	register(&System{
		Order: 2,
		Key:   "b2",
		Name:  "B2 Go channel",
		Group: "baseline",
		Note:  "buffered chan Msg (capacity 1024) per flow, one receiving goroutine (the local limit)",
		Local: chanSystem{},
	})
}

type chanSystem struct{}

// chanEndpoint sends into a channel.
type chanEndpoint chan Msg

func (c chanEndpoint) Send(m Msg) error {
	c <- m
	return nil
}

func (chanSystem) OpenLocal(_ PairConfig, recv []Handler) ([]Endpoint, func() error, error) {
	send := make([]Endpoint, len(recv))
	chans := make([]chan Msg, len(recv))
	for i, h := range recv {
		ch := make(chan Msg, 1024)
		chans[i], send[i] = ch, chanEndpoint(ch)
		go func() {
			for m := range ch {
				h(m)
			}
		}()
	}
	return send, func() error {
		for _, ch := range chans {
			close(ch)
		}
		return nil
	}, nil
}
