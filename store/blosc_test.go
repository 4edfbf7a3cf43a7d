package store

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func putU64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }
func crc(b []byte) uint32       { return crc32.Checksum(b, castagnoli) }

func TestBloscRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 65536)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	smooth := make([]byte, 65536)
	for i := 0; i < len(smooth); i += 2 {
		binary.LittleEndian.PutUint16(smooth[i:], uint16(int16(-900+r.IntN(40))))
	}
	tests := []struct {
		name     string
		data     []byte
		typesize int
		shuffle  bool
		hc       bool
		memcpy   bool
	}{
		{"int16 shuffled", smooth, 2, true, false, false},
		{"int16 unshuffled", smooth, 2, false, false, false},
		{"int16 hc", smooth, 2, true, true, false},
		{"uint8", bytes.Repeat([]byte{0, 3, 3, 4}, 8192), 1, true, false, false},
		{"noise falls back to a copy", noise, 2, true, false, true},
		{"tiny", []byte{1, 2, 3}, 1, true, false, true},
		{"odd typesize", bytes.Repeat([]byte{1, 2, 3, 4, 5}, 200), 3, true, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frame := newBloscEncoder(tc.shuffle, tc.hc).Encode(nil, tc.data, tc.typesize)
			if got := int(binary.LittleEndian.Uint32(frame[12:])); got != len(frame) {
				t.Errorf("cbytes %d, frame %d", got, len(frame))
			}
			if memcpyed := frame[2]&bloscFlagMemcpyed != 0; memcpyed != tc.memcpy {
				t.Errorf("memcpyed = %v", memcpyed)
			}
			out := make([]byte, len(tc.data))
			if _, err := bloscDecode(out, frame, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, tc.data) {
				t.Error("round trip differs")
			}
		})
	}
}

func TestBloscFrameLayout(t *testing.T) {
	// A 32³ int16 chunk: one block, two split streams, bstarts[0] = 20.
	data := make([]byte, 65536)
	for i := range data {
		data[i] = byte(i / 7)
	}
	f := newBloscEncoder(true, false).Encode(nil, data, 2)
	if f[0] != 2 || f[1] != 1 || f[2] != 0x21 || f[3] != 2 {
		t.Errorf("header % x", f[:4])
	}
	if bs := binary.LittleEndian.Uint32(f[8:]); bs != 65536 {
		t.Errorf("blocksize %d", bs)
	}
	if bstart := binary.LittleEndian.Uint32(f[16:]); bstart != 20 {
		t.Errorf("bstarts[0] = %d", bstart)
	}
}

func TestBloscDecodeRejects(t *testing.T) {
	good := newBloscEncoder(true, false).Encode(nil, bytes.Repeat([]byte{1, 2, 3, 4}, 1000), 2)
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := map[string][]byte{
		"short":        good[:10],
		"bad version":  mut(func(b []byte) []byte { b[0] = 9; return b }),
		"wrong nbytes": mut(func(b []byte) []byte { b[4]++; return b }),
		"cbytes big":   mut(func(b []byte) []byte { b[12] = 0xff; b[13] = 0xff; return b }),
		"bitshuffle":   mut(func(b []byte) []byte { b[2] |= bloscFlagBitShuf; return b }),
		"zlib":         mut(func(b []byte) []byte { b[2] = b[2]&0x1f | 3<<5; return b }),
		"bad bstart":   mut(func(b []byte) []byte { b[16] = 0xf0; b[17] = 0xff; return b }),
		"bad stream":   mut(func(b []byte) []byte { b[20] = 0xff; b[21] = 0x7f; return b }),
		"truncated":    good[:len(good)-5],
		"zero type":    mut(func(b []byte) []byte { b[3] = 0; return b }),
	}
	for name, f := range tests {
		out := make([]byte, 4000)
		if _, err := bloscDecode(out, f, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzBloscDecode(f *testing.F) {
	f.Add(newBloscEncoder(true, false).Encode(nil, bytes.Repeat([]byte{1, 2, 3, 4}, 100), 2), 400)
	f.Fuzz(func(t *testing.T, frame []byte, n int) {
		if n < 0 || n > 1<<20 {
			return
		}
		bloscDecode(make([]byte, n), frame, nil) // must not panic
	})
}

func TestShuffleOddLengths(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 64, 65535, 65536} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*7 + 3)
		}
		mid, back := make([]byte, n), make([]byte, n)
		shuffleBytes(mid, src, 2)
		for i := range n / 2 {
			if mid[i] != src[2*i] || mid[n/2+i] != src[2*i+1] {
				t.Fatalf("n=%d: shuffle wrong at %d", n, i)
			}
		}
		unshuffleBytes(back, mid, 2)
		if !bytes.Equal(back, src) {
			t.Fatalf("n=%d: round trip differs", n)
		}
	}
}
