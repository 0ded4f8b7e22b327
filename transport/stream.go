package transport

// nextText splits the next message off a json or cbor stream (see
// frame.JSONSplitter.Next for the results). For cbor it also records
// how many bytes the pending item needs when its header says so, so that
// the reader makes room for all of it at once.
func (r *reader) nextText(data []byte) (msg []byte, n int, err error) {
	if !r.l.recvCBOR {
		return r.json.Next(data)
	}
	msg, n, err = r.cbor.Next(data)
	if n == 0 && err == nil {
		r.need = r.cbor.Need()
	}
	return msg, n, err
}
