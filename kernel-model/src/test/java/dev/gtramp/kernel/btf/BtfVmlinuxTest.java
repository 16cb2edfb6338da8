package dev.gtramp.kernel.btf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader against the real BTF of Linux 6.18.44 x86-64. Counts are the ones read off that kernel
 * (the resource's README); values of named types are checked against the kernel's C source.
 */
class BtfVmlinuxTest {

    @Test
    void blobIsTheOneTheReadmeRecords() throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(RealBlob.raw());
        assertEquals(RealBlob.SHA256, HexFormat.of().formatHex(digest));
    }

    @Test
    void headerDescribesTheBlob() {
        byte[] raw = RealBlob.raw();
        BtfHeader h = RealBlob.btf().header();
        assertEquals(BtfHeader.MAGIC, h.magic());
        assertEquals(1, h.version());
        assertEquals(0, h.flags());
        assertEquals(24, h.hdrLen());
        assertEquals(ByteOrder.LITTLE_ENDIAN, h.byteOrder());
        // pahole writes header, types, strings back to back.
        assertEquals(0, h.typeOff());
        assertEquals(h.typeLen(), h.strOff());
        assertEquals(raw.length, h.hdrLen() + h.strOff() + h.strLen());
        assertEquals(h.strLen(), RealBlob.btf().stringSectionSize());
    }

    @Test
    void everyFuncIsCountedOnceAndFoundByName() {
        Btf btf = RealBlob.btf();
        int[] ids = btf.functionIds();
        assertEquals(56_331, ids.length);
        assertEquals(56_331, btf.functionCount());
        Set<String> names = new HashSet<>();
        for (int id : ids) {
            assertEquals(BtfKind.FUNC, btf.kind(id));
            String name = btf.name(id);
            assertTrue(names.add(name), "duplicate FUNC name " + name);
            // Names are unique, so the index must map each back to its own id.
            assertEquals(id, btf.functionId(name).getAsInt(), name);
        }
        assertTrue(btf.functionId("no_such_function_in_vmlinux").isEmpty());
        assertTrue(btf.function("").isEmpty());
    }

    @Test
    void paramCountsMatchTheRunningKernel() {
        List<FunctionPrototype> fns = RealBlob.btf().functions();
        assertEquals(56_331, fns.size());
        assertEquals(1_119, fns.stream().filter(p -> p.paramCount() > 6).count());
        assertEquals(18, fns.stream().filter(p -> p.paramCount() > 12).count());
        // functions() is in type id order.
        int[] ids = RealBlob.btf().functionIds();
        for (int i = 0; i < ids.length; i += 997) {
            assertEquals(RealBlob.btf().name(ids[i]), fns.get(i).name());
        }
    }

    @Test
    void everyKindIsCounted() {
        Btf btf = RealBlob.btf();
        Map<BtfKind, Integer> hist = btf.kindHistogram();
        System.out.println("BTF kinds in linux-6.18 vmlinux: " + hist);
        // A 6.18 vmlinux built by a current pahole carries every kind the format has.
        assertEquals(EnumSet.range(BtfKind.INT, BtfKind.ENUM64), hist.keySet());
        assertEquals(btf.typeCount(), hist.values().stream().mapToInt(Integer::intValue).sum());
        assertEquals(56_331, hist.get(BtfKind.FUNC));
    }

    @Test
    void datasecPlacesEveryVar() {
        Btf btf = RealBlob.btf();
        int vars = 0;
        int placed = 0;
        for (int id = 1; id <= btf.typeCount(); id++) {
            BtfKind k = btf.kind(id);
            if (k == BtfKind.VAR) {
                vars++;
            } else if (k == BtfKind.DATASEC) {
                BtfType sec = btf.type(id);
                // pahole emits only per-CPU variables for vmlinux.
                assertEquals(".data..percpu", sec.name());
                for (BtfVarSecinfo e : sec.datasecEntries()) {
                    assertEquals(BtfKind.VAR, btf.kind(e.type()));
                    assertEquals(e.size(), btf.sizeOf(e.type()), btf.name(e.type()));
                    placed++;
                }
            }
        }
        assertEquals(vars, placed);
    }

    @Test
    void enum64ValuesMatchTheSource() {
        Btf btf = RealBlob.btf();
        // include/uapi/linux/perf_event.h: PERF_CONTEXT_HV = (__u64)-32, ... PERF_CONTEXT_MAX = (__u64)-4095.
        BtfType ctx = btf.type(btf.findType("perf_callchain_context", BtfKind.ENUM64).getAsInt());
        assertEquals(8, ctx.size());
        assertTrue(!ctx.enumSigned());
        List<BtfEnumValue> v = ctx.enumValues();
        assertEquals(new BtfEnumValue("PERF_CONTEXT_HV", -32L), v.get(0));
        assertEquals(new BtfEnumValue("PERF_CONTEXT_KERNEL", -128L), v.get(1));
        assertEquals(new BtfEnumValue("PERF_CONTEXT_MAX", -4095L), v.get(v.size() - 1));
        assertEquals("18446744073709551488", Long.toUnsignedString(v.get(1).value()));
        // include/crypto/blake2b.h: BLAKE2B_IV0 = 0x6A09E667F3BCC908ULL ... BLAKE2B_IV7.
        BtfType iv = btf.type(btf.findType("blake2b_iv", BtfKind.ENUM64).getAsInt());
        assertEquals(8, iv.vlen());
        assertEquals(new BtfEnumValue("BLAKE2B_IV0", 0x6A09E667F3BCC908L), iv.enumValues().get(0));
        assertEquals(new BtfEnumValue("BLAKE2B_IV7", 0x5BE0CD19137E2179L), iv.enumValues().get(7));
        assertEquals("enum blake2b_iv", btf.typeName(iv.id()));
    }

    @Test
    void kfuncsCarryTheirDeclTag() {
        Btf btf = RealBlob.btf();
        // net/bpf/test_run.c: __bpf_kfunc int bpf_modify_return_test(int a, int *b); pahole tags kfuncs
        // with decl_tag "bpf_kfunc" on the function itself (component_idx -1).
        int func = btf.functionId("bpf_modify_return_test").getAsInt();
        boolean found = false;
        for (int id = 1; id <= btf.typeCount(); id++) {
            if (btf.kind(id) == BtfKind.DECL_TAG && btf.type(id).type() == func) {
                assertEquals("bpf_kfunc", btf.type(id).name());
                assertEquals(-1, btf.type(id).declTagComponentIdx());
                found = true;
            }
        }
        assertTrue(found, "no DECL_TAG on bpf_modify_return_test");
    }

    @Test
    void structMembersAndBitfields() {
        Btf btf = RealBlob.btf();
        // include/linux/sched.h: char comm[TASK_COMM_LEN]; with TASK_COMM_LEN 16.
        BtfType task = btf.type(btf.findType("task_struct", BtfKind.STRUCT).getAsInt());
        BtfMember comm = task.members().stream().filter(m -> m.name().equals("comm")).findFirst().orElseThrow();
        assertEquals("char[16]", btf.typeName(comm.type()));
        assertEquals(16, btf.sizeOf(comm.type()));
        assertEquals(0, comm.bitOffset() % 8);
        assertEquals(BtfKind.ARRAY, btf.kind(comm.type()));
        assertEquals(16, btf.type(comm.type()).array().nelems());

        // include/linux/sockptr.h: typedef struct { union { void *kernel; void __user *user; };
        // bool is_kernel : 1; } sockptr_t; and include/linux/bpfptr.h: typedef sockptr_t bpfptr_t;
        int bpfptr = btf.findType("bpfptr_t", BtfKind.TYPEDEF).getAsInt();
        assertEquals("sockptr_t", btf.typeName(btf.type(bpfptr).type()));
        BtfType sockptr = btf.type(btf.resolve(bpfptr));
        assertEquals(BtfKind.STRUCT, sockptr.kind());
        assertEquals("struct {...}", btf.typeName(sockptr.id()));
        assertEquals(16, sockptr.size());
        assertTrue(sockptr.kindFlag(), "a struct with a bitfield is written with kind_flag");
        List<BtfMember> m = sockptr.members();
        assertEquals(2, m.size());
        assertEquals(new BtfMember("", m.get(0).type(), 0, 0), m.get(0));
        assertEquals("union {...}", btf.typeName(m.get(0).type()));
        assertEquals(List.of("kernel", "user"), btf.type(m.get(0).type()).members().stream().map(BtfMember::name).toList());
        assertEquals(new BtfMember("is_kernel", m.get(1).type(), 64, 1), m.get(1));
        assertEquals("bool", btf.typeName(m.get(1).type()));
    }

    @Test
    void bigEndianCopyReadsTheSame() {
        byte[] le = RealBlob.raw();
        Btf reference = RealBlob.btf();
        BtfHeader h = reference.header();
        // Every field of the type section is a 32-bit word, so swapping words converts it; strings are bytes.
        ByteBuffer in = ByteBuffer.wrap(le).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocate(le.length).order(ByteOrder.BIG_ENDIAN);
        out.putShort(in.getShort(0)).put(le[2]).put(le[3]);
        for (int off = 4; off < 24; off += 4) {
            out.putInt(off, in.getInt(off));
        }
        int typeStart = (int) h.typeStart();
        for (int off = typeStart; off < typeStart + h.typeLen(); off += 4) {
            out.putInt(off, in.getInt(off));
        }
        out.put((int) h.strStart(), le, (int) h.strStart(), (int) h.strLen());
        byte[] be = out.array();
        assertEquals((byte) 0xeb, be[0]);
        assertEquals((byte) 0x9f, be[1]);

        Btf btf = BtfReader.read(be);
        assertEquals(ByteOrder.BIG_ENDIAN, btf.byteOrder());
        assertEquals(reference.typeCount(), btf.typeCount());
        assertEquals(reference.kindHistogram(), btf.kindHistogram());
        assertEquals(reference.functions(), btf.functions());
        assertEquals(reference.type(btf.findType("blake2b_iv", BtfKind.ENUM64).getAsInt()).enumValues(),
                btf.type(btf.findType("blake2b_iv", BtfKind.ENUM64).getAsInt()).enumValues());
    }

    @Test
    void readsRawAndXzFilesAlike(@TempDir Path dir) throws Exception {
        Path xz = dir.resolve("vmlinux.btf.xz");
        Path raw = dir.resolve("vmlinux.btf");
        Files.write(xz, RealBlob.compressed());
        Files.write(raw, RealBlob.raw());
        Btf fromXz = BtfReader.read(xz);
        Btf fromRaw = BtfReader.read(raw);
        assertEquals(RealBlob.btf().typeCount(), fromXz.typeCount());
        assertEquals(fromRaw.typeCount(), fromXz.typeCount());
        assertEquals(fromRaw.functions(), fromXz.functions());
        try (var in = RealBlob.class.getResourceAsStream(RealBlob.RESOURCE)) {
            assertEquals(fromRaw.typeCount(), BtfReader.read(in).typeCount());
        }
        assertTrue(BtfReader.isXz(RealBlob.compressed()));
        assertTrue(!BtfReader.isXz(RealBlob.raw()));
    }

    @Test
    void readingAByteBufferLeavesItAlone() {
        byte[] raw = RealBlob.raw();
        byte[] padded = new byte[raw.length + 8];
        System.arraycopy(raw, 0, padded, 8, raw.length);
        ByteBuffer buf = ByteBuffer.wrap(padded).position(8).order(ByteOrder.BIG_ENDIAN);
        Btf btf = BtfReader.read(buf);
        assertEquals(56_331, btf.functionCount());
        assertEquals(8, buf.position());
        assertEquals(padded.length, buf.limit());
        assertEquals(ByteOrder.BIG_ENDIAN, buf.order());
        byte[] copy = RealBlob.raw();
        assertArrayEquals(copy, raw, "the input array is not modified");
    }

    @Test
    void parsesTheRealBlobWellUnderASecond() {
        byte[] raw = RealBlob.raw();
        for (int i = 0; i < 3; i++) {
            BtfReader.read(raw);
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            Btf btf = BtfReader.read(raw);
            best = Math.min(best, System.nanoTime() - t0);
            assertEquals(56_331, btf.functionCount());
        }
        System.out.printf("parsed %d bytes of BTF in %.1f ms (best of 5)%n", raw.length, best / 1e6);
        assertTrue(best < 500_000_000L, "parse took " + best / 1_000_000 + " ms");
    }
}
