package mesh

import "net"

// Published lists the bound addresses as other nodes can dial them, for
// the global database's family 'l: a listener on the unspecified address
// (0.0.0.0, ::) is published with each interface address (loopback only
// if there is nothing else), as AnyEvent::MP expands "*".
func (m *Mesh) Published() []string {
	var out []string
	for _, b := range m.binds {
		host, port, err := net.SplitHostPort(b)
		if err != nil {
			continue
		}
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsUnspecified() {
			out = append(out, b)
			continue
		}
		var loop []string
		addrs, _ := net.InterfaceAddrs()
		n := len(out)
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() || ip.To4() != nil && ipn.IP.To4() == nil {
				continue
			}
			hp := net.JoinHostPort(ipn.IP.String(), port)
			if ipn.IP.IsLoopback() {
				loop = append(loop, hp)
			} else {
				out = append(out, hp)
			}
		}
		if len(out) == n {
			out = append(out, loop...)
		}
	}
	return out
}
