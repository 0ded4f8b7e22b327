package mesh

import "net"

// Published lists the bound addresses as other nodes can dial them, for
// the global database's family 'l: a listener on the unspecified address
// (0.0.0.0, ::) is published with each interface address that AnyEvent::MP
// publishes for "*" (spec §1.7: IPv4 except 127/8 and link-local, IPv6
// global unicast 2000::/3 and unique-local fc00::/7 only; an IPv4
// listener gets IPv4 addresses only). Where Perl would publish nothing
// (loopback is all there is), the loopback addresses are published, so
// that a node on a machine without a network is still reachable locally.
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
			if !ok || ip.To4() != nil && ipn.IP.To4() == nil {
				continue
			}
			hp := net.JoinHostPort(ipn.IP.String(), port)
			switch {
			case publishable(ipn.IP):
				out = append(out, hp)
			case ipn.IP.IsLoopback():
				loop = append(loop, hp)
			}
		}
		if len(out) == n {
			out = append(out, loop...)
		}
	}
	return out
}

// publishable reports whether AnyEvent::MP publishes an interface address
// for a "*" bind.
func publishable(ip net.IP) bool {
	if v4 := ip.To4(); v4 != nil {
		return !v4.IsLoopback() && !v4.IsLinkLocalUnicast() && !v4.IsUnspecified()
	}
	if len(ip) != net.IPv6len {
		return false
	}
	return ip[0]&0xe0 == 0x20 || ip[0]&0xfe == 0xfc // 2000::/3, fc00::/7
}
