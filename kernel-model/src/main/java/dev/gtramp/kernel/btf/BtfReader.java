package dev.gtramp.kernel.btf;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.tukaani.xz.XZInputStream;

/**
 * Reads the raw BTF format, as {@code /sys/kernel/btf/vmlinux} serves it, into a {@link Btf}.
 *
 * <p>The blob is {@code struct btf_header}, then a type section of {@code struct btf_type} records
 * (each followed by its kind's data, everything in 32-bit words) and a string section of
 * NUL-terminated names. Section offsets count from the end of the header. The byte order is that of
 * the machine that wrote it; the magic {@code 0xeB9F} tells which, and both are read.
 *
 * <p>Everything is validated before a {@link Btf} exists, much as {@code btf_parse()} in
 * {@code kernel/bpf/btf.c} does ({@code btf_parse_hdr}, {@code btf_check_sec_info},
 * {@code btf_parse_str_sec}, {@code btf_check_all_metas}, then the type references): the header, the
 * section bounds, each record's kind, length, {@code vlen} and name offsets, every type id a record
 * mentions, that each {@code FUNC} refers to a {@code FUNC_PROTO}, and that no chain of pointers,
 * modifiers or array elements loops. Gaps and trailing bytes between sections are tolerated, as
 * libbpf tolerates them. Every failure is a {@link BtfFormatException} ({@code EINVAL}) whose
 * message names the problem and its absolute byte offset in the blob, and inside the type section
 * the type id and kind, for instance
 * {@code "truncated BTF: type [1234] (STRUCT) at offset 0x1a2b needs 48 bytes, 12 remain"}.
 *
 * <p>The reader works on the buffer in bulk (one copy of each section, no per-byte streams) and the
 * {@link Btf} keeps only those two copies plus one word per type.
 */
public final class BtfReader {
    /** The magic of an xz stream: {@code FD 37 7A 58 5A 00}. */
    private static final byte[] XZ_MAGIC = {(byte) 0xFD, '7', 'z', 'X', 'Z', 0};

    /** {@code BTF_INFO_MASK}: bits of {@code btf_type.info} the kernel defines. */
    private static final int BTF_INFO_MASK = 0x9f00ffff;
    /** {@code BTF_INT_MASK}: bits of an INT's data word the kernel defines. */
    private static final int BTF_INT_MASK = 0x0fffffff;
    /** Fixed part of {@code struct btf_type}: name_off, info, size/type. */
    private static final int TYPE_WORDS = 3;

    private BtfReader() {
    }

    /**
     * Reads a raw BTF file, or one compressed with xz (recognised by its magic bytes).
     *
     * @throws IOException         if the file cannot be read
     * @throws BtfFormatException  if the content is not valid BTF or not a valid xz stream
     */
    public static Btf read(Path path) throws IOException {
        return read(Files.readAllBytes(path));
    }

    /**
     * Reads raw or xz-compressed BTF from a stream, to its end. The stream is not closed.
     *
     * @throws IOException        if reading the stream fails
     * @throws BtfFormatException if the content is not valid BTF or not a valid xz stream
     */
    public static Btf read(InputStream in) throws IOException {
        return read(in.readAllBytes());
    }

    /**
     * Reads a BTF blob, raw or xz-compressed (recognised by its magic bytes). The array is not
     * modified or retained.
     *
     * @throws BtfFormatException if the content is not valid BTF or not a valid xz stream
     */
    public static Btf read(byte[] blob) {
        return read(ByteBuffer.wrap(isXz(blob) ? unxz(blob) : blob));
    }

    /**
     * Reads a raw BTF blob from the buffer's position to its limit. The buffer's position, limit and
     * order are left as they were, and it is not retained.
     *
     * @throws BtfFormatException if the content is not valid BTF
     */
    public static Btf read(ByteBuffer blob) {
        return new Parser(blob.slice()).parse();
    }

    /** Whether the bytes start with the xz stream magic. */
    public static boolean isXz(byte[] blob) {
        return blob.length >= XZ_MAGIC.length
                && Arrays.equals(blob, 0, XZ_MAGIC.length, XZ_MAGIC, 0, XZ_MAGIC.length);
    }

    private static byte[] unxz(byte[] compressed) {
        try (InputStream in = new XZInputStream(new ByteArrayInputStream(compressed))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new BtfFormatException("bad xz stream: " + e.getMessage(), e);
        }
    }

    /** The words of kind-specific data after a {@code btf_type} of this kind and vlen. */
    static int dataWords(BtfKind kind, int vlen) {
        switch (kind) {
            case INT: case VAR: case DECL_TAG:
                return 1;
            case ARRAY:
                return 3;
            case STRUCT: case UNION: case DATASEC: case ENUM64:
                return 3 * vlen;
            case ENUM: case FUNC_PROTO:
                return 2 * vlen;
            default:
                return 0;
        }
    }

    /** One parse of one blob; holds the cursor state that the result does not need. */
    private static final class Parser {
        private final ByteBuffer buf;
        private final int size;
        private BtfHeader hdr;
        private int[] words;
        private byte[] strings;
        private long typeStart;
        private int[] offsets;
        private int count;

        Parser(ByteBuffer buf) {
            this.buf = buf;
            this.size = buf.remaining();
        }

        Btf parse() {
            parseHeader();
            parseStrings();
            int[] funcIds = parseTypes();
            checkReferences();
            checkChains();
            return new Btf(hdr, words, Arrays.copyOf(offsets, count + 1), strings, funcIds);
        }

        // ---- header: btf_parse_hdr() and btf_check_sec_info() --------------------------------

        private void parseHeader() {
            if (size < 2) {
                throw fail("truncated BTF: btf_header needs %d bytes, %d remain", BtfHeader.SIZE, size);
            }
            int b0 = buf.get(0) & 0xff;
            int b1 = buf.get(1) & 0xff;
            ByteOrder order;
            if (b0 == 0x9f && b1 == 0xeb) {
                order = ByteOrder.LITTLE_ENDIAN;
            } else if (b0 == 0xeb && b1 == 0x9f) {
                order = ByteOrder.BIG_ENDIAN;
            } else {
                throw fail("bad BTF magic 0x%02x%02x at offset 0x0 (expected 0xeb9f in either byte order)", b0, b1);
            }
            if (size < BtfHeader.SIZE) {
                throw fail("truncated BTF: btf_header needs %d bytes, %d remain", BtfHeader.SIZE, size);
            }
            buf.order(order);
            int version = buf.get(2) & 0xff;
            int flags = buf.get(3) & 0xff;
            long hdrLen = u32(4);
            hdr = new BtfHeader(BtfHeader.MAGIC, version, flags, hdrLen, u32(8), u32(12), u32(16), u32(20), order);
            if (version != BtfHeader.VERSION) {
                throw fail("unsupported BTF version %d at offset 0x2 (expected %d)", version, BtfHeader.VERSION);
            }
            if (flags != 0) {
                throw fail("unsupported BTF flags 0x%x at offset 0x3", flags);
            }
            if (hdrLen < BtfHeader.SIZE) {
                throw fail("bad btf_header: hdr_len %d at offset 0x4 is shorter than struct btf_header (%d bytes)",
                        hdrLen, BtfHeader.SIZE);
            }
            if (hdrLen > size) {
                throw fail("truncated BTF: btf_header hdr_len %d is beyond the blob of %d bytes", hdrLen, size);
            }
            // A longer header from a newer writer is accepted only if the fields we do not know are 0.
            for (int i = BtfHeader.SIZE; i < hdrLen; i++) {
                if (buf.get(i) != 0) {
                    throw fail("unsupported btf_header: non-zero byte at offset 0x%x past the known fields", i);
                }
            }
            long dataLen = size - hdrLen;
            checkSection("type", hdr.typeOff(), hdr.typeLen(), dataLen, 8);
            checkSection("string", hdr.strOff(), hdr.strLen(), dataLen, 16);
            if (hdr.typeOff() % 4 != 0) {
                throw fail("bad btf_header: type_off 0x%x at offset 0x8 is not 4-byte aligned", hdr.typeOff());
            }
            if (hdr.typeLen() > 0 && hdr.strLen() > 0
                    && hdr.typeOff() < hdr.strOff() + hdr.strLen() && hdr.strOff() < hdr.typeOff() + hdr.typeLen()) {
                throw fail("bad btf_header: type section [0x%x, 0x%x) and string section [0x%x, 0x%x) overlap",
                        hdr.typeStart(), hdr.typeStart() + hdr.typeLen(),
                        hdr.strStart(), hdr.strStart() + hdr.strLen());
            }
            typeStart = hdr.typeStart();
        }

        private void checkSection(String name, long off, long len, long dataLen, int fieldOffset) {
            if (off + len > dataLen) {
                throw fail("bad btf_header: %s section [0x%x, 0x%x) (%s_off at offset 0x%x) ends beyond the blob of "
                                + "0x%x bytes by %d bytes", name, hdr.hdrLen() + off, hdr.hdrLen() + off + len,
                        name.equals("type") ? "type" : "str", fieldOffset, size, off + len - dataLen);
            }
        }

        // ---- strings: btf_parse_str_sec() --------------------------------------------------------

        private void parseStrings() {
            int start = (int) hdr.strStart();
            int len = (int) hdr.strLen();
            if (len == 0) {
                throw fail("bad string section at offset 0x%x: empty (it must hold at least the empty name)", start);
            }
            strings = new byte[len];
            buf.get(start, strings);
            if (strings[0] != 0) {
                throw fail("bad string section at offset 0x%x: does not start with NUL (the empty name)", start);
            }
            if (strings[len - 1] != 0) {
                throw fail("bad string section at offset 0x%x: last byte at offset 0x%x is not NUL",
                        start, start + len - 1);
            }
        }

        // ---- types, pass 1: btf_check_all_metas() ------------------------------------------------

        private int[] parseTypes() {
            int typeLen = (int) hdr.typeLen();
            words = new int[typeLen / 4];
            buf.slice((int) typeStart, words.length * 4).order(hdr.byteOrder()).asIntBuffer().get(words);
            // A vmlinux record averages about 25 bytes; grow if the guess is short.
            offsets = new int[Math.max(16, typeLen / 20)];
            offsets[0] = -1;
            int[] funcs = new int[Math.max(16, typeLen / 64)];
            int nfuncs = 0;
            int pos = 0;
            int id = 0;
            while (4L * pos < typeLen) {
                id++;
                long remain = typeLen - 4L * pos;
                if (remain < 4 * TYPE_WORDS) {
                    throw fail("truncated BTF: type [%d] at offset 0x%x needs %d bytes (struct btf_type), %d remain",
                            id, at(pos), 4 * TYPE_WORDS, remain);
                }
                int info = words[pos + 1];
                int rawKind = (info >>> 24) & 0x1f;
                if (rawKind == 0 || rawKind > BtfKind.MAX) {
                    throw fail("type [%d] at offset 0x%x: unknown kind %d (info 0x%08x)", id, at(pos), rawKind, info);
                }
                BtfKind kind = BtfKind.of(rawKind);
                if ((info & ~BTF_INFO_MASK) != 0) {
                    throw failAt(id, kind, pos, "info 0x%08x has unknown bits set", info);
                }
                int vlen = info & 0xffff;
                long need = 4L * (TYPE_WORDS + dataWords(kind, vlen));
                if (need > remain) {
                    throw fail("truncated BTF: type [%d] (%s) at offset 0x%x needs %d bytes%s, %d remain",
                            id, kind, at(pos), need, vlen == 0 ? "" : " for vlen " + vlen, remain);
                }
                if (id == offsets.length) {
                    offsets = Arrays.copyOf(offsets, offsets.length * 2);
                }
                offsets[id] = pos;
                checkMeta(id, kind, pos, vlen);
                if (kind == BtfKind.FUNC) {
                    if (nfuncs == funcs.length) {
                        funcs = Arrays.copyOf(funcs, funcs.length * 2);
                    }
                    funcs[nfuncs++] = id;
                }
                pos += (int) (need / 4);
            }
            count = id;
            return Arrays.copyOf(funcs, nfuncs);
        }

        /** The per-kind checks of the kernel's {@code *_check_meta()} that need no other type. */
        private void checkMeta(int id, BtfKind kind, int pos, int vlen) {
            checkName(id, kind, pos, words[pos], "name_off");
            switch (kind) {
                case INT: {
                    requireVlen0(id, kind, pos, vlen);
                    int data = words[pos + 3];
                    int bits = data & 0xff;
                    int offset = (data >>> 16) & 0xff;
                    int encoding = (data >>> 24) & 0x0f;
                    long sizeBytes = Integer.toUnsignedLong(words[pos + 2]);
                    if ((data & ~BTF_INT_MASK) != 0) {
                        throw failAt(id, kind, pos, "int data 0x%08x has unknown bits set", data);
                    }
                    if (bits > 128) {
                        throw failAt(id, kind, pos, "nr_bits %d exceeds 128", bits);
                    }
                    if ((offset + bits + 7) / 8 > sizeBytes) {
                        throw failAt(id, kind, pos, "offset %d + nr_bits %d exceed its size of %d bytes",
                                offset, bits, sizeBytes);
                    }
                    if (encoding != 0 && encoding != BtfType.INT_SIGNED && encoding != BtfType.INT_CHAR
                            && encoding != BtfType.INT_BOOL) {
                        throw failAt(id, kind, pos, "unsupported int encoding 0x%x", encoding);
                    }
                    break;
                }
                case PTR: case ARRAY: case FWD: case TYPEDEF: case VOLATILE: case CONST: case RESTRICT:
                case VAR: case FLOAT: case DECL_TAG: case TYPE_TAG:
                    requireVlen0(id, kind, pos, vlen);
                    if (kind == BtfKind.DECL_TAG && words[pos + 3] < -1) {
                        throw failAt(id, kind, pos, "component_idx %d is below -1", words[pos + 3]);
                    }
                    break;
                case FUNC:
                    if (vlen > 2) {
                        throw failAt(id, kind, pos, "unknown linkage %d (vlen)", vlen);
                    }
                    break;
                case STRUCT: case UNION:
                    for (int i = 0, p = pos + 3; i < vlen; i++, p += 3) {
                        checkName(id, kind, pos, words[p], "member " + i + " name_off");
                    }
                    break;
                case ENUM: case FUNC_PROTO:
                    for (int i = 0, p = pos + 3; i < vlen; i++, p += 2) {
                        checkName(id, kind, pos, words[p], (kind == BtfKind.ENUM ? "enumerator " : "param ") + i
                                + " name_off");
                    }
                    break;
                case ENUM64:
                    for (int i = 0, p = pos + 3; i < vlen; i++, p += 3) {
                        checkName(id, kind, pos, words[p], "enumerator " + i + " name_off");
                    }
                    break;
                default:
                    break;
            }
        }

        private void requireVlen0(int id, BtfKind kind, int pos, int vlen) {
            if (vlen != 0) {
                throw failAt(id, kind, pos, "vlen %d must be 0 for this kind", vlen);
            }
        }

        private void checkName(int id, BtfKind kind, int pos, int nameOff, String what) {
            if (Integer.toUnsignedLong(nameOff) >= strings.length) {
                throw failAt(id, kind, pos, "%s 0x%x is outside the string section of 0x%x bytes",
                        what, Integer.toUnsignedLong(nameOff), strings.length);
            }
        }

        // ---- types, pass 2: every type id a record mentions exists -------------------------------

        private void checkReferences() {
            for (int id = 1; id <= count; id++) {
                int pos = offsets[id];
                BtfKind kind = BtfKind.of((words[pos + 1] >>> 24) & 0x1f);
                int vlen = words[pos + 1] & 0xffff;
                switch (kind) {
                    case PTR: case TYPEDEF: case VOLATILE: case CONST: case RESTRICT: case TYPE_TAG:
                    case VAR: case DECL_TAG:
                        checkRef(id, kind, pos, words[pos + 2], "type");
                        break;
                    case FUNC: {
                        int proto = words[pos + 2];
                        checkRef(id, kind, pos, proto, "type");
                        int protoKind = proto == 0 ? 0 : (words[offsets[proto] + 1] >>> 24) & 0x1f;
                        if (protoKind != BtfKind.FUNC_PROTO.id()) {
                            throw failAt(id, kind, pos, "type [%d] is %s, not FUNC_PROTO", proto,
                                    BtfKind.of(protoKind).kernelName());
                        }
                        break;
                    }
                    case ARRAY:
                        checkRef(id, kind, pos, words[pos + 3], "element type");
                        checkRef(id, kind, pos, words[pos + 4], "index type");
                        break;
                    case STRUCT: case UNION:
                        for (int i = 0, p = pos + 3; i < vlen; i++, p += 3) {
                            checkRef(id, kind, pos, words[p + 1], "member " + i + " type");
                        }
                        break;
                    case FUNC_PROTO:
                        checkRef(id, kind, pos, words[pos + 2], "return type");
                        for (int i = 0, p = pos + 3; i < vlen; i++, p += 2) {
                            int type = words[p + 1];
                            checkRef(id, kind, pos, type, "param " + i + " type");
                            // btf_func_proto_check(): only a trailing, unnamed param may be void (the "...").
                            if (type == 0 && (i != vlen - 1 || words[p] != 0)) {
                                throw failAt(id, kind, pos,
                                        "param %d is void; only a trailing unnamed param (...) may be", i);
                            }
                        }
                        break;
                    case DATASEC:
                        for (int i = 0, p = pos + 3; i < vlen; i++, p += 3) {
                            checkRef(id, kind, pos, words[p], "entry " + i + " type");
                        }
                        break;
                    default:
                        break;
                }
            }
        }

        private void checkRef(int id, BtfKind kind, int pos, int ref, String what) {
            if (Integer.toUnsignedLong(ref) > count) {
                throw failAt(id, kind, pos, "%s refers to type [%d], but the last type is [%d]", what,
                        Integer.toUnsignedLong(ref), count);
            }
        }

        // ---- types, pass 3: no loops through single-successor chains -----------------------------

        /**
         * Pointers, modifiers and arrays each lead to one next type, so they form a functional graph;
         * a walk that meets a type of its own walk has found a loop (the kernel's resolve pass rejects
         * these as well). Each type is walked once: linear time.
         */
        private void checkChains() {
            byte[] state = new byte[count + 1]; // 0 unseen, 1 on the current walk, 2 known loop-free
            int[] path = new int[16];
            for (int start = 1; start <= count; start++) {
                int n = 0;
                int id = start;
                while (id != 0 && state[id] == 0 && chainNext(id) >= 0) {
                    state[id] = 1;
                    if (n == path.length) {
                        path = Arrays.copyOf(path, n * 2);
                    }
                    path[n++] = id;
                    id = chainNext(id);
                }
                if (id != 0 && state[id] == 1) {
                    int pos = offsets[id];
                    throw failAt(id, BtfKind.of((words[pos + 1] >>> 24) & 0x1f), pos,
                            "refers back to itself through a chain of pointer, modifier and array types");
                }
                for (int i = 0; i < n; i++) {
                    state[path[i]] = 2;
                }
            }
        }

        /** The one type a pointer, modifier or array leads to, or -1 for other kinds. */
        private int chainNext(int id) {
            int pos = offsets[id];
            switch ((words[pos + 1] >>> 24) & 0x1f) {
                case 2: case 8: case 9: case 10: case 11: case 18: // PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG
                    return words[pos + 2];
                case 3: // ARRAY
                    return words[pos + 3];
                default:
                    return -1;
            }
        }

        // ---- offsets and messages ------------------------------------------------------------------

        private long u32(int offset) {
            return Integer.toUnsignedLong(buf.getInt(offset));
        }

        /** Absolute byte offset of word {@code pos} of the type section. */
        private long at(int pos) {
            return typeStart + 4L * pos;
        }

        private BtfFormatException failAt(int id, BtfKind kind, int pos, String fmt, Object... args) {
            return new BtfFormatException(String.format("type [%d] (%s) at offset 0x%x: ", id, kind, at(pos))
                    + String.format(fmt, args));
        }

        private static BtfFormatException fail(String fmt, Object... args) {
            return new BtfFormatException(String.format(fmt, args));
        }
    }
}
