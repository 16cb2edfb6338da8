package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Errno;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

import static dev.gtramp.kernel.bpf.BpfUpdateFlags.BPF_ANY;
import static dev.gtramp.kernel.bpf.BpfUpdateFlags.BPF_EXIST;
import static dev.gtramp.kernel.bpf.BpfUpdateFlags.BPF_NOEXIST;
import static dev.gtramp.kernel.bpf.MapAsserts.assertCreateError;
import static dev.gtramp.kernel.bpf.MapAsserts.assertMapError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BPF_MAP_TYPE_HASH against {@code kernel/bpf/hashtab.c}. */
class BpfHashMapTest extends MapTestBase {
    private static final int EINVAL = -Errno.EINVAL.code();
    private static final int EEXIST = -Errno.EEXIST.code();
    private static final int ENOENT = -Errno.ENOENT.code();
    private static final int E2BIG = -Errno.E2BIG.code();

    @Test
    void createChecksMaxEntries() {
        BpfHashMap map = BpfHashMap.create(kernel, "conns", 8);
        assertEquals(BpfMapType.HASH, map.type());
        assertEquals("BPF_MAP_TYPE_HASH", map.type().kernelName());
        assertEquals(1, map.type().id());
        assertEquals(8, map.maxEntries());
        assertEquals(0, map.size());
        assertCreateError(Errno.EINVAL, "conns", () -> BpfHashMap.create(kernel, "conns", 0));
    }

    @Test
    void helperUpdateReturnsTheKernelsCodes() {
        BpfHashMap map = BpfHashMap.create(kernel, "conns", 8);
        assertEquals(ENOENT, map.update(5, 1, BPF_EXIST), "BPF_EXIST on a missing key");
        assertFalse(map.contains(5));
        assertEquals(0, map.update(5, 1, BPF_NOEXIST));
        assertEquals(EEXIST, map.update(5, 2, BPF_NOEXIST), "BPF_NOEXIST on an existing key");
        assertEquals(1, map.lookupOrDefault(5, -1), "a failed update changes nothing");
        assertEquals(0, map.update(5, 3, BPF_EXIST));
        assertEquals(0, map.update(5, 4, BPF_ANY));
        assertEquals(0, map.update(6, 60, BPF_ANY));
        assertEquals(EINVAL, map.update(7, 1, 3));
        assertEquals(EINVAL, map.update(7, 1, -1));
        assertFalse(map.contains(7));
        assertTrue(map.contains(5));
        assertEquals(4, map.lookupOrDefault(5, -1));
        assertEquals(-1, map.lookupOrDefault(7, -1));
        assertEquals(4, map.fetchAdd(5, 10), "fetchAdd returns the old value");
        assertEquals(14, map.lookupOrDefault(5, -1));
        assertEquals(2, map.size());
        assertEquals(0, map.delete(5));
        assertEquals(ENOENT, map.delete(5));
        assertFalse(map.contains(5));
        assertEquals(1, map.size());
        assertMapError(Errno.ENOENT, map, "key 5 ", () -> map.fetchAdd(5, 1));
    }

    @Test
    void anyLongIsAKey() {
        BpfHashMap map = BpfHashMap.create(kernel, "keys", 8);
        long[] keys = {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 1};
        for (long k : keys) {
            assertEquals(0, map.update(k, ~k, BPF_NOEXIST), "key " + k);
        }
        for (long k : keys) {
            assertEquals(OptionalLong.of(~k), map.lookupElem(k), "key " + k);
        }
        assertEquals(keys.length, map.size());
        Map<Long, Long> expected = new TreeMap<>();
        for (long k : keys) {
            expected.put(k, ~k);
        }
        assertEquals(expected, map.snapshot());
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(map.snapshot().keySet()), "sorted by key");
    }

    @Test
    void aFullMapRefusesNewKeysButUpdatesOldOnes() {
        BpfHashMap map = BpfHashMap.create(kernel, "small", 3);
        for (long k = 1; k <= 3; k++) {
            assertEquals(0, map.update(k, k, BPF_ANY));
        }
        assertEquals(E2BIG, map.update(4, 4, BPF_ANY));
        assertEquals(E2BIG, map.update(4, 4, BPF_NOEXIST));
        assertEquals(ENOENT, map.update(4, 4, BPF_EXIST), "BPF_EXIST fails on the key first");
        assertEquals(EEXIST, map.update(2, 0, BPF_NOEXIST), "an existing key is EEXIST, not E2BIG");
        assertEquals(0, map.update(2, 20, BPF_ANY), "a full map still updates in place");
        assertEquals(0, map.update(3, 30, BPF_EXIST));
        assertEquals(3, map.size());
        assertFalse(map.contains(4));
        assertEquals(0, map.delete(1));
        assertEquals(0, map.update(4, 4, BPF_NOEXIST), "a delete makes room");
        assertEquals(E2BIG, map.update(5, 5, BPF_ANY));
        assertEquals(Map.of(2L, 20L, 3L, 30L, 4L, 4L), map.snapshot());
    }

    @Test
    void syscallCommandsThrowTheErrnoNamingMapAndKey() {
        BpfHashMap map = BpfHashMap.create(kernel, "small", 2);
        assertEquals(OptionalLong.empty(), map.lookupElem(9));
        map.updateElem(9, 90, BPF_NOEXIST);
        assertEquals(OptionalLong.of(90), map.lookupElem(9));
        assertMapError(Errno.EEXIST, map, "key 9 ", () -> map.updateElem(9, 1, BPF_NOEXIST));
        assertMapError(Errno.ENOENT, map, "key 8 ", () -> map.updateElem(8, 1, BPF_EXIST));
        assertMapError(Errno.EINVAL, map, "flags 5", () -> map.updateElem(8, 1, 5));
        map.updateElem(-7, 70, BPF_ANY);
        assertMapError(Errno.E2BIG, map, "key 8:", () -> map.updateElem(8, 1, BPF_ANY));
        map.deleteElem(9);
        assertMapError(Errno.ENOENT, map, "key 9 ", () -> map.deleteElem(9));
        assertEquals(Map.of(-7L, 70L), map.snapshot());
    }

    @Test
    void getNextKeyVisitsEveryKeyOnce() {
        BpfHashMap map = BpfHashMap.create(kernel, "walk", 64);
        assertMapError(Errno.ENOENT, map, "empty", () -> map.getNextKey(null));
        assertMapError(Errno.ENOENT, map, "empty", () -> map.getNextKey(3L));
        Set<Long> keys = new HashSet<>();
        for (long k = -20; k < 20; k += 3) {
            map.updateElem(k * 1_000_003, k, BPF_NOEXIST);
            keys.add(k * 1_000_003);
        }
        map.updateElem(0, 0, BPF_NOEXIST);
        keys.add(0L);
        List<Long> walk = new ArrayList<>();
        long k = map.getNextKey(null);
        while (true) {
            walk.add(k);
            long cur = k;
            if (walk.size() == keys.size()) {
                assertMapError(Errno.ENOENT, map, "key " + cur + " is the last", () -> map.getNextKey(cur));
                break;
            }
            k = map.getNextKey(cur);
        }
        assertEquals(keys, new HashSet<>(walk));
        assertEquals(keys.size(), walk.size(), "no key twice");
        assertEquals(walk.get(0), map.getNextKey(12345L), "a missing key restarts at the first");
    }

    @Test
    void twoCpusFillTheMapToExactlyMaxEntries() throws Exception {
        int max = 20_000;
        BpfHashMap map = BpfHashMap.create(kernel, "fill", max);
        int[][] rcs = new int[2][max];
        onEachCpu(cpu -> {
            int[] mine = rcs[cpu.id()];
            for (int i = 0; i < max; i++) {
                long key = 2L * i + cpu.id();
                mine[i] = map.update(key, key * 10, BPF_NOEXIST);
            }
        });
        int inserted = 0;
        int full = 0;
        for (int cpu = 0; cpu < 2; cpu++) {
            for (int i = 0; i < max; i++) {
                long key = 2L * i + cpu;
                int rc = rcs[cpu][i];
                if (rc == 0) {
                    inserted++;
                    assertEquals(key * 10, map.lookupOrDefault(key, -1));
                } else {
                    assertEquals(E2BIG, rc, "key " + key);
                    assertFalse(map.contains(key));
                    full++;
                }
            }
        }
        assertEquals(max, inserted);
        assertEquals(max, full);
        assertEquals(max, map.size());
        assertEquals(max, map.snapshot().size());
        assertEquals(E2BIG, map.update(-1, 0, BPF_ANY));
        assertMapError(Errno.E2BIG, map, "key -1:", () -> map.updateElem(-1, 0, BPF_ANY));
    }

    @Test
    void twoCpusInsertingTheSameKeysLinkEachOnce() throws Exception {
        int keys = 20_000;
        BpfHashMap map = BpfHashMap.create(kernel, "race", 2 * keys);
        int[][] rcs = new int[2][keys];
        AtomicLong arrivals = new AtomicLong();
        onEachCpu(cpu -> {
            for (int k = 0; k < keys; k++) {
                // Both CPUs start each key together, so both often miss it and race to link it.
                arrivals.incrementAndGet();
                while (arrivals.get() < 2L * (k + 1)) {
                    Thread.onSpinWait();
                }
                rcs[cpu.id()][k] = map.update(k, cpu.id(), BPF_NOEXIST);
            }
        });
        for (int k = 0; k < keys; k++) {
            int a = rcs[0][k];
            int b = rcs[1][k];
            assertTrue(a == 0 && b == EEXIST || a == EEXIST && b == 0, "key " + k + ": " + a + ", " + b);
            assertEquals(a == 0 ? 0 : 1, map.lookupOrDefault(k, -1), "the winner's value");
        }
        assertEquals(keys, map.size(), "each race gave its loser's reservation back");
    }

    @Test
    void insertsAndDeletesOnTwoCpusKeepTheCountExact() throws Exception {
        int rounds = 100_000;
        // Each CPU holds at most two keys and reserves for one more: four never runs out.
        BpfHashMap map = BpfHashMap.create(kernel, "churn", 4);
        onEachCpu(cpu -> {
            long a = 10 + cpu.id();
            long b = 20 + cpu.id();
            for (int i = 0; i < rounds; i++) {
                assertEquals(0, map.update(a, i, BPF_NOEXIST));
                assertEquals(0, map.update(b, i, BPF_ANY));
                assertEquals(0, map.delete(a));
                assertEquals(0, map.delete(b));
            }
        });
        assertEquals(0, map.size());
        assertEquals(Map.of(), map.snapshot());
        for (long k = 0; k < 4; k++) {
            assertEquals(0, map.update(k, k, BPF_NOEXIST), "all four units were given back");
        }
        assertEquals(E2BIG, map.update(4, 4, BPF_NOEXIST));
    }

    @Test
    void fetchAddFromTwoCpusLosesNoAdd() throws Exception {
        int n = 200_000;
        BpfHashMap map = BpfHashMap.create(kernel, "hits", 16);
        map.updateElem(42, 0, BPF_NOEXIST);
        long[][] olds = new long[2][n];
        onEachCpu(cpu -> {
            for (int i = 0; i < n; i++) {
                olds[cpu.id()][i] = map.fetchAdd(42, 1);
            }
        });
        assertEquals(OptionalLong.of(2L * n), map.lookupElem(42));
        MapAsserts.assertEachOldValueOnce(olds, 2 * n);
    }
}
