package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.Test;

import static dev.gtramp.kernel.bpf.BpfUpdateFlags.BPF_ANY;
import static dev.gtramp.kernel.bpf.BpfUpdateFlags.BPF_EXIST;
import static dev.gtramp.kernel.bpf.BpfUpdateFlags.BPF_NOEXIST;
import static dev.gtramp.kernel.bpf.MapAsserts.assertCreateError;
import static dev.gtramp.kernel.bpf.MapAsserts.assertMapError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BPF_MAP_TYPE_PERCPU_ARRAY against {@code kernel/bpf/arraymap.c}. */
class BpfPercpuArrayMapTest extends MapTestBase {
    @Test
    void createTakesTheKernelsCpus() {
        BpfPercpuArrayMap map = BpfPercpuArrayMap.create(kernel, "pcpu", 3);
        assertEquals(2, map.cpus());
        assertEquals(BpfMapType.PERCPU_ARRAY, map.type());
        assertEquals("BPF_MAP_TYPE_PERCPU_ARRAY", map.type().kernelName());
        assertEquals(6, map.type().id());
        assertEquals(3, map.maxEntries());
        assertArrayEquals(new long[] {0, 0}, map.lookupElem(2));
        assertCreateError(Errno.EINVAL, "empty", () -> BpfPercpuArrayMap.create(kernel, "empty", 0));
        assertCreateError(Errno.E2BIG, "huge", () -> BpfPercpuArrayMap.create(kernel, "huge", Integer.MAX_VALUE));
    }

    @Test
    void aProgramSeesOnlyItsCpusValue() {
        BpfPercpuArrayMap map = BpfPercpuArrayMap.create(kernel, "pcpu", 3);
        try (Cpu cpu = kernel.bindCpu(1)) {
            map.update(cpu, 0, 10);
            assertEquals(10, map.lookup(cpu, 0));
            assertEquals(15, map.add(cpu, 0, 5), "add returns the new value");
            assertEquals(-1, map.add(cpu, 2, -1));
            assertEquals(0, map.lookup(cpu, 1));
        }
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0, map.lookup(cpu, 0), "cpu 1's value is not cpu 0's");
            map.add(cpu, 0, 100);
        }
        assertArrayEquals(new long[] {100, 15}, map.lookupElem(0));
        assertEquals(115, map.sum(0));
        assertArrayEquals(new long[] {0, -1}, map.lookupElem(2));
        assertEquals(-1, map.sum(2));
        assertEquals(0, map.sum(1));
    }

    @Test
    void keysOutOfRangeFailAsTheKernelDoes() {
        BpfPercpuArrayMap map = BpfPercpuArrayMap.create(kernel, "pcpu", 3);
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertFalse(map.contains(3));
            assertTrue(map.contains(2));
            assertMapError(Errno.ENOENT, map, "key 3 ", () -> map.lookup(cpu, 3));
            assertMapError(Errno.ENOENT, map, "key 4294967295 ", () -> map.update(cpu, -1, 1));
            assertMapError(Errno.ENOENT, map, "key 3 ", () -> map.add(cpu, 3, 1));
        }
        assertMapError(Errno.ENOENT, map, "key 3 ", () -> map.lookupElem(3));
        assertMapError(Errno.ENOENT, map, "key 5 ", () -> map.sum(5));
    }

    @Test
    void syscallUpdateSetsEveryCpusValue() {
        BpfPercpuArrayMap map = BpfPercpuArrayMap.create(kernel, "pcpu", 3);
        map.updateElem(1, new long[] {4, 5}, BPF_ANY);
        assertArrayEquals(new long[] {4, 5}, map.lookupElem(1));
        map.updateElem(1, new long[] {6, 7}, BPF_EXIST);
        assertArrayEquals(new long[] {6, 7}, map.lookupElem(1));
        try (Cpu cpu = kernel.bindCpu(1)) {
            assertEquals(7, map.lookup(cpu, 1));
        }
        assertMapError(Errno.EEXIST, map, "key 1", () -> map.updateElem(1, new long[] {0, 0}, BPF_NOEXIST));
        assertMapError(Errno.E2BIG, map, "key 3 ", () -> map.updateElem(3, new long[] {0, 0}, BPF_ANY));
        assertMapError(Errno.EINVAL, map, "flags 3", () -> map.updateElem(1, new long[] {0, 0}, 3));
        assertMapError(Errno.EINVAL, map, "3 values for 2 cpus", () -> map.updateElem(1, new long[] {0, 0, 0}, BPF_ANY));
        assertArrayEquals(new long[] {6, 7}, map.lookupElem(1), "failed updates change nothing");
        assertMapError(Errno.EINVAL, map, "key 1", () -> map.deleteElem(1));
        assertEquals(0, map.getNextKey(null));
        assertEquals(2, map.getNextKey(1));
        assertMapError(Errno.ENOENT, map, "key 2 is the last", () -> map.getNextKey(2));
    }

    @Test
    void everyCpusKeysLieOnCacheLinesOfTheirOwn() {
        for (int width : new int[] {1, 5, 8, 16, 17}) {
            PerCpuSlots slots = new PerCpuSlots(3, width);
            assertTrue(slots.index(0, 0) >= PerCpuSlots.PAD, "padding before cpu 0");
            for (int cpu = 0; cpu + 1 < 3; cpu++) {
                int gap = slots.index(cpu + 1, 0) - slots.index(cpu, width - 1) - 1;
                assertTrue(gap >= PerCpuSlots.PAD, "width " + width + ": " + gap + " longs between cpu "
                        + cpu + " and cpu " + (cpu + 1));
            }
            KernelException e = assertThrows(KernelException.class, () -> slots.index(3, 0));
            assertEquals(Errno.EINVAL, e.errno());
        }
    }

    @Test
    void addsOnTwoCpusSumExactlyAndAReaderSeesTheSumGrow() throws Exception {
        int n = 500_000;
        BpfPercpuArrayMap map = BpfPercpuArrayMap.create(kernel, "pcpu", 4);
        long reads = onEachCpu(cpu -> {
            for (int i = 0; i < n; i++) {
                map.add(cpu, 1, 1);
                map.add(cpu, 2, cpu.id() + 1);
            }
        }, () -> {
            // Each slot is read opaque, so each read of it is at least the last: the sum never drops.
            long last = 0;
            long count = 0;
            do {
                long s = map.sum(1);
                assertTrue(s >= last, "sum went from " + last + " to " + s);
                assertTrue(s <= 2L * n, "sum " + s);
                last = s;
                count++;
            } while (last < 2L * n);
            return count;
        });
        assertTrue(reads > 0);
        assertArrayEquals(new long[] {n, n}, map.lookupElem(1));
        assertEquals(2L * n, map.sum(1));
        assertArrayEquals(new long[] {n, 2L * n}, map.lookupElem(2));
        assertEquals(3L * n, map.sum(2));
        assertArrayEquals(new long[] {0, 0}, map.lookupElem(0));
        assertArrayEquals(new long[] {0, 0}, map.lookupElem(3));
    }
}
