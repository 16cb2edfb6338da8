package dev.gtramp.kernel.btf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gtramp.kernel.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Malformed BTF: every defect is a {@link BtfFormatException} with {@code EINVAL} and a message that
 * names the problem and where it is. Hand-made blobs give exact control; the real blob shows the same
 * checks at scale.
 */
class BtfMalformedTest {

    private static BtfFormatException reject(byte[] blob) {
        BtfFormatException e = assertThrows(BtfFormatException.class, () -> BtfReader.read(blob));
        assertEquals(Errno.EINVAL, e.errno());
        assertEquals(-22, e.returnCode());
        return e;
    }

    private static void assertMessage(String expected, byte[] blob) {
        assertEquals("EINVAL: " + expected, reject(blob).getMessage());
    }

    /** int, int *, int (*)(int), FUNC f: a valid blob of four types. */
    private static BtfBlobBuilder small() {
        BtfBlobBuilder b = new BtfBlobBuilder();
        int i = b.integer("int", 4, BtfType.INT_SIGNED);
        b.ptr(i);
        int proto = b.proto(i, "a", i);
        b.func("f", proto, 1);
        return b;
    }

    private static byte[] patch(byte[] blob, ByteOrder order, int offset, int value) {
        byte[] copy = blob.clone();
        ByteBuffer.wrap(copy).order(order).putInt(offset, value);
        return copy;
    }

    @ParameterizedTest
    @EnumSource(names = {"LITTLE_ENDIAN", "BIG_ENDIAN"}, value = Order.class)
    void smallBlobIsValidInBothByteOrders(Order o) {
        Btf btf = BtfReader.read(small().build(o.order));
        assertEquals(o.order, btf.byteOrder());
        assertEquals(4, btf.typeCount());
        assertEquals("int f(int a)", btf.function("f").orElseThrow().declaration());
        assertEquals("int *", btf.typeName(2));
        assertEquals(Linkage.GLOBAL, btf.type(4).funcLinkage());
    }

    enum Order {
        LITTLE_ENDIAN(ByteOrder.LITTLE_ENDIAN), BIG_ENDIAN(ByteOrder.BIG_ENDIAN);

        final ByteOrder order;

        Order(ByteOrder order) {
            this.order = order;
        }
    }

    // ---- header ----------------------------------------------------------------------------------

    @Test
    void wrongMagic() {
        byte[] blob = small().build(ByteOrder.LITTLE_ENDIAN);
        blob[0] = 0x12;
        blob[1] = 0x34;
        assertMessage("bad BTF magic 0x1234 at offset 0x0 (expected 0xeb9f in either byte order)", blob);
        assertMessage("bad BTF magic 0x7f45 at offset 0x0 (expected 0xeb9f in either byte order)",
                new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
    }

    @Test
    void tooShortForAHeader() {
        assertMessage("truncated BTF: btf_header needs 24 bytes, 0 remain", new byte[0]);
        assertMessage("truncated BTF: btf_header needs 24 bytes, 1 remain", new byte[] {(byte) 0x9f});
        assertMessage("truncated BTF: btf_header needs 24 bytes, 23 remain",
                Arrays.copyOf(small().build(ByteOrder.LITTLE_ENDIAN), 23));
    }

    @Test
    void wrongVersionOrFlags() {
        byte[] blob = small().build(ByteOrder.LITTLE_ENDIAN);
        blob[2] = 2;
        assertMessage("unsupported BTF version 2 at offset 0x2 (expected 1)", blob);
        blob[2] = 1;
        blob[3] = 4;
        assertMessage("unsupported BTF flags 0x4 at offset 0x3", blob);
    }

    @Test
    void badHeaderLength() {
        byte[] blob = small().build(ByteOrder.BIG_ENDIAN);
        assertMessage("bad btf_header: hdr_len 8 at offset 0x4 is shorter than struct btf_header (24 bytes)",
                patch(blob, ByteOrder.BIG_ENDIAN, 4, 8));
        assertMessage("truncated BTF: btf_header hdr_len 100000 is beyond the blob of " + blob.length + " bytes",
                patch(blob, ByteOrder.BIG_ENDIAN, 4, 100_000));
        // A longer header is fine only while the unknown tail is zero: here it is the first type record.
        assertTrue(reject(patch(blob, ByteOrder.BIG_ENDIAN, 4, 28)).getMessage()
                .contains("unsupported btf_header: non-zero byte at offset 0x1b past the known fields"));
    }

    @Test
    void sectionsOutsideTheBlob() {
        BtfBlobBuilder b = small();
        byte[] blob = b.build(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer h = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        int typeLen = h.getInt(12);
        int strLen = h.getInt(20);
        assertEquals(blob.length, 24 + typeLen + strLen);
        assertMessage(String.format("bad btf_header: string section [0x%x, 0x%x) (str_off at offset 0x10) ends beyond "
                        + "the blob of 0x%x bytes by 100 bytes", 24 + typeLen, 24 + typeLen + strLen + 100, blob.length),
                patch(blob, ByteOrder.LITTLE_ENDIAN, 20, strLen + 100));
        assertMessage(String.format("bad btf_header: type section [0x%x, 0x%x) (type_off at offset 0x8) ends beyond "
                        + "the blob of 0x%x bytes by %d bytes", 24 + 0x7ffffff0L, 24 + 0x7ffffff0L + typeLen,
                        blob.length, 0x7ffffff0L + typeLen - (blob.length - 24)),
                patch(blob, ByteOrder.LITTLE_ENDIAN, 8, 0x7ffffff0));
        // u32 fields near 4 GiB must not wrap around.
        assertTrue(reject(patch(blob, ByteOrder.LITTLE_ENDIAN, 16, 0xfffffff0)).getMessage()
                .startsWith("EINVAL: bad btf_header: string section [0x100000008, "));
    }

    @Test
    void overlappingOrMisalignedSections() {
        byte[] blob = small().build(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer h = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        int typeLen = h.getInt(12);
        int strLen = h.getInt(20);
        byte[] overlap = patch(blob, ByteOrder.LITTLE_ENDIAN, 16, typeLen - 4);
        assertMessage(String.format("bad btf_header: type section [0x18, 0x%x) and string section [0x%x, 0x%x) overlap",
                24 + typeLen, 24 + typeLen - 4, 24 + typeLen - 4 + strLen), overlap);
        byte[] misaligned = patch(patch(blob, ByteOrder.LITTLE_ENDIAN, 8, 2), ByteOrder.LITTLE_ENDIAN, 12, typeLen - 4);
        assertMessage("bad btf_header: type_off 0x2 at offset 0x8 is not 4-byte aligned", misaligned);
    }

    @Test
    void badStringSection() {
        byte[] blob = small().build(ByteOrder.LITTLE_ENDIAN);
        int strStart = 24 + ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN).getInt(16);
        byte[] unterminated = blob.clone();
        unterminated[blob.length - 1] = 'x';
        assertMessage(String.format("bad string section at offset 0x%x: last byte at offset 0x%x is not NUL",
                strStart, blob.length - 1), unterminated);
        byte[] noEmptyName = blob.clone();
        noEmptyName[strStart] = 'x';
        assertMessage(String.format("bad string section at offset 0x%x: does not start with NUL (the empty name)",
                strStart), noEmptyName);
        assertMessage(String.format("bad string section at offset 0x%x: empty (it must hold at least the empty name)",
                strStart), patch(blob, ByteOrder.LITTLE_ENDIAN, 20, 0));
    }

    // ---- type records ------------------------------------------------------------------------------

    @Test
    void truncatedRecords() {
        BtfBlobBuilder b = small();
        byte[] blob = b.build(ByteOrder.LITTLE_ENDIAN);
        int typeLen = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN).getInt(12);
        // FUNC [4] is the last record, 12 bytes: keep 6 of them.
        assertMessage(String.format("truncated BTF: type [4] at offset 0x%x needs 12 bytes (struct btf_type), 6 remain",
                b.offsetOf(4)), patch(blob, ByteOrder.LITTLE_ENDIAN, 12, typeLen - 6));
        // FUNC_PROTO [3] with one param is 20 bytes: keep its btf_type and 4 bytes of the param.
        assertMessage(String.format("truncated BTF: type [3] (FUNC_PROTO) at offset 0x%x needs 20 bytes for vlen 1, "
                + "16 remain", b.offsetOf(3)), patch(blob, ByteOrder.LITTLE_ENDIAN, 12, b.offsetOf(3) - 24 + 16));
        // INT [1] needs its data word.
        assertMessage("truncated BTF: type [1] (INT) at offset 0x18 needs 16 bytes, 12 remain",
                patch(blob, ByteOrder.LITTLE_ENDIAN, 12, 12));
    }

    @Test
    void vlenOverrunningTheSection() {
        BtfBlobBuilder b = small();
        byte[] blob = b.build(ByteOrder.BIG_ENDIAN);
        int typeLen = ByteBuffer.wrap(blob).getInt(12);
        byte[] bad = patch(blob, ByteOrder.BIG_ENDIAN, b.offsetOf(3) + 4, BtfBlobBuilder.info(BtfKind.FUNC_PROTO, 200, false));
        assertMessage(String.format("truncated BTF: type [3] (FUNC_PROTO) at offset 0x%x needs %d bytes for vlen 200, "
                + "%d remain", b.offsetOf(3), 12 + 8 * 200, typeLen - (b.offsetOf(3) - 24)), bad);
    }

    @Test
    void unknownKinds() {
        BtfBlobBuilder b = small();
        int bad = b.raw(0, 20 << 24, 0);
        assertMessage(String.format("type [%d] at offset 0x%x: unknown kind 20 (info 0x14000000)", bad, b.offsetOf(bad)),
                b.build(ByteOrder.LITTLE_ENDIAN));
        BtfBlobBuilder c = small();
        int unkn = c.raw(0, 0, 0);
        assertMessage(String.format("type [%d] at offset 0x%x: unknown kind 0 (info 0x00000000)", unkn, c.offsetOf(unkn)),
                c.build(ByteOrder.BIG_ENDIAN));
        BtfBlobBuilder d = small();
        int bits = d.raw(0, BtfBlobBuilder.info(BtfKind.PTR, 0, false) | 1 << 16, 1);
        assertMessage(String.format("type [%d] (PTR) at offset 0x%x: info 0x02010000 has unknown bits set", bits,
                d.offsetOf(bits)), d.build(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void stringOffsetsOutsideTheStringSection() {
        BtfBlobBuilder b = small();
        int strLen = ByteBuffer.wrap(b.build(ByteOrder.LITTLE_ENDIAN)).order(ByteOrder.LITTLE_ENDIAN).getInt(20);
        int bad = b.raw(0x999, BtfBlobBuilder.info(BtfKind.TYPEDEF, 0, false), 1);
        assertMessage(String.format("type [%d] (TYPEDEF) at offset 0x%x: name_off 0x999 is outside the string section "
                + "of 0x%x bytes", bad, b.offsetOf(bad), strLen), b.build(ByteOrder.LITTLE_ENDIAN));

        BtfBlobBuilder c = small();
        int s = c.raw(c.str("s"), BtfBlobBuilder.info(BtfKind.STRUCT, 2, false), 8, c.str("a"), 1, 0, 0x7fff0000, 1, 32);
        int strLenC = ByteBuffer.wrap(c.build(ByteOrder.LITTLE_ENDIAN)).order(ByteOrder.LITTLE_ENDIAN).getInt(20);
        assertMessage(String.format("type [%d] (STRUCT) at offset 0x%x: member 1 name_off 0x7fff0000 is outside the "
                + "string section of 0x%x bytes", s, c.offsetOf(s), strLenC), c.build(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void typeIdsPastTheLastType() {
        BtfBlobBuilder b = small();
        int p = b.ptr(99);
        assertMessage(String.format("type [%d] (PTR) at offset 0x%x: type refers to type [99], but the last type is [%d]",
                p, b.offsetOf(p), p), b.build(ByteOrder.LITTLE_ENDIAN));

        BtfBlobBuilder c = small();
        int proto = c.proto(1, "x", 1, "y", -1);
        assertMessage(String.format("type [%d] (FUNC_PROTO) at offset 0x%x: param 1 type refers to type [4294967295], "
                + "but the last type is [%d]", proto, c.offsetOf(proto), proto), c.build(ByteOrder.BIG_ENDIAN));

        BtfBlobBuilder d = small();
        int arr = d.array(1, 7, 2);
        assertMessage(String.format("type [%d] (ARRAY) at offset 0x%x: index type refers to type [7], but the last type "
                + "is [%d]", arr, d.offsetOf(arr), arr), d.build(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void funcMustReferToAFuncProto() {
        BtfBlobBuilder b = small();
        int f = b.func("g", 1, 0);
        assertMessage(String.format("type [%d] (FUNC) at offset 0x%x: type [1] is INT, not FUNC_PROTO", f, b.offsetOf(f)),
                b.build(ByteOrder.LITTLE_ENDIAN));
        BtfBlobBuilder c = small();
        int g = c.func("g", 3, 3);
        assertMessage(String.format("type [%d] (FUNC) at offset 0x%x: unknown linkage 3 (vlen)", g, c.offsetOf(g)),
                c.build(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void onlyATrailingUnnamedParamMayBeVoid() {
        BtfBlobBuilder b = small();
        int proto = b.proto(1, "", 0, "a", 1);
        assertMessage(String.format("type [%d] (FUNC_PROTO) at offset 0x%x: param 0 is void; only a trailing unnamed "
                + "param (...) may be", proto, b.offsetOf(proto)), b.build(ByteOrder.LITTLE_ENDIAN));
        BtfBlobBuilder c = small();
        int named = c.proto(1, "a", 1, "rest", 0);
        assertMessage(String.format("type [%d] (FUNC_PROTO) at offset 0x%x: param 1 is void; only a trailing unnamed "
                + "param (...) may be", named, c.offsetOf(named)), c.build(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void referenceLoops() {
        BtfBlobBuilder b = small();
        // [5] typedef a -> [6] const -> [5]
        int a = b.ref(BtfKind.TYPEDEF, "a", 6);
        b.ref(BtfKind.CONST, "", a);
        assertMessage(String.format("type [%d] (TYPEDEF) at offset 0x%x: refers back to itself through a chain of "
                + "pointer, modifier and array types", a, b.offsetOf(a)), b.build(ByteOrder.LITTLE_ENDIAN));
        BtfBlobBuilder c = small();
        int self = c.ptr(5);
        assertEquals(5, self);
        assertTrue(reject(c.build(ByteOrder.LITTLE_ENDIAN)).getMessage().contains("type [5] (PTR)"));
    }

    @Test
    void badIntEncoding() {
        BtfBlobBuilder b = small();
        int wide = b.raw(b.str("huge"), BtfBlobBuilder.info(BtfKind.INT, 0, false), 32, 200);
        assertMessage(String.format("type [%d] (INT) at offset 0x%x: nr_bits 200 exceeds 128", wide, b.offsetOf(wide)),
                b.build(ByteOrder.LITTLE_ENDIAN));
        BtfBlobBuilder c = small();
        int over = c.raw(0, BtfBlobBuilder.info(BtfKind.INT, 0, false), 2, 8 << 16 | 16);
        assertMessage(String.format("type [%d] (INT) at offset 0x%x: offset 8 + nr_bits 16 exceed its size of 2 bytes",
                over, c.offsetOf(over)), c.build(ByteOrder.LITTLE_ENDIAN));
        BtfBlobBuilder d = small();
        int vlen = d.raw(0, BtfBlobBuilder.info(BtfKind.TYPEDEF, 3, false), 1);
        assertMessage(String.format("type [%d] (TYPEDEF) at offset 0x%x: vlen 3 must be 0 for this kind", vlen,
                d.offsetOf(vlen)), d.build(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void corruptXz() {
        byte[] xz = RealBlob.compressed();
        byte[] cut = Arrays.copyOf(xz, xz.length / 2);
        assertTrue(reject(cut).getMessage().startsWith("EINVAL: bad xz stream: "));
    }

    // ---- the real blob ----------------------------------------------------------------------------

    @Test
    void realBlobCutShort() {
        byte[] raw = RealBlob.raw();
        BtfHeader h = RealBlob.btf().header();
        for (int cut : new int[] {0, 1, 3, 23}) {
            assertMessage("truncated BTF: btf_header needs 24 bytes, " + cut + " remain", Arrays.copyOf(raw, cut));
        }
        long typeEnd = h.typeStart() + h.typeLen();
        for (int cut : new int[] {24, 4096, (int) (h.typeStart() + h.typeLen() / 2), (int) typeEnd - 1}) {
            assertMessage(String.format("bad btf_header: type section [0x18, 0x%x) (type_off at offset 0x8) ends beyond "
                    + "the blob of 0x%x bytes by %d bytes", typeEnd, cut, typeEnd - cut), Arrays.copyOf(raw, cut));
        }
        long strEnd = h.strStart() + h.strLen();
        for (int cut : new int[] {(int) typeEnd, (int) h.strStart() + 10, raw.length - 1}) {
            assertMessage(String.format("bad btf_header: string section [0x%x, 0x%x) (str_off at offset 0x10) ends beyond "
                    + "the blob of 0x%x bytes by %d bytes", h.strStart(), strEnd, cut, strEnd - cut),
                    Arrays.copyOf(raw, cut));
        }
    }

    @Test
    void realBlobWithATypeSectionEndingMidRecord() {
        Btf ref = RealBlob.btf();
        int task = ref.findType("task_struct", BtfKind.STRUCT).getAsInt();
        int vlen = ref.type(task).vlen();
        long off = ref.byteOffset(task);
        // The header now ends the type section 20 bytes into task_struct's members.
        byte[] bad = patch(RealBlob.raw(), ByteOrder.LITTLE_ENDIAN, 12, (int) (off - 24 + 12 + 20));
        assertMessage(String.format("truncated BTF: type [%d] (STRUCT) at offset 0x%x needs %d bytes for vlen %d, "
                + "32 remain", task, off, 12 + 12 * vlen, vlen), bad);
    }

    @Test
    void realBlobWithABadKindOrReference() {
        Btf ref = RealBlob.btf();
        byte[] raw = RealBlob.raw();
        int info = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getInt(24 + 4);
        int badInfo = (info & ~(0x1f << 24)) | 25 << 24;
        assertMessage(String.format("type [1] at offset 0x18: unknown kind 25 (info 0x%08x)", badInfo),
                patch(raw, ByteOrder.LITTLE_ENDIAN, 24 + 4, badInfo));

        int ptr = 1;
        while (ref.kind(ptr) != BtfKind.PTR) {
            ptr++;
        }
        long off = ref.byteOffset(ptr);
        assertMessage(String.format("type [%d] (PTR) at offset 0x%x: type refers to type [200000], but the last type "
                + "is [%d]", ptr, off, ref.typeCount()), patch(raw, ByteOrder.LITTLE_ENDIAN, (int) off + 8, 200_000));

        int func = ref.functionId("tcp_sendmsg").getAsInt();
        long fo = ref.byteOffset(func);
        assertMessage(String.format("type [%d] (FUNC) at offset 0x%x: type [%d] is PTR, not FUNC_PROTO", func, fo, ptr),
                patch(raw, ByteOrder.LITTLE_ENDIAN, (int) fo + 8, ptr));
    }
}
