package dev.gtramp.kernel;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelMemoryTest {
    private final KernelMemory mem = new KernelMemory();

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
}
