package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Errno;
import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static dev.gtramp.kernel.bpf.BpfUpdateFlags.BPF_ANY;
import static dev.gtramp.kernel.bpf.BpfUpdateFlags.BPF_EXIST;
import static dev.gtramp.kernel.bpf.BpfUpdateFlags.BPF_NOEXIST;
import static dev.gtramp.kernel.bpf.MapAsserts.assertCreateError;
import static dev.gtramp.kernel.bpf.MapAsserts.assertMapError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BPF_MAP_TYPE_ARRAY against {@code kernel/bpf/arraymap.c}. */
class BpfArrayMapTest extends MapTestBase {
    @Test
    void createChecksNameAndMaxEntries() {
        BpfArrayMap map = BpfArrayMap.create(kernel, "counts", 4);
        assertEquals("counts", map.name());
        assertEquals(BpfMapType.ARRAY, map.type());
        assertEquals("BPF_MAP_TYPE_ARRAY", map.type().kernelName());
        assertEquals(2, map.type().id());
        assertEquals(4, map.maxEntries());
        assertEquals("BPF_MAP_TYPE_ARRAY 'counts'", map.toString());
        assertCreateError(Errno.EINVAL, "zero", () -> BpfArrayMap.create(kernel, "zero", 0));
        assertCreateError(Errno.EINVAL, "neg", () -> BpfArrayMap.create(kernel, "neg", -1));
        assertCreateError(Errno.EINVAL, "a_name_of_16_chr", () -> BpfArrayMap.create(kernel, "a_name_of_16_chr", 1));
        assertCreateError(Errno.EINVAL, "a-b", () -> BpfArrayMap.create(kernel, "a-b", 1));
        assertEquals("a_name.of_15ch", BpfArrayMap.create(kernel, "a_name.of_15ch", 1).name());
        assertEquals("", BpfArrayMap.create(kernel, "", 1).name(), "the kernel allows an empty name");
    }

    @Test
    void programSideReadsWritesAndAddsZeroInitialisedElements() {
        BpfArrayMap map = BpfArrayMap.create(kernel, "counts", 4);
        for (int k = 0; k < 4; k++) {
            assertTrue(map.contains(k));
            assertEquals(0, map.lookup(k));
        }
        map.update(1, 40);
        assertEquals(40, map.fetchAdd(1, 2), "fetchAdd returns the old value");
        assertEquals(42, map.lookup(1));
        assertEquals(0, map.fetchAdd(3, -5));
        assertEquals(-5, map.lookup(3));
        assertEquals(0, map.lookup(0), "other elements untouched");
        assertEquals(0, map.lookup(2));
    }

    @Test
    void programSideKeyOutOfRangeIsTheNullOfALookup() {
        BpfArrayMap map = BpfArrayMap.create(kernel, "counts", 4);
        assertFalse(map.contains(4));
        assertFalse(map.contains(-1), "-1 is u32 4294967295");
        assertMapError(Errno.ENOENT, map, "key 4 ", () -> map.lookup(4));
        assertMapError(Errno.ENOENT, map, "key 4294967295 ", () -> map.lookup(-1));
        assertMapError(Errno.ENOENT, map, "key 7 ", () -> map.update(7, 1));
        assertMapError(Errno.ENOENT, map, "key 4 ", () -> map.fetchAdd(4, 1));
    }

    @Test
    void syscallLookupAndUpdateFollowArrayMapUpdateElem() {
        BpfArrayMap map = BpfArrayMap.create(kernel, "counts", 4);
        assertEquals(OptionalLong.of(0), map.lookupElem(2));
        assertEquals(OptionalLong.empty(), map.lookupElem(4));
        assertEquals(OptionalLong.empty(), map.lookupElem(-1));
        map.updateElem(2, 7, BPF_ANY);
        assertEquals(OptionalLong.of(7), map.lookupElem(2));
        map.updateElem(2, 8, BPF_EXIST);
        assertEquals(8, map.lookup(2));
        assertMapError(Errno.EEXIST, map, "key 2", () -> map.updateElem(2, 9, BPF_NOEXIST));
        assertEquals(8, map.lookup(2), "a failed update changes nothing");
        assertMapError(Errno.E2BIG, map, "key 4 ", () -> map.updateElem(4, 1, BPF_ANY));
        assertMapError(Errno.E2BIG, map, "key 4 ", () -> map.updateElem(4, 1, BPF_NOEXIST));
        assertMapError(Errno.EINVAL, map, "flags 3", () -> map.updateElem(0, 1, 3));
        assertMapError(Errno.EINVAL, map, "flags -1", () -> map.updateElem(0, 1, -1));
        assertMapError(Errno.EINVAL, map, "flags 4", () -> map.updateElem(9, 1, 4));
        assertMapError(Errno.EINVAL, map, "key 1", () -> map.deleteElem(1));
        assertEquals(0, map.lookup(1), "delete leaves the element");
    }

    @Test
    void getNextKeyWalksEveryIndex() {
        BpfArrayMap map = BpfArrayMap.create(kernel, "counts", 3);
        assertEquals(0, map.getNextKey(null));
        assertEquals(1, map.getNextKey(0));
        assertEquals(2, map.getNextKey(1));
        assertMapError(Errno.ENOENT, map, "key 2 is the last", () -> map.getNextKey(2));
        assertEquals(0, map.getNextKey(3), "a key out of range restarts");
        assertEquals(0, map.getNextKey(-1));
        BpfArrayMap one = BpfArrayMap.create(kernel, "one", 1);
        assertEquals(0, one.getNextKey(null));
        assertMapError(Errno.ENOENT, one, "key 0", () -> one.getNextKey(0));
    }

    @Test
    void fetchAddFromTwoCpusLosesNoAddAndReturnsEachOldValueOnce() throws Exception {
        int n = 200_000;
        BpfArrayMap map = BpfArrayMap.create(kernel, "hits", 4);
        long[][] olds = new long[2][n];
        onEachCpu(cpu -> {
            long[] mine = olds[cpu.id()];
            for (int i = 0; i < n; i++) {
                mine[i] = map.fetchAdd(0, 1);
                map.update(1 + cpu.id(), i + 1);
            }
        });
        assertEquals(2L * n, map.lookup(0));
        MapAsserts.assertEachOldValueOnce(olds, 2 * n);
        assertEquals(n, map.lookup(1));
        assertEquals(n, map.lookup(2));
        assertEquals(0, map.lookup(3));
    }
}
