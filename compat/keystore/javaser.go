package keystore

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Java object serialization (the stream protocol of java.io.ObjectOutputStream), read only far enough to know
// where one object ends: a JCEKS secret-key entry is a SealedObject written by an ObjectOutputStream of its own,
// with no length before it.

// Type codes of the serialization stream protocol.
const (
	tcNull           = 0x70
	tcReference      = 0x71
	tcClassDesc      = 0x72
	tcObject         = 0x73
	tcString         = 0x74
	tcArray          = 0x75
	tcClass          = 0x76
	tcBlockData      = 0x77
	tcEndBlockData   = 0x78
	tcReset          = 0x79
	tcBlockDataLong  = 0x7a
	tcException      = 0x7b
	tcLongString     = 0x7c
	tcProxyClassDesc = 0x7d
	tcEnum           = 0x7e
)

// Class descriptor flags.
const (
	scWriteMethod    = 0x01
	scSerializable   = 0x02
	scExternalizable = 0x04
	scBlockData      = 0x08
)

const (
	javaStreamMagic   = 0xaced
	javaStreamVersion = 5
	javaBaseHandle    = 0x7e0000
	javaMaxDepth      = 64
)

type javaField struct {
	typecode byte
	class    string // for 'L' and '[': the field's type signature
}

type javaClassDesc struct {
	name   string
	flags  byte
	fields []javaField
	super  *javaClassDesc
}

// javaStream walks a serialization stream; handles holds what each handle names (a class descriptor, or nil).
type javaStream struct {
	r       jceksReader
	handles []*javaClassDesc
	depth   int
}

// skipJavaObject reads a stream header and one object from b and returns how many bytes they take.
func skipJavaObject(b []byte) (int, error) {
	s := &javaStream{r: jceksReader{b: b}}
	hdr := s.r.next(4)
	if s.r.err != nil {
		return 0, s.r.err
	}
	if binary.BigEndian.Uint16(hdr) != javaStreamMagic || binary.BigEndian.Uint16(hdr[2:]) != javaStreamVersion {
		return 0, errors.New("not a Java serialization stream")
	}
	s.content()
	if s.r.err != nil {
		return 0, fmt.Errorf("serialized object: %w", s.r.err)
	}
	return s.r.off, nil
}

func (s *javaStream) fail(format string, args ...any) {
	if s.r.err == nil {
		s.r.err = fmt.Errorf(format, args...)
	}
}

func (s *javaStream) u8() byte {
	if b := s.r.next(1); b != nil {
		return b[0]
	}
	return 0
}

func (s *javaStream) newHandle(d *javaClassDesc) { s.handles = append(s.handles, d) }

// handle reads a reference's handle and gives what it names.
func (s *javaStream) handle() *javaClassDesc {
	h := int(int32(s.r.u32())) - javaBaseHandle
	if s.r.err == nil && (h < 0 || h >= len(s.handles)) {
		s.fail("reference to unknown handle %#x", h+javaBaseHandle)
		return nil
	}
	if s.r.err != nil {
		return nil
	}
	return s.handles[h]
}

// content reads one element of the stream (an object, or block data) and, for a class descriptor, returns it.
func (s *javaStream) content() *javaClassDesc {
	if s.r.err != nil {
		return nil
	}
	if s.depth++; s.depth > javaMaxDepth {
		s.fail("nested more than %d deep", javaMaxDepth)
		return nil
	}
	defer func() { s.depth-- }()
	switch tc := s.u8(); tc {
	case tcNull:
	case tcReference:
		return s.handle()
	case tcClassDesc:
		d := &javaClassDesc{name: s.r.utf()}
		s.r.next(8) // serialVersionUID
		s.newHandle(d)
		d.flags = s.u8()
		var n int
		if b := s.r.next(2); b != nil {
			n = int(binary.BigEndian.Uint16(b))
		}
		for i := 0; i < n && s.r.err == nil; i++ {
			f := javaField{typecode: s.u8()}
			s.r.utf() // the field's name
			switch f.typecode {
			case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z':
			case 'L', '[':
				f.class = s.stringObject()
			default:
				s.fail("field type %q", f.typecode)
			}
			d.fields = append(d.fields, f)
		}
		s.annotation()
		d.super = s.content()
		return d
	case tcProxyClassDesc:
		d := &javaClassDesc{flags: scSerializable}
		s.newHandle(d)
		n := s.r.length()
		for i := 0; i < n && s.r.err == nil; i++ {
			s.r.utf()
		}
		s.annotation()
		d.super = s.content()
		return d
	case tcObject:
		d := s.content()
		s.newHandle(nil)
		s.classData(d)
	case tcString:
		s.newHandle(nil)
		s.r.utf()
	case tcLongString:
		s.newHandle(nil)
		s.longBytes()
	case tcArray:
		d := s.content()
		s.newHandle(nil)
		n := s.r.length()
		if d == nil || len(d.name) < 2 || d.name[0] != '[' {
			s.fail("array without an array class")
			return nil
		}
		if size := primitiveSize(d.name[1]); size > 0 {
			s.r.next(n * size)
		} else {
			for i := 0; i < n && s.r.err == nil; i++ {
				s.content()
			}
		}
	case tcClass:
		s.content()
		s.newHandle(nil)
	case tcEnum:
		s.content()
		s.newHandle(nil)
		s.stringObject()
	case tcBlockData:
		s.r.next(int(s.u8()))
	case tcBlockDataLong:
		s.r.next(s.r.length())
	case tcReset:
		s.handles = s.handles[:0]
	default:
		s.fail("type code %#x", tc)
	}
	return nil
}

// stringObject reads a string object (or a reference to one) and gives its text where it is new.
func (s *javaStream) stringObject() string {
	switch tc := s.u8(); tc {
	case tcString:
		s.newHandle(nil)
		return s.r.utf()
	case tcLongString:
		s.newHandle(nil)
		return string(s.longBytes())
	case tcReference:
		s.handle()
	default:
		s.fail("type code %#x where a string belongs", tc)
	}
	return ""
}

func (s *javaStream) longBytes() []byte {
	b := s.r.next(8)
	if b == nil {
		return nil
	}
	n := binary.BigEndian.Uint64(b)
	if n > uint64(len(s.r.b)) {
		s.fail("string of %d bytes", n)
		return nil
	}
	return s.r.next(int(n))
}

// annotation reads contents up to TC_ENDBLOCKDATA.
func (s *javaStream) annotation() {
	for s.r.err == nil {
		if s.r.off < len(s.r.b) && s.r.b[s.r.off] == tcEndBlockData {
			s.r.off++
			return
		}
		s.content()
	}
}

// classData reads an object's fields, the topmost class's first.
func (s *javaStream) classData(d *javaClassDesc) {
	var chain []*javaClassDesc
	for c := d; c != nil && s.r.err == nil; c = c.super {
		if len(chain) > javaMaxDepth {
			s.fail("class hierarchy more than %d deep", javaMaxDepth)
			return
		}
		chain = append(chain, c)
	}
	for i := len(chain) - 1; i >= 0 && s.r.err == nil; i-- {
		c := chain[i]
		switch {
		case c.flags&scExternalizable != 0:
			if c.flags&scBlockData == 0 {
				s.fail("externalizable class %q in the old format", c.name)
				return
			}
			s.annotation()
		case c.flags&scSerializable != 0:
			for _, f := range c.fields {
				if size := primitiveSize(f.typecode); size > 0 {
					s.r.next(size)
				} else {
					s.content()
				}
			}
			if c.flags&scWriteMethod != 0 {
				s.annotation()
			}
		}
	}
}

// primitiveSize is the size of a primitive field or array element, 0 for an object.
func primitiveSize(typecode byte) int {
	switch typecode {
	case 'B', 'Z':
		return 1
	case 'C', 'S':
		return 2
	case 'F', 'I':
		return 4
	case 'D', 'J':
		return 8
	}
	return 0
}
