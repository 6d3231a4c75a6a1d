package log

import "hash/crc32"

// ieeeUntable inverts one byte step of the reflected CRC-32 (IEEE) register update: the top bytes of the 256
// table entries are all different, so the top byte of the register after a step names the entry used.
var ieeeUntable = func() (inv [256]uint8) {
	for i, v := range crc32.IEEETable {
		inv[v>>24] = uint8(i)
	}
	return inv
}()

// legacyCRC is crc32.ChecksumIEEE(b[at:]), the checksum of a magic 0/1 message, for a message whose 16 bytes
// before at are already written (offset, size and the CRC field). On amd64 the standard library folds 16-byte
// blocks with carry-less multiplication and then takes the remaining len%16 bytes one at a time; for a 100-byte
// value (110 bytes checksummed) those 14 single steps cost more than the 96 folded bytes. When the remainder is
// large, the checksum instead starts up to 7 bytes early, from the register state that those known bytes carry to
// the standard initial state (found by running the byte step backwards), so that the length is a multiple of 16.
func legacyCRC(b []byte, at int) uint32 {
	n := len(b) - at
	r := n % 16
	if n < 64 || r < 9 || at < 16-r {
		return crc32.ChecksumIEEE(b[at:])
	}
	from := at - (16 - r)
	reg := ^uint32(0) // the register's state wanted at b[at]
	for i := at - 1; i >= from; i-- {
		e := ieeeUntable[reg>>24]
		reg = (reg^crc32.IEEETable[e])<<8 | uint32(e^b[i])
	}
	return crc32.Update(^reg, crc32.IEEETable, b[from:])
}
