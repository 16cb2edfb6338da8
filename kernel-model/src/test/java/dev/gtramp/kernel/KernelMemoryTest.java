package dev.gtramp.kernel;

import dev.gtramp.kernel.fault.FaultInjector;
import dev.gtramp.kernel.fault.FaultSpec;
import dev.gtramp.kernel.mm.Allocator;
import dev.gtramp.kernel.mm.AllocatorConfig;
import dev.gtramp.kernel.mm.KasanException;
import dev.gtramp.kernel.mm.KasanReport;
import dev.gtramp.kernel.mm.MemorySnapshot;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelMemoryTest {
    private final KernelMemory mem = new KernelMemory();
    private final String me = Thread.currentThread().getName();

    @Test
    void blocksAreZeroedLittleEndianAndAligned() {
        long a = mem.alloc("struct foo", 24);
        assertEquals(0, a & 15);
        assertEquals(0, mem.load64(a + 16));
        mem.store64(a, 0x1122334455667788L);
        assertEquals(0x88, mem.load8(a) & 0xff, "little-endian");
        assertEquals(0x55667788, mem.load32(a));
        assertEquals(0x7788, mem.load16(a));
        mem.store16(a + 8, (short) -2);
        mem.store8(a + 10, (byte) 7);
        assertEquals(0x07fffe, mem.load32(a + 8));
        assertEquals(1, mem.liveBlocks());
        mem.free(a);
        assertEquals(0, mem.liveBlocks());
    }

    @Test
    void accessesOutsideLiveBlocksFaultNamingTheAddress() {
        long a = mem.alloc("struct bpf_fentry_test_t", 8);
        KernelException e = assertThrows(KernelException.class, () -> mem.load64(a + 4));
        assertEquals(Errno.EFAULT, e.errno());
        assertTrue(e.getMessage().contains("out of bounds of struct bpf_fentry_test_t"), e.getMessage());
        e = assertThrows(KernelException.class, () -> mem.load64(0));
        assertTrue(e.getMessage().contains("0x0") && e.getMessage().contains("no kernel memory"), e.getMessage());
        mem.free(a);
        e = assertThrows(KernelException.class, () -> mem.load64(a));
        assertEquals(Errno.EFAULT, e.errno());
        e = assertThrows(KernelException.class, () -> mem.free(a));
        assertTrue(e.getMessage().contains("kfree"), e.getMessage());
        assertThrows(KernelException.class, () -> mem.alloc("x", 0));
    }

    @Test
    void blocksAreAccountedByTheirTypeLabel() {
        long a = mem.alloc("struct bpf_fentry_test_t", 8);
        long b = mem.alloc("struct bpf_fentry_test_t", 8);
        long c = mem.alloc("u32", 4);
        MemorySnapshot s = mem.allocator().snapshot();
        assertEquals(new MemorySnapshot.TypeUsage(2, 16, 2, 0), s.usage("struct bpf_fentry_test_t"));
        assertEquals(new MemorySnapshot.TypeUsage(1, 4, 1, 0), s.usage("u32"));
        mem.free(a);
        mem.free(b);
        mem.free(c);
        assertEquals(0, mem.allocator().snapshot().liveObjects());
        assertEquals(0, mem.liveBlocks());
    }

    @Test
    void anAccessToAFreedBlockIsAUseAfterFreeOfItsType() {
        long a = mem.alloc("struct bpf_fentry_test_t", 8);
        mem.free(a);
        KasanException e = assertThrows(KasanException.class, () -> mem.load32(a + 4));
        assertEquals(Errno.EFAULT, e.errno());
        assertEquals(String.format("BUG: KASAN: use-after-free in load32 at %#x: struct bpf_fentry_test_t object freed by thread %s",
                a + 4, me), e.report().title());
        assertEquals(KasanReport.Kind.USE_AFTER_FREE, e.report().kind());
        e = assertThrows(KasanException.class, () -> mem.store8(a, (byte) 1));
        assertTrue(e.getMessage().contains("use-after-free in store8 at "), e.getMessage());
        // Just past the block is still out of bounds, not a use after free.
        KernelException oob = assertThrows(KernelException.class, () -> mem.load8(a + 8));
        assertTrue(oob.getMessage().contains("out of bounds of struct bpf_fentry_test_t"), oob.getMessage());
        assertEquals(2, mem.allocator().violations());
    }

    @Test
    void aSecondKfreeIsADoubleFree() {
        long a = mem.alloc("int", 4);
        mem.free(a);
        KasanException e = assertThrows(KasanException.class, () -> mem.free(a));
        assertEquals("BUG: KASAN: double-free in kfree: int object freed by thread " + me, e.report().title());
        assertEquals(new MemorySnapshot.TypeUsage(0, 0, 1, 1), mem.allocator().snapshot().usage("int"));
    }

    @Test
    void aKfreeInsideABlockIsAnInvalidFree() {
        long a = mem.alloc("struct bpf_fentry_test_t", 8);
        KasanException e = assertThrows(KasanException.class, () -> mem.free(a + 4));
        assertEquals(String.format("BUG: KASAN: invalid-free in kfree: %#x is 4 bytes inside struct bpf_fentry_test_t (8 bytes at %#x)",
                a + 4, a), e.report().title());
        assertEquals(1, mem.liveBlocks());
        mem.free(a);
    }

    @Test
    void recordOnlyReportsAndReadsThePoison() {
        KernelLog log = new KernelLog(false);
        KernelMemory m = new KernelMemory(new Allocator(log, new FaultInjector(),
                AllocatorConfig.defaults().withPanicOnViolation(false)));
        long a = m.alloc("u64", 8);
        m.store64(a, 42);
        m.free(a);
        assertEquals(0x6b6b6b6b6b6b6b6bL, m.load64(a), "POISON_FREE");
        m.free(a);
        List<KasanReport> reports = m.allocator().reports();
        assertEquals(List.of(KasanReport.Kind.USE_AFTER_FREE, KasanReport.Kind.DOUBLE_FREE),
                reports.stream().map(KasanReport::kind).toList());
        List<KernelLog.Entry> logged = log.entries(en -> en.facility().equals("kasan"));
        assertEquals(2, logged.size());
        assertTrue(logged.get(0).message().startsWith(String.format("BUG: KASAN: use-after-free in load64 at %#x: u64 object", a)),
                logged.get(0).message());
        assertEquals(0, m.liveBlocks());
    }

    @Test
    void aBlockLeavingTheQuarantineIsUnmapped() {
        long first = mem.alloc("int", 4);
        mem.free(first);
        List<Long> more = new ArrayList<>();
        for (int i = 0; i < KernelMemory.QUARANTINE_BLOCKS - 1; i++) {
            more.add(mem.alloc("int", 4));
        }
        more.forEach(mem::free);
        assertThrows(KasanException.class, () -> mem.load32(first), "still quarantined");
        long last = mem.alloc("int", 4);
        mem.free(last); // pushes the first block out
        KernelException e = assertThrows(KernelException.class, () -> mem.load32(first));
        assertTrue(e.getMessage().contains("no kernel memory mapped there"), e.getMessage());
        assertThrows(KasanException.class, () -> mem.load32(last));
        assertThrows(KasanException.class, () -> mem.load32(more.get(0)));
    }

    @Test
    void aKzallocFailsWithEnomemWhenItsFaultPointFires() {
        FaultInjector faults = new FaultInjector();
        KernelMemory m = new KernelMemory(new Allocator(new KernelLog(false), faults, AllocatorConfig.defaults()));
        faults.point("alloc:struct bpf_fentry_test_t").arm(FaultSpec.nth(2));
        long a = m.alloc("struct bpf_fentry_test_t", 8);
        KernelException e = assertThrows(KernelException.class, () -> m.alloc("struct bpf_fentry_test_t", 8));
        assertEquals(Errno.ENOMEM, e.errno());
        assertTrue(e.getMessage().contains("struct bpf_fentry_test_t"), e.getMessage());
        assertEquals(1, m.liveBlocks());
        assertEquals(1, m.allocator().snapshot().usage("struct bpf_fentry_test_t").liveObjects());
        m.free(a);
    }
}
